// The bookkeeping of the per-connection domain handle cache (lib/objects/domain.ts's module doc: what
// it caches and when an entry is dropped): entries keyed by UUID, counters, release and invalidation.
// The wrappers themselves are made in ./domain.ts; this module names connections and domains only by
// the members it reads, so it imports nothing of the object layer (no member in its import cycle).
import { kInternals } from "../_internals.ts";
import { UUID_STRING_BUFLEN } from "../ffi/constants.ts";
import { libvirt } from "../ffi/library.ts";

/** @internal A connection, as far as the cache needs it: the key of its libvirt connection. */
export interface CacheOwner {
  /** The connection's gate: `identity` is the same object for every view of one libvirt connection. */
  readonly [kInternals]: { readonly identity: object };
}

/** @internal A Domain, as far as {@link invalidateDomain} needs it. */
export interface CachedHandle {
  /** The connection the handle belongs to. */
  readonly connection: CacheOwner;
  /** True once freed. */
  readonly freed: boolean;
  /** The UUID (a local call on first read). */
  readonly uuid: string;
  /** The UUID if already read, else undefined. */
  readonly knownUuid: string | undefined;
}

/** @internal One domain's entry: the UUID lookups' shared pointer and its live wrappers. */
export interface CacheEntry {
  uuid: string;
  /**
   * The pointer new UUID-lookup wrappers share. The entry holds a libvirt reference of its own on it
   * (each wrapper holds another), so it stays valid whichever wrapper is freed first.
   */
  pointer: Deno.PointerObject;
  /** Live wrappers that registered through this entry. */
  wrappers: number;
  /** True once the entry dropped its reference (last wrapper freed, or invalidated). */
  released: boolean;
}

interface DomainCache {
  entries: Map<string, CacheEntry>;
  hits: number;
  misses: number;
}

// keyed by the libvirt connection, not the Connection object: a pool lease's view shares its cache
const caches = new WeakMap<object, DomainCache>();

/** @internal The cache of a connection (made on first use). */
export function cacheOf(connection: CacheOwner): DomainCache {
  let cache = caches.get(connection[kInternals].identity);
  if (cache === undefined) {
    cache = { entries: new Map(), hits: 0, misses: 0 };
    caches.set(connection[kInternals].identity, cache);
  }
  return cache;
}

// a local call, synchronous: one buffer serves every read
const uuidBuffer = new Uint8Array(UUID_STRING_BUFLEN);
const uuidText = uuidBuffer.subarray(0, 36);
const uuidDecoder = new TextDecoder();

/** @internal A domain pointer's UUID (virDomainGetUUIDString, local). */
export function uuidOf(pointer: Deno.PointerObject): string {
  libvirt().symbols.virDomainGetUUIDString(pointer, uuidBuffer);
  return uuidDecoder.decode(uuidText);
}

/** @internal A UUID key in canonical form (lower case, dashes), as the cache keys it. */
export function normalizeUuid(key: string): string {
  const hex = key.toLowerCase().replaceAll("-", "");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** @internal What {@link domainCacheStats} reports. */
export interface DomainCacheStats {
  /** Domains with at least one live handle on this connection. */
  entries: number;
  /** Live handles registered in the cache. */
  handles: number;
  /** UUID lookups served without a round trip. */
  hits: number;
  /** UUID lookups that asked libvirt. */
  misses: number;
}

/**
 * The handle cache's counters for one connection (diagnostics and tests).
 *
 * @internal
 * @param connection the connection
 * @returns entries, live handles, hits and misses
 */
export function domainCacheStats(connection: CacheOwner): DomainCacheStats {
  const cache = cacheOf(connection);
  let handles = 0;
  for (const entry of cache.entries.values()) handles += entry.wrappers;
  return { entries: cache.entries.size, handles, hits: cache.hits, misses: cache.misses };
}

/** @internal Drops an entry and its reference (idempotent); its wrappers keep their own references. */
export function release(connection: CacheOwner, entry: CacheEntry): void {
  if (entry.released) return;
  entry.released = true;
  const cache = caches.get(connection[kInternals].identity);
  if (cache?.entries.get(entry.uuid) === entry) cache.entries.delete(entry.uuid);
  libvirt().symbols.virDomainFree(entry.pointer);
}

/**
 * @internal Drops a domain from its connection's cache, so that the next UUID lookup asks libvirt.
 * `uuid` defaults to {@link cacheUuid}'s: no UUID read when the cache is empty.
 */
export function invalidateDomain(domain: CachedHandle, uuid = cacheUuid(domain)): void {
  const entry = uuid === undefined
    ? undefined
    : caches.get(domain.connection[kInternals].identity)?.entries.get(uuid);
  if (entry !== undefined) release(domain.connection, entry);
}

/**
 * @internal The UUID {@link invalidateDomain} needs, read only when the connection's cache holds an
 * entry (else there is nothing to drop: no local call and its formatting, ~1 µs per lifecycle call);
 * undefined then, or for a freed handle whose UUID was never read.
 */
export function cacheUuid(domain: CachedHandle): string | undefined {
  if (!(caches.get(domain.connection[kInternals].identity)?.entries.size)) return undefined;
  return domain.freed ? domain.knownUuid : domain.uuid;
}
