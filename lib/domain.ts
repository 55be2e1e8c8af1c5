/**
 * Domain handles and lifecycle: lookup, listing, identity, state and info, XML, metadata, NICs, and
 * the operations that move a domain between states (start, shut down, destroy, reboot, reset,
 * suspend, resume, managed save and restore, undefine, autostart).
 *
 * A {@link Domain} wraps a `virDomainPtr` of one {@link Connection}; users get them from
 * {@link lookupDomain} / {@link listAllDomains} / {@link defineDomain} / {@link createDomain} and free
 * them with `using` (or {@link Domain.free}). The connection owns its handles: whatever is still open
 * when it closes is freed then and counted in the close report (`freedHandles`), so a forgotten handle
 * is bounded by the connection's life. (A FinalizationRegistry could not help: the connection's strong
 * reference keeps every handle reachable until then.)
 *
 * ## The handle cache
 *
 * Each connection keeps a cache of domain handles keyed by UUID, filled by lookups by UUID. Every
 * `Domain` object is a distinct wrapper holding its own libvirt reference (`virDomainRef`) on a
 * shared `virDomainPtr`, so freeing one wrapper (`using`) never pulls the pointer from under another
 * user. {@link lookupDomain} by UUID is served from the cache without a round trip while any wrapper
 * obtained that way is alive. Lookups by name or id, listings, define and create bypass the cache:
 * they always ask libvirt (names can be reused by a new domain or renamed, UUIDs cannot), and
 * registering them would cost a UUID read and two reference calls per handle, which doubled the cost
 * of an in-process lookup (measured: 2.2 -> 4.4 µs). An entry is dropped when
 * its last wrapper is freed, and invalidated when the domain is undefined, or destroyed / shut down
 * while transient, through this module (the next UUID lookup then asks libvirt, and fails with
 * {@link NotFoundError} if the domain is gone). See {@link domainCacheStats}.
 *
 * ## Lifecycle results and no-op semantics
 *
 * Every high-level operation reads the state first, acts, reads it again, and resolves to a
 * {@link LifecycleResult} `{ before, after, tookMs, changed }`. An operation that is invalid in the
 * current state throws {@link OperationInvalidError} *before* calling libvirt, with libvirt's wording
 * (`Cannot start domain "web1": Requested operation is not valid: domain is already running`), the same
 * on every driver: the test driver's `INTERNAL_ERROR` "domain 'x' not running" (seen when the state
 * changes between our read and the call) is mapped to the same class and code. The no-op cases (start a
 * running domain, shut down or destroy a shut-off one, suspend a paused one, resume a running one)
 * throw by default, like `virsh`; with `ifNeeded: true` they resolve without acting, with
 * `changed: false` and `after === before`. Nothing ever succeeds by doing something else (starting a
 * paused domain is not a resume: it throws even with `ifNeeded`).
 *
 * @example
 * ```ts
 * import { Connection } from "./connection.ts";
 * import { lookupDomain, startDomain, suspendDomain, resumeDomain } from "./domain.ts";
 *
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * await startDomain(dom, { ifNeeded: true }); // already running: { changed: false }
 * const { before, after } = await suspendDomain(dom);
 * console.log(before, "->", after); // running -> paused
 * await resumeDomain(dom);
 * ```
 *
 * @module
 */
import {
  domainOpenChannel,
  domainOpenConsole,
  domainScreenshot,
  type OpenChannelOptions,
  type OpenConsoleOptions,
  type Stream,
} from "./stream.ts";
import { sleep } from "./_async.ts";
import { A_CONNECTION, checkDomainKey, checkInstance, checkOptions, checkString } from "./_args.ts";
import { Connection, kInternals } from "./connection.ts";
import { type HandleType, isUuid, kCall, kCallSync, kPointer, phrase } from "./_handle.ts";
import { ErrorCode, ErrorDomain } from "./error_codes.ts";
import {
  ConnectionLostError,
  isTimeout,
  LibvirtError,
  libvirtErrorFrom,
  NotFoundError,
  OperationInvalidError,
} from "./errors.ts";
import { waitForState } from "./events.ts";
import {
  cString,
  cStringCached,
  isNegative,
  isNull,
  OutSlot,
  takeCString,
  takePointerArray,
} from "./ffi/c.ts";
import { libvirt } from "./ffi/library.ts";
import { asArray, attribute, describeXml, type ParsedXml, parseXml } from "./xml.ts";
import { validateMetadataNamespace, validateMetadataPrefix } from "./domain_xml.ts";
import { decodeDomainInfo, decodeInterface, VIR_DOMAIN_INFO_SIZE } from "./ffi/structs.ts";
import { UUID_STRING_BUFLEN } from "./ffi/constants.ts";
import { DomainCalls } from "./objects/_generated/domain.ts";
import { connectionOf, registerHandleFactory } from "./objects/_registry.ts";

/** virDomainState, by name. */
export const DomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const;

/** A domain state's name, lower case, as `virsh` prints it. */
export type DomainStateName =
  | "nostate"
  | "running"
  | "blocked"
  | "paused"
  | "shutdown"
  | "shutoff"
  | "crashed"
  | "pmsuspended";

const stateNames: readonly DomainStateName[] = [
  "nostate",
  "running",
  "blocked",
  "paused",
  "shutdown",
  "shutoff",
  "crashed",
  "pmsuspended",
];

/**
 * The name of a numeric virDomainState ("nostate" for values this version does not know).
 *
 * @param state a `virDomainState` value
 * @returns its lower-case name
 */
export function domainStateName(state: number): DomainStateName {
  return stateNames[state] ?? "nostate";
}

// virDomain<State>Reason, in libvirt-domain.h order (libvirt 9.0), spelled like virsh's `domstate --reason`.
const reasonNames: Record<DomainStateName, readonly string[]> = {
  nostate: ["unknown"],
  running: [
    "unknown",
    "booted",
    "migrated",
    "restored",
    "from snapshot",
    "unpaused",
    "migration canceled",
    "save canceled",
    "wakeup",
    "crashed",
    "post-copy",
    "post-copy failed",
  ],
  blocked: ["unknown"],
  paused: [
    "unknown",
    "user",
    "migrating",
    "saving",
    "dumping",
    "I/O error",
    "watchdog",
    "from snapshot",
    "shutting down",
    "creating snapshot",
    "crashed",
    "starting up",
    "post-copy",
    "post-copy failed",
    "api error",
  ],
  shutdown: ["unknown", "user"],
  shutoff: [
    "unknown",
    "shutdown",
    "destroyed",
    "crashed",
    "migrated",
    "saved",
    "failed",
    "from snapshot",
    "daemon",
  ],
  crashed: ["unknown", "panicked"],
  pmsuspended: ["unknown"],
};

/**
 * The name of a state's reason code, as `virsh domstate --reason` prints it.
 *
 * @param state the state (name or `virDomainState` number)
 * @param reason libvirt's reason code for that state
 * @returns e.g. "booted", "user", "destroyed"; `"reason <n>"` for codes newer than this table
 *
 * @example
 * ```ts
 * import { domainStateReason } from "./domain.ts";
 * console.log(domainStateReason("shutoff", 5)); // "saved"
 * ```
 */
export function domainStateReason(state: DomainStateName | number, reason: number): string {
  const name = typeof state === "number" ? domainStateName(state) : state;
  return reasonNames[name]?.[reason] ?? `reason ${reason}`;
}

/** What virDomainGetInfo reports. */
export interface DomainInfo {
  /** The domain's state: "running", "paused", "shutoff", ... */
  state: DomainStateName;
  /** Maximum memory, KiB. */
  maxMemoryKiB: number;
  /** Current memory, KiB. */
  memoryKiB: number;
  /** Virtual CPUs the domain has now. */
  vcpus: number;
  /** CPU time used, nanoseconds. */
  cpuTimeNs: bigint;
}

/** A domain's state as virDomainGetState reports it. */
export interface DomainStateInfo {
  /** The domain's state: "running", "paused", "shutoff", ... */
  state: DomainStateName;
  /** libvirt's numeric reason code. */
  reason: number;
  /** The reason's name ({@link domainStateReason}): "booted", "user", "destroyed", "saved", ... */
  reasonName: string;
}

/** Filters for {@link listAllDomains} (`VIR_CONNECT_LIST_DOMAINS_*`); unset means no filter. */
export interface ListDomainsOptions {
  /** true: only running or paused domains; false: only inactive ones. */
  active?: boolean;
  /** true: only domains with a stored definition; false: only transient ones. */
  persistent?: boolean;
  /** Only domains in this state (running, paused, shutoff, or other). */
  state?: "running" | "paused" | "shutoff" | "other";
  /** true: only domains that start with the host; false: only those that do not. */
  autostart?: boolean;
  /** true: only domains with at least one snapshot; false: only those without. */
  hasSnapshot?: boolean;
  /** true: only domains with a managed save image; false: only those without. */
  hasManagedSave?: boolean;
}

/**
 * Translates {@link ListDomainsOptions} into virConnectListAllDomains flags.
 *
 * @param options the filters
 * @returns the `VIR_CONNECT_LIST_DOMAINS_*` bit set
 */
export function listDomainsFlags(options: ListDomainsOptions = {}): number {
  let flags = 0;
  if (options.active !== undefined) flags |= options.active ? 1 : 2;
  if (options.persistent !== undefined) flags |= options.persistent ? 4 : 8;
  if (options.state) flags |= { running: 16, paused: 32, shutoff: 64, other: 128 }[options.state];
  if (options.hasManagedSave !== undefined) flags |= options.hasManagedSave ? 256 : 512;
  if (options.autostart !== undefined) flags |= options.autostart ? 1024 : 2048;
  if (options.hasSnapshot !== undefined) flags |= options.hasSnapshot ? 4096 : 8192;
  return flags;
}

/** Options for {@link Domain.xmlDesc} (`VIR_DOMAIN_XML_*`). */
export interface DomainXmlOptions {
  /** The persistent definition rather than the running domain's XML (`VIR_DOMAIN_XML_INACTIVE`). */
  inactive?: boolean;
  /** Include security-sensitive values such as VNC passwords (`VIR_DOMAIN_XML_SECURE`; read-write only). */
  secure?: boolean;
  /** Update the guest CPU from the host's (`VIR_DOMAIN_XML_UPDATE_CPU`). */
  updateCpu?: boolean;
  /** XML suitable for migration (`VIR_DOMAIN_XML_MIGRATABLE`). */
  migratable?: boolean;
}

function xmlFlags(options: DomainXmlOptions | number): number {
  if (typeof options === "number") return options;
  return (options.secure ? 1 : 0) | (options.inactive ? 2 : 0) | (options.updateCpu ? 4 : 0) |
    (options.migratable ? 8 : 0);
}

/** Which definition a metadata or configuration change affects (`VIR_DOMAIN_AFFECT_*`). */
export interface AffectOptions {
  /** The running domain (`VIR_DOMAIN_AFFECT_LIVE`). */
  live?: boolean;
  /** The persistent definition (`VIR_DOMAIN_AFFECT_CONFIG`). Neither: the current one. */
  config?: boolean;
}

function affectFlags(options: AffectOptions): number {
  return (options.live ? 1 : 0) | (options.config ? 2 : 0);
}

// sync paths only: one call at a time on the main thread, so one buffer (and its view) serves all
const infoBuffer = new Uint8Array(VIR_DOMAIN_INFO_SIZE);
const infoView = new DataView(infoBuffer.buffer);
const constructing = Symbol("deno_libvirt.domain.constructing");

const domainType: HandleType = {
  className: "Domain",
  noun: "domain",
  ref: (h) => libvirt().symbols.virDomainRef(h),
  free: (h) => libvirt().symbols.virDomainFree(h),
  name: (h) => libvirt().symbols.virDomainGetName(h),
};

// ---------------------------------------------------------------------------------------------------
// The per-connection handle cache (see the module doc).

interface CacheEntry {
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

function cacheOf(connection: Connection): DomainCache {
  let cache = caches.get(connection[kInternals].identity);
  if (cache === undefined) {
    cache = { entries: new Map(), hits: 0, misses: 0 };
    caches.set(connection[kInternals].identity, cache);
  }
  return cache;
}

function uuidOf(pointer: Deno.PointerObject): string {
  const buffer = new Uint8Array(UUID_STRING_BUFLEN);
  libvirt().symbols.virDomainGetUUIDString(pointer, buffer);
  return new TextDecoder().decode(buffer.subarray(0, 36));
}

function normalizeUuid(key: string): string {
  const hex = key.toLowerCase().replaceAll("-", "");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Wraps a pointer libvirt just returned (we own one reference on it) and registers it in the cache:
 * the freshest pointer becomes the entry's (its id is the most recent), older wrappers keep theirs.
 */
function adopt(connection: Connection, pointer: Deno.PointerObject, name?: string): Domain {
  const lib = libvirt().symbols;
  const cache = cacheOf(connection);
  const uuid = uuidOf(pointer);
  let entry = cache.entries.get(uuid);
  lib.virDomainRef(pointer); // the entry's own reference
  if (entry === undefined) {
    entry = { uuid, pointer, wrappers: 0, released: false };
    cache.entries.set(uuid, entry);
  } else {
    lib.virDomainFree(entry.pointer);
    entry.pointer = pointer;
  }
  entry.wrappers++;
  return new Domain(constructing, connection, pointer, entry, name);
}

/** Wraps a pointer libvirt just returned (we own one reference on it), outside the cache. */
function wrap(connection: Connection, pointer: Deno.PointerObject, name?: string): Domain {
  return new Domain(constructing, connection, pointer, undefined, name);
}

/** A cache hit: a new wrapper with its own reference on the entry's pointer. No round trip. */
function fromCache(connection: Connection, entry: CacheEntry): Domain {
  libvirt().symbols.virDomainRef(entry.pointer);
  entry.wrappers++;
  return new Domain(constructing, connection, entry.pointer, entry);
}

/** What {@link domainCacheStats} reports. */
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
 * @param connection the connection
 * @returns entries, live handles, hits and misses
 */
export function domainCacheStats(connection: Connection): DomainCacheStats {
  const cache = cacheOf(connection);
  let handles = 0;
  for (const entry of cache.entries.values()) handles += entry.wrappers;
  return { entries: cache.entries.size, handles, hits: cache.hits, misses: cache.misses };
}

/** Drops an entry and its reference (idempotent); its wrappers keep their own references. */
function release(connection: Connection, entry: CacheEntry): void {
  if (entry.released) return;
  entry.released = true;
  const cache = caches.get(connection[kInternals].identity);
  if (cache?.entries.get(entry.uuid) === entry) cache.entries.delete(entry.uuid);
  libvirt().symbols.virDomainFree(entry.pointer);
}

/** Drops a domain from its connection's cache, so that the next UUID lookup asks libvirt. */
function invalidate(domain: Domain, uuid: string): void {
  const entry = caches.get(domain.connection[kInternals].identity)?.entries.get(uuid);
  if (entry !== undefined) release(domain.connection, entry);
}

// ---------------------------------------------------------------------------------------------------

/**
 * A libvirt domain (virtual machine) of one connection. Not constructible by users: get one from
 * {@link lookupDomain}, {@link listAllDomains}, {@link defineDomain} or {@link createDomain}.
 */
export class Domain extends DomainCalls {
  #uuid: string | undefined;
  readonly #entry: CacheEntry | undefined;

  /** @internal */
  constructor(
    token: symbol,
    connection: Connection,
    handle: Deno.PointerObject,
    entry?: CacheEntry,
    name?: string,
  ) {
    if (token !== constructing) {
      throw new TypeError("Cannot construct a Domain directly: use lookupDomain() or listAllDomains()");
    }
    super(domainType, connection, handle, name);
    this.#entry = entry;
  }

  /**
   * The domain's UUID, e.g. "6695eb01-f6a4-8304-79aa-97f2502e193f" (local). Like before the cache, it
   * stays readable after {@link free} only if it was read before.
   */
  get uuid(): string {
    if (this.#uuid === undefined) {
      const pointer = this[kPointer]("read the UUID of");
      this.#uuid = this.#entry?.uuid ?? uuidOf(pointer);
    }
    return this.#uuid;
  }

  /** The hypervisor's id for a running domain, or undefined when it is not running. Local, as of lookup. */
  get id(): number | undefined {
    const id = libvirt().symbols.virDomainGetID(this[kPointer]("read the id of"));
    return id === 0xffffffff ? undefined : id;
  }

  /** Frees this handle (not the domain), and its place in the connection's handle cache. Idempotent. */
  override free(): void {
    if (this.freed) return;
    super.free();
    const entry = this.#entry;
    if (entry === undefined) return;
    entry.wrappers--;
    if (entry.wrappers === 0) release(this.connection, entry);
  }

  /**
   * State, memory, vCPUs and CPU time (virDomainGetInfo).
   *
   * @returns the decoded `virDomainInfo`
   * @throws {LibvirtError} when libvirt cannot read it (e.g. {@link NotFoundError} for a vanished domain)
   */
  async info(): Promise<DomainInfo> {
    const buffer = new Uint8Array(VIR_DOMAIN_INFO_SIZE);
    await this[kCall]("get info of", (h) => libvirt().symbols.virDomainGetInfoAsync(h, buffer), isNegative);
    return toInfo(buffer);
  }

  /**
   * {@link info} without leaving the main thread, for in-process drivers.
   *
   * @returns the decoded `virDomainInfo`
   * @throws {TypeError} when an asynchronous call is in flight on the connection
   */
  infoSync(): DomainInfo {
    this[kCallSync]("get info of", (h) => libvirt().symbols.virDomainGetInfo(h, infoBuffer), isNegative);
    return toInfo(infoView);
  }

  /**
   * The state, libvirt's reason code for it and the reason's name (virDomainGetState).
   *
   * @returns e.g. `{ state: "shutoff", reason: 5, reasonName: "saved" }`
   * @throws {LibvirtError} when libvirt cannot read it
   */
  async state(): Promise<DomainStateInfo> {
    const state = new OutSlot();
    const reason = new OutSlot();
    await this[kCall](
      "get the state of",
      (h) => libvirt().symbols.virDomainGetStateAsync(h, state.buffer, reason.buffer, 0),
      isNegative,
    );
    const name = domainStateName(state.int32);
    return { state: name, reason: reason.int32, reasonName: domainStateReason(name, reason.int32) };
  }

  /**
   * The domain's XML description (virDomainGetXMLDesc).
   *
   * @param options which definition and what to include (or raw `VIR_DOMAIN_XML_*` flags)
   * @returns the XML document
   * @throws {LibvirtError} when libvirt cannot describe the domain
   */
  async xmlDesc(options: DomainXmlOptions | number = {}): Promise<string> {
    const flags = xmlFlags(options);
    const pointer = await this[kCall](
      "get the XML of",
      (h) => libvirt().symbols.virDomainGetXMLDescAsync(h, flags),
      isNull,
    );
    return takeCString(pointer) ?? "";
  }

  /**
   * True while the domain runs or is paused (virDomainIsActive).
   *
   * @throws {LibvirtError} when libvirt cannot tell
   */
  async isActive(): Promise<boolean> {
    return 1 === await this[kCall](
      "check whether {} is active",
      (h) => libvirt().symbols.virDomainIsActiveAsync(h),
      isNegative,
    );
  }

  /**
   * True when the domain is defined, false when it is transient (virDomainIsPersistent).
   *
   * @throws {LibvirtError} when libvirt cannot tell
   */
  async isPersistent(): Promise<boolean> {
    return 1 === await this[kCall](
      "check whether {} is persistent",
      (h) => libvirt().symbols.virDomainIsPersistentAsync(h),
      isNegative,
    );
  }

  /**
   * True when the domain starts with the host (virDomainGetAutostart).
   *
   * @throws {LibvirtError} when libvirt cannot tell
   */
  async autostart(): Promise<boolean> {
    const slot = new OutSlot();
    await this[kCall](
      "get the autostart flag of",
      (h) => libvirt().symbols.virDomainGetAutostartAsync(h, slot.buffer),
      isNegative,
    );
    return slot.int32 !== 0;
  }

  /**
   * Makes a persistent domain start with the host, or not (virDomainSetAutostart).
   *
   * @param enabled true to start it with the host
   * @throws {OperationInvalidError} for a transient domain
   */
  async setAutostart(enabled: boolean): Promise<void> {
    await this[kCall](
      enabled ? "enable autostart of" : "disable autostart of",
      (h) => libvirt().symbols.virDomainSetAutostartAsync(h, enabled ? 1 : 0),
      isNegative,
    );
  }

  /**
   * True when a managed save image exists, i.e. the next start restores it (virDomainHasManagedSaveImage).
   *
   * @throws {LibvirtError} when libvirt cannot tell
   */
  async hasManagedSave(): Promise<boolean> {
    return 1 === await this[kCall](
      "check whether {} has a managed save image",
      (h) => libvirt().symbols.virDomainHasManagedSaveImageAsync(h, 0),
      isNegative,
    );
  }

  // Streams (lib/stream.ts holds the calls; these methods delegate, one libvirt call each).

  /**
   * Connects to the domain's console (virDomainOpenConsole) on a new stream: read the guest's output
   * from `stream.readable`, type into `stream.writable`. The stream does not hold the connection
   * while it waits for output.
   *
   * @param devName the console or serial device alias ("serial0", "console1"); default the first console
   * @param options force (take over another session), safe, nonblocking
   * @returns the console's stream; free it with `await using`
   * @throws {LibvirtError} e.g. {@link OperationInvalidError} when the domain is not running or another
   *   session holds the console, {@link NotSupportedError} when the driver has no consoles
   * @example
   * ```ts ignore
   * await using console = await dom.openConsole();
   * for await (const chunk of console.readable) Deno.stdout.writeSync(chunk);
   * ```
   */
  openConsole(devName?: string, options: OpenConsoleOptions = {}): Promise<Stream> {
    return domainOpenConsole(this, devName, options);
  }

  /**
   * Connects to one of the domain's channels (virDomainOpenChannel) on a new stream.
   *
   * @param name the channel's target name ("org.qemu.guest_agent.0") or alias
   * @param options force (take over another session), nonblocking
   * @returns the channel's stream; free it with `await using`
   * @throws {LibvirtError} when the channel does not exist, is busy, or the driver has no channels
   * @example
   * ```ts ignore
   * await using channel = await dom.openChannel("org.example.port.0");
   * ```
   */
  openChannel(name: string, options: OpenChannelOptions = {}): Promise<Stream> {
    return domainOpenChannel(this, name, options);
  }

  /**
   * Takes a screenshot of one of the domain's screens into `stream` (virDomainScreenshot); read the
   * image from `stream.readable`.
   *
   * @param stream a stream of this domain's connection ({@link newStream})
   * @param screen the screen number (default 0)
   * @returns the image's MIME type, e.g. "image/png"
   * @throws {LibvirtError} when the domain has no display or the driver cannot take screenshots
   * @example
   * ```ts ignore
   * await using stream = newStream(dom.connection);
   * const mime = await dom.screenshot(stream);
   * const png = new Uint8Array(await new Response(stream.readable).arrayBuffer());
   * ```
   */
  screenshot(stream: Stream, screen = 0): Promise<string> {
    return domainScreenshot(this, stream, screen);
  }
}

registerHandleFactory("virDomainPtr", (owner, pointer) => wrap(connectionOf<Connection>(owner), pointer));

function toInfo(buffer: Uint8Array | DataView): DomainInfo {
  const raw = decodeDomainInfo(buffer);
  return {
    state: domainStateName(raw.state),
    maxMemoryKiB: raw.maxMemKiB,
    memoryKiB: raw.memoryKiB,
    vcpus: raw.vcpus,
    cpuTimeNs: raw.cpuTimeNs,
  };
}

/** Options for {@link lookupDomain}. */
export interface LookupDomainOptions {
  /** Ask libvirt even when the connection's cache has a handle for this UUID (checks existence). */
  fresh?: boolean;
}

/**
 * Looks a domain up by name, UUID string or numeric id.
 *
 * A UUID lookup is served from the connection's handle cache, without a round trip, while another
 * handle of that domain is alive on the connection (pass `fresh: true` to ask libvirt anyway); name
 * and id lookups always ask libvirt.
 *
 * @param connection the connection to ask
 * @param key a name, a UUID ("6695eb01-..."), or a running domain's id
 * @param options `fresh` to bypass the handle cache
 * @returns a handle to free with `using` or {@link Domain.free}
 * @throws {NotFoundError} when no such domain exists
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection } from "./connection.ts";
 * import { lookupDomain } from "./domain.ts";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * console.log(dom.uuid, (await dom.state()).state);
 * ```
 */
export async function lookupDomain(
  connection: Connection,
  key: string | number,
  options: LookupDomainOptions = {},
): Promise<Domain> {
  checkLookup(connection, key, options);
  const hit = cachedLookup(connection, key, options);
  if (hit !== undefined) return hit;
  const internals = connection[kInternals];
  const lib = libvirt().symbols;
  return await internals.call(
    () => `look up domain ${JSON.stringify(key)}`,
    (h) => {
      if (typeof key === "number") return lib.virDomainLookupByIDAsync(h, key);
      const text = cStringCached(key, "domain name");
      return isUuid(key)
        ? lib.virDomainLookupByUUIDStringAsync(h, text)
        : lib.virDomainLookupByNameAsync(h, text);
    },
    isNull,
    // looked up by name: that is its name, no need to ask libvirt again
    (handle) =>
      typeof key === "string" && isUuid(key)
        ? adopt(connection, handle!)
        : wrap(connection, handle!, typeof key === "string" ? key : undefined),
  );
}

function checkLookup(connection: unknown, key: unknown, options: unknown): void {
  checkInstance(connection, Connection, "look up a domain", "connection", A_CONNECTION);
  checkDomainKey(key, "look up a domain");
  checkOptions(options, "look up a domain", { fresh: "boolean" });
}

const listDomainsOptionTypes = {
  active: "boolean",
  persistent: "boolean",
  state: ["running", "paused", "shutoff", "other"],
  hasManagedSave: "boolean",
  autostart: "boolean",
  hasSnapshot: "boolean",
} as const;

function cachedLookup(
  connection: Connection,
  key: string | number,
  options: LookupDomainOptions,
): Domain | undefined {
  if (typeof key !== "string" || !isUuid(key)) return undefined;
  const cache = cacheOf(connection);
  const entry = options.fresh || connection.closed ? undefined : cache.entries.get(normalizeUuid(key));
  if (entry === undefined) {
    cache.misses++;
    return undefined;
  }
  cache.hits++;
  return fromCache(connection, entry);
}

/**
 * {@link lookupDomain} without leaving the main thread, for in-process drivers.
 *
 * @param connection the connection to ask
 * @param key a name, a UUID, or a running domain's id
 * @param options `fresh` to bypass the handle cache
 * @returns a handle to free
 * @throws {NotFoundError} when no such domain exists
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 */
export function lookupDomainSync(
  connection: Connection,
  key: string | number,
  options: LookupDomainOptions = {},
): Domain {
  checkLookup(connection, key, options);
  const hit = cachedLookup(connection, key, options);
  if (hit !== undefined) return hit;
  const internals = connection[kInternals];
  const lib = libvirt().symbols;
  return internals.callSync(
    () => `look up domain ${JSON.stringify(key)}`,
    (h) => {
      if (typeof key === "number") return lib.virDomainLookupByID(h, key);
      const text = cStringCached(key, "domain name");
      return isUuid(key) ? lib.virDomainLookupByUUIDString(h, text) : lib.virDomainLookupByName(h, text);
    },
    isNull,
    (handle) =>
      typeof key === "string" && isUuid(key)
        ? adopt(connection, handle!)
        : wrap(connection, handle!, typeof key === "string" ? key : undefined),
  );
}

/**
 * Lists the domains of a connection in one call (virConnectListAllDomains).
 *
 * @param connection the connection to ask
 * @param options filters; none lists every domain
 * @returns handles the caller frees (`for (using d of ...)` or free each)
 * @throws {LibvirtError} when libvirt cannot list them
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 */
export async function listAllDomains(
  connection: Connection,
  options: ListDomainsOptions = {},
): Promise<Domain[]> {
  checkInstance(connection, Connection, "list domains", "connection", A_CONNECTION);
  checkOptions(options, "list domains", listDomainsOptionTypes);
  const slot = new OutSlot();
  return await connection[kInternals].call(
    () => `list the domains of ${JSON.stringify(connection.uri)}`,
    (h) => libvirt().symbols.virConnectListAllDomainsAsync(h, slot.buffer, listDomainsFlags(options)),
    isNegative,
    (count) => takePointerArray(slot.pointer, count).map((h) => wrap(connection, h)),
  );
}

/**
 * {@link listAllDomains} without leaving the main thread, for in-process drivers.
 *
 * @param connection the connection to ask
 * @param options filters
 * @returns handles the caller frees
 * @throws {LibvirtError} when libvirt cannot list them
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 */
export function listAllDomainsSync(connection: Connection, options: ListDomainsOptions = {}): Domain[] {
  checkInstance(connection, Connection, "list domains", "connection", A_CONNECTION);
  checkOptions(options, "list domains", listDomainsOptionTypes);
  const slot = new OutSlot();
  return connection[kInternals].callSync(
    () => `list the domains of ${JSON.stringify(connection.uri)}`,
    (h) => libvirt().symbols.virConnectListAllDomains(h, slot.buffer, listDomainsFlags(options)),
    isNegative,
    (count) => takePointerArray(slot.pointer, count).map((h) => wrap(connection, h)),
  );
}

/**
 * Defines a persistent domain from XML (virDomainDefineXML); it stays shut off until started.
 * Defining an existing name (same UUID) updates its persistent definition.
 *
 * @param connection the connection to define it on
 * @param xml the domain XML (see `buildDomainXml` in domain_xml.ts)
 * @returns a handle to the domain
 * @throws {LibvirtError} with libvirt's reason when the XML is invalid or the name is taken
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 */
export async function defineDomain(connection: Connection, xml: string): Promise<Domain> {
  checkInstance(connection, Connection, "define a domain", "connection", A_CONNECTION);
  const text = cString(checkString(xml, "define a domain", "xml"), "domain XML");
  return await connection[kInternals].call(
    () => `define domain ${describeXml(xml)}`,
    (h) => libvirt().symbols.virDomainDefineXMLAsync(h, text),
    isNull,
    (handle) => wrap(connection, handle!),
  );
}

/** Options for {@link createDomain}. */
export interface CreateDomainOptions {
  /** Start with its vCPUs paused (`VIR_DOMAIN_START_PAUSED`). */
  paused?: boolean;
  /** Destroy it when this connection closes (`VIR_DOMAIN_START_AUTODESTROY`). */
  autodestroy?: boolean;
  /** Validate the XML against libvirt's schema first (`VIR_DOMAIN_START_VALIDATE`). */
  validate?: boolean;
}

/**
 * Creates and starts a transient domain from XML (virDomainCreateXML): it vanishes when it stops.
 *
 * @param connection the connection to create it on
 * @param xml the domain XML
 * @param options paused / autodestroy / validate
 * @returns a handle to the running (or paused) domain
 * @throws {LibvirtError} with libvirt's reason when the XML is invalid or the domain cannot start
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 */
export async function createDomain(
  connection: Connection,
  xml: string,
  options: CreateDomainOptions = {},
): Promise<Domain> {
  checkInstance(connection, Connection, "create a domain", "connection", A_CONNECTION);
  const text = cString(checkString(xml, "create a domain", "xml"), "domain XML");
  checkOptions(options, "create a domain", {
    paused: "boolean",
    autodestroy: "boolean",
    validate: "boolean",
  });
  const flags = (options.paused ? 1 : 0) | (options.autodestroy ? 2 : 0) | (options.validate ? 16 : 0);
  return await connection[kInternals].call(
    () => `create domain ${describeXml(xml)}`,
    (h) => libvirt().symbols.virDomainCreateXMLAsync(h, text, flags),
    isNull,
    (handle) => wrap(connection, handle!),
  );
}

/** Where {@link interfaceAddresses} asks (`VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_*`). */
export type InterfaceAddressSource = "lease" | "agent" | "arp";

const addressSources: Record<InterfaceAddressSource, number> = { lease: 0, agent: 1, arp: 2 };

/** One guest interface as a libvirt address source reports it. */
export interface InterfaceAddresses {
  /** The interface's name: the host-side device (vnet0) for lease/arp, the guest's (eth0) for agent. */
  name: string;
  /** Its MAC address, lower case, or undefined when the source does not know it. */
  mac: string | undefined;
  /** The interface's addresses, each with its family and prefix length (e.g. 24). */
  addresses: { family: "ipv4" | "ipv6"; address: string; prefix: number }[];
}

/**
 * The addresses one libvirt source reports for a domain's interfaces (virDomainInterfaceAddresses).
 * This is the raw query; lib/ip/ merges sources, filters and explains.
 *
 * @param domain the domain to ask about
 * @param source "lease" (libvirt's DHCP), "agent" (qemu-guest-agent; needs a read-write connection),
 *   "arp" (the host's neighbour table)
 * @returns one entry per interface the source knows
 * @throws {AgentUnresponsiveError} when the agent does not answer; {@link LibvirtError} otherwise
 */
export async function interfaceAddresses(
  domain: Domain,
  source: InterfaceAddressSource,
): Promise<InterfaceAddresses[]> {
  const slot = new OutSlot();
  const lib = libvirt().symbols;
  return await domain[kCall](
    `get the ${source} addresses of`,
    (h) => lib.virDomainInterfaceAddressesAsync(h, slot.buffer, addressSources[source], 0),
    isNegative,
    (count) =>
      takePointerArray(slot.pointer, count).map((pointer) => {
        try {
          const raw = decodeInterface(pointer);
          return {
            name: raw.name,
            mac: raw.hwaddr?.toLowerCase() ?? undefined,
            addresses: raw.addresses.map((a) => ({
              family: a.type === 1 ? "ipv6" as const : "ipv4" as const,
              address: a.address,
              prefix: a.prefix,
            })),
          };
        } finally {
          lib.virDomainInterfaceFree(pointer);
        }
      }),
  );
}

// ---------------------------------------------------------------------------------------------------
// XML-derived descriptions: NICs and metadata.

/** One NIC of a domain, from its XML. */
export interface DomainInterface {
  /** MAC address, lower case ("" when the XML has none, which libvirt never returns). */
  mac: string;
  /** The `<interface type>`: "network", "bridge", "direct", "user", "ethernet", ... */
  type: string;
  /** The source: the network's name (network), the bridge (bridge), the host device (direct). */
  source?: string;
  /** For type "network" on a running domain: the bridge libvirt attached it to. */
  bridge?: string;
  /** The host-side device (`<target dev>`), e.g. "vnet3", on a running domain. */
  target?: string;
  /** The device model (`<model type>`): "virtio", "e1000", ... */
  model?: string;
  /** The device alias (`<alias name>`), e.g. "net0", on a running domain. */
  alias?: string;
}

/**
 * Parses the NICs (`<devices><interface>`) out of a domain XML document, with a real XML parser.
 *
 * @param xml a domain XML document, as {@link Domain.xmlDesc} returns it
 * @returns one entry per `<interface>`, in document order
 * @throws {TypeError} when the document is not a `<domain>`
 *
 * @example
 * ```ts
 * import { parseDomainInterfaces } from "./domain.ts";
 * const nics = parseDomainInterfaces(
 *   "<domain><devices><interface type='bridge'><mac address='52:54:00:AA:00:01'/>" +
 *     "<source bridge='br0'/><model type='virtio'/></interface></devices></domain>",
 * );
 * console.log(nics); // [{ mac: "52:54:00:aa:00:01", type: "bridge", source: "br0", model: "virtio" }]
 * ```
 */
export function parseDomainInterfaces(xml: string): DomainInterface[] {
  const domain = parseXml(xml).domain;
  if (domain === undefined || typeof domain !== "object") {
    throw new TypeError(`Cannot read the NICs of ${describeXml(xml)}: the document is not a <domain>`);
  }
  return interfacesOf(domain as ParsedXml);
}

/** @internal The NICs of an already parsed `<domain>` element (see {@link parseDomainInterfaces}). */
export function interfacesOf(domain: ParsedXml): DomainInterface[] {
  const devices = asArray(domain.devices)[0];
  if (devices === undefined) return [];
  return asArray(devices.interface).map((nic) => {
    const type = attribute(nic, "type") ?? "";
    const sourceElement = asArray(nic.source)[0];
    const source = type === "network"
      ? attribute(sourceElement, "network")
      : type === "bridge"
      ? attribute(sourceElement, "bridge")
      : attribute(sourceElement, "dev") ?? attribute(sourceElement, "network") ??
        attribute(sourceElement, "bridge");
    const result: DomainInterface = {
      mac: (attribute(asArray(nic.mac)[0], "address") ?? "").toLowerCase(),
      type,
    };
    if (source !== undefined) result.source = source;
    const bridge = type === "network" ? attribute(sourceElement, "bridge") : undefined;
    if (bridge !== undefined) result.bridge = bridge;
    const target = attribute(asArray(nic.target)[0], "dev");
    if (target !== undefined) result.target = target;
    const model = attribute(asArray(nic.model)[0], "type");
    if (model !== undefined) result.model = model;
    const alias = attribute(asArray(nic.alias)[0], "name");
    if (alias !== undefined) result.alias = alias;
    return result;
  });
}

/**
 * The domain's NICs, parsed from its XML description.
 *
 * @param domain the domain
 * @param options `inactive` for the persistent definition rather than the running domain's
 * @returns one entry per `<interface>`, MACs in lower case
 * @throws {LibvirtError} when libvirt cannot describe the domain
 */
export async function domainInterfaces(
  domain: Domain,
  options: Pick<DomainXmlOptions, "inactive"> = {},
): Promise<DomainInterface[]> {
  return parseDomainInterfaces(await domain.xmlDesc({ inactive: options.inactive ?? false }));
}

const METADATA_ELEMENT = 2;

/**
 * Reads a namespaced metadata element of a domain (virDomainGetMetadata).
 *
 * @param domain the domain
 * @param namespaceUri the element's namespace URI, e.g. "https://example.org/range/1"
 * @param options live / config (default: the current definition)
 * @returns the element's XML (libvirt re-serializes it, with its own prefix), or undefined when absent
 * @throws {LibvirtError} when libvirt cannot read it (other than the element being absent)
 */
export async function getDomainMetadata(
  domain: Domain,
  namespaceUri: string,
  options: AffectOptions = {},
): Promise<string | undefined> {
  const uri = cString(namespaceUri, "metadata namespace");
  const flags = affectFlags(options);
  try {
    const pointer = await domain[kCall](
      `read metadata ${JSON.stringify(namespaceUri)} of`,
      (h) => libvirt().symbols.virDomainGetMetadataAsync(h, METADATA_ELEMENT, uri, flags),
      isNull,
    );
    return takeCString(pointer) ?? undefined;
  } catch (error) {
    if (error instanceof LibvirtError && error.code === ErrorCode.NO_DOMAIN_METADATA) return undefined;
    throw error;
  }
}

/**
 * Sets or removes a namespaced metadata element of a domain (virDomainSetMetadata).
 *
 * @param domain the domain
 * @param namespaceUri the namespace URI that identifies the element
 * @param prefix the namespace prefix libvirt writes (an XML name such as "range")
 * @param xml the element, e.g. `<tags><tag key="role">victim</tag></tags>` (well-formed, unprefixed), or
 *   null to remove it
 * @param options live / config (default: the current definition)
 * @throws {TypeError} naming the argument when the namespace is not an absolute URI libvirt can write
 *   back (RFC 3986 characters, no "&" or "'", see `validateMetadataNamespace`), the prefix is not an XML
 *   name, or `xml` is neither a string nor null
 * @throws {LibvirtError} when libvirt rejects the element (e.g. XML that is not well-formed)
 */
export async function setDomainMetadata(
  domain: Domain,
  namespaceUri: string,
  prefix: string,
  xml: string | null,
  options: AffectOptions = {},
): Promise<void> {
  const action = `set metadata of domain ${JSON.stringify(domain.name)}`;
  validateMetadataNamespace(namespaceUri, "namespaceUri", action);
  validateMetadataPrefix(prefix, "prefix", action);
  if (xml !== null && typeof xml !== "string") {
    throw new TypeError(`Cannot ${action}: xml must be a string (the element) or null (to remove it)`);
  }
  const uri = cString(namespaceUri, "metadata namespace");
  const key = cString(prefix, "metadata prefix");
  const body = xml === null ? null : cString(xml, "metadata XML");
  const flags = affectFlags(options);
  await domain[kCall](
    `${xml === null ? "remove" : "set"} metadata ${JSON.stringify(namespaceUri)} of`,
    (h) => libvirt().symbols.virDomainSetMetadataAsync(h, METADATA_ELEMENT, body, key, uri, flags),
    isNegative,
  );
}

// ---------------------------------------------------------------------------------------------------
// Lifecycle.

/** What a lifecycle operation did. */
export interface LifecycleResult {
  /** The state read just before acting. */
  before: DomainStateName;
  /** The state read just after ("shutoff" when the domain no longer exists: see `gone`). */
  after: DomainStateName;
  /** The reason for the state after, e.g. "booted", "destroyed", "saved" ({@link domainStateReason}). */
  afterReason: string;
  /** Wall time of the whole operation (state reads included), ms. */
  tookMs: number;
  /** False when `ifNeeded` found nothing to do. */
  changed: boolean;
  /** True when the domain no longer exists afterwards (a transient domain that stopped, or an undefine). */
  gone?: boolean;
  /**
   * True with `states: false`: nothing was read, `before`/`after`/`afterReason` are what the call's
   * success implies ("nostate"/"unknown" where it implies nothing), and `gone` is not reported.
   */
  inferred?: true;
}

/** Options every lifecycle operation takes. */
export interface LifecycleOptions {
  /**
   * When the domain is already where the operation would take it (start: running; shutdown/destroy:
   * shut off; suspend: paused; resume: running), resolve with `changed: false` instead of throwing
   * {@link OperationInvalidError}.
   */
  ifNeeded?: boolean;
  /**
   * Read the state before and after the call (default true): two more round trips, for exact
   * `before`/`after`/`afterReason`/`gone` and refusals worded before libvirt is asked. `false` makes
   * the operation one call, like libvirt-python's: the result is inferred from its success
   * (`inferred: true`), libvirt itself refuses invalid transitions (still an
   * {@link OperationInvalidError}), and `ifNeeded` reads the state only when libvirt refused.
   */
  states?: boolean;
}

/** Options for {@link startDomain}. */
export interface StartOptions extends LifecycleOptions {
  /** Start with its vCPUs paused (`VIR_DOMAIN_START_PAUSED`). */
  paused?: boolean;
  /** Destroy it when the starting connection closes (`VIR_DOMAIN_START_AUTODESTROY`). */
  autodestroy?: boolean;
  /** Bypass the host's file cache when restoring a managed save (`VIR_DOMAIN_START_BYPASS_CACHE`). */
  bypassCache?: boolean;
  /** Boot afresh, discarding a managed save image (`VIR_DOMAIN_START_FORCE_BOOT`). */
  forceBoot?: boolean;
}

/** Options for {@link undefineDomain} (`VIR_DOMAIN_UNDEFINE_*`). */
export interface UndefineOptions {
  /** Also remove a managed save image (otherwise libvirt refuses while one exists). */
  managedSave?: boolean;
  /** Also remove snapshot metadata (otherwise libvirt refuses while snapshots exist). */
  snapshotsMetadata?: boolean;
  /** Also remove checkpoint metadata. */
  checkpointsMetadata?: boolean;
  /** Remove the UEFI NVRAM file (true), keep it (false), or let libvirt refuse when one exists (unset). */
  nvram?: boolean;
  /** As {@link LifecycleOptions.states}: `false` undefines in one call (before/after "nostate"). */
  states?: boolean;
}

/** Options for {@link shutdownDomain}. */
export interface ShutdownOptions extends LifecycleOptions {
  /**
   * How to ask the guest: "acpi" (the power button), "agent" (qemu-guest-agent), "default" (the
   * hypervisor's choice). Default "default".
   */
  mode?: "acpi" | "agent" | "default";
  /** How long to wait for the guest to power off, ms. Default 60,000. 0: check once, do not wait. */
  waitMs?: number;
  /** Stops waiting; the operation rejects with the signal's reason (no fallback runs). */
  signal?: AbortSignal;
  /**
   * What to do when the guest has not powered off after `waitMs`, or the request itself failed (no
   * agent, no ACPI): "destroy" pulls the plug; "none" (default) throws.
   */
  fallback?: "destroy" | "none";
}

/** What {@link shutdownDomain} did. */
export interface ShutdownResult extends LifecycleResult {
  /** True when the fallback destroyed the domain. */
  forced: boolean;
  /** Why the graceful path failed, when `forced`. */
  gracefulFailure?: string;
}

/** Options for {@link destroyDomain}. */
export interface DestroyOptions extends LifecycleOptions {
  /** Only SIGTERM the hypervisor process, never SIGKILL (`VIR_DOMAIN_DESTROY_GRACEFUL`). */
  graceful?: boolean;
}

/** Options for {@link rebootDomain}. */
export interface RebootOptions {
  /** "acpi" (power button), "agent" (qemu-guest-agent), "default" (the hypervisor's choice). */
  mode?: "acpi" | "agent" | "default";
}

/** Options for {@link managedSaveDomain} (`VIR_DOMAIN_SAVE_*`). */
export interface ManagedSaveOptions {
  /** Bypass the host's file cache while writing (`VIR_DOMAIN_SAVE_BYPASS_CACHE`). */
  bypassCache?: boolean;
  /** The state to restore into: "running" or "paused"; default: the state at save time. */
  restoreAs?: "running" | "paused";
}

const modeFlags = { default: 0, acpi: 1, agent: 2 } as const;
const active = new Set<DomainStateName>(["running", "blocked", "paused", "shutdown", "pmsuspended"]);
const runningStates = new Set<DomainStateName>(["running", "blocked"]);

function elapsed(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000;
}

function operationOf(domain: Domain, verb: string): string {
  return phrase(verb, `domain ${JSON.stringify(domain.name)}`);
}

/** An OperationInvalidError in libvirt's words, raised before libvirt is asked. */
function invalid(domain: Domain, verb: string, why: string): OperationInvalidError {
  return new OperationInvalidError(operationOf(domain, verb), {
    code: ErrorCode.OPERATION_INVALID,
    domain: ErrorDomain.DOM,
    level: 2,
    message: `Requested operation is not valid: ${why}`,
  });
}

const stateRace =
  /already (running|active)|is not running|not running|not paused|is not active|domain is not paused/i;

/**
 * Re-attributes an error to the lifecycle operation (a failed state read says "start", not "get the
 * state of"), and maps the drivers' different words for "invalid in this state" to one class.
 */
function attribute_(error: unknown, domain: Domain, verb: string): unknown {
  if (!(error instanceof LibvirtError)) return error;
  const operation = operationOf(domain, verb);
  const details = {
    code: error.code,
    domain: error.domain,
    level: error.level,
    message: error.libvirtMessage,
  };
  if (error.code === ErrorCode.INTERNAL_ERROR && stateRace.test(error.libvirtMessage)) {
    return new OperationInvalidError(operation, { ...details, code: ErrorCode.OPERATION_INVALID }, {
      cause: error,
    });
  }
  if (error.operation === operation) return error;
  if (error instanceof ConnectionLostError) {
    return new ConnectionLostError(operation, details, {
      cause: error,
      outcomeUnknown: error.outcomeUnknown,
    });
  }
  return libvirtErrorFrom(operation, details);
}

async function readState(domain: Domain, verb: string): Promise<DomainStateInfo> {
  try {
    return await domain.state();
  } catch (error) {
    throw attribute_(error, domain, verb);
  }
}

/** The state after an operation; a domain that vanished (transient, stopped) reads as shut off and gone. */
async function readAfter(domain: Domain, verb: string): Promise<{ info: DomainStateInfo; gone: boolean }> {
  try {
    return { info: await domain.state(), gone: false };
  } catch (error) {
    if (error instanceof NotFoundError) {
      invalidate(domain, domain.uuid);
      return { info: { state: "shutoff", reason: 0, reasonName: "unknown" }, gone: true };
    }
    throw attribute_(error, domain, verb);
  }
}

interface Plan {
  verb: string;
  /** undefined when the operation is valid in this state, else libvirt's wording of why not. */
  refuse: (state: DomainStateName) => string | undefined;
  /** True when `ifNeeded` makes this state a no-op. */
  noop?: (state: DomainStateName) => boolean;
  run: (handle: Deno.PointerObject) => Promise<number>;
  /** What success implies, for `states: false` (absent: "nostate"/"unknown"). */
  implies?: { before?: DomainStateName; after?: DomainStateName; reason?: string };
  /** True when success may make a transient domain vanish (its cached handle is dropped then). */
  mayVanish?: boolean;
}

async function lifecycle(
  domain: Domain,
  plan: Plan,
  options: LifecycleOptions = {},
): Promise<LifecycleResult> {
  const ifNeeded = options.ifNeeded ?? false;
  if (options.states === false) return await leanLifecycle(domain, plan, ifNeeded);
  const t0 = performance.now();
  const before = await readState(domain, plan.verb);
  if (ifNeeded && plan.noop?.(before.state)) {
    return {
      before: before.state,
      after: before.state,
      afterReason: before.reasonName,
      tookMs: elapsed(t0),
      changed: false,
    };
  }
  const why = plan.refuse(before.state);
  if (why !== undefined) throw invalid(domain, plan.verb, why);
  try {
    await domain[kCall](plan.verb, plan.run, isNegative);
  } catch (error) {
    throw attribute_(error, domain, plan.verb);
  }
  const after = await readAfter(domain, plan.verb);
  return {
    before: before.state,
    after: after.info.state,
    afterReason: after.info.reasonName,
    tookMs: elapsed(t0),
    changed: true,
    ...(after.gone ? { gone: true } : {}),
  };
}

/** A lifecycle operation in one call ({ states: false }): the result follows from its success. */
async function leanLifecycle(domain: Domain, plan: Plan, ifNeeded: boolean): Promise<LifecycleResult> {
  const t0 = performance.now();
  try {
    await domain[kCall](plan.verb, plan.run, isNegative);
  } catch (error) {
    const attributed = attribute_(error, domain, plan.verb);
    // libvirt refused: with ifNeeded, one read tells a no-op from a real refusal
    if (ifNeeded && plan.noop && attributed instanceof OperationInvalidError) {
      const now = await readState(domain, plan.verb);
      if (plan.noop(now.state)) {
        return {
          before: now.state,
          after: now.state,
          afterReason: now.reasonName,
          tookMs: elapsed(t0),
          changed: false,
        };
      }
    }
    throw attributed;
  }
  // the cache must not hand out a transient domain that may have vanished with this call
  if (plan.mayVanish) invalidate(domain, domain.uuid);
  return {
    before: plan.implies?.before ?? "nostate",
    after: plan.implies?.after ?? "nostate",
    afterReason: plan.implies?.reason ?? "unknown",
    tookMs: elapsed(t0),
    changed: true,
    inferred: true,
  };
}

const notRunning = (s: DomainStateName) => active.has(s) ? undefined : "domain is not running";

/**
 * Starts a defined domain (virDomainCreateWithFlags). A domain with a managed save image is restored
 * from it (unless `forceBoot`).
 *
 * No-op semantics: starting a running domain throws {@link OperationInvalidError} ("domain is already
 * running"), or with `ifNeeded` resolves `{ changed: false }`. Starting a paused (or otherwise active)
 * domain always throws: it would not make it run; use {@link resumeDomain}.
 *
 * @param domain the domain
 * @param options paused / autodestroy / bypassCache / forceBoot / ifNeeded
 * @returns the states before and after, and the time taken
 * @throws {OperationInvalidError} when the domain is already active
 * @throws {LibvirtError} when libvirt cannot start it
 *
 * @example
 * ```ts ignore
 * const { after, tookMs } = await startDomain(dom, { paused: true });
 * ```
 */
export function startDomain(domain: Domain, options: StartOptions = {}): Promise<LifecycleResult> {
  const flags = (options.paused ? 1 : 0) | (options.autodestroy ? 2 : 0) | (options.bypassCache ? 4 : 0) |
    (options.forceBoot ? 8 : 0);
  return lifecycle(domain, {
    verb: "start",
    refuse: (s) => active.has(s) ? `domain is already ${s === "blocked" ? "running" : s}` : undefined,
    noop: (s) => runningStates.has(s) && !options.paused,
    run: (h) => libvirt().symbols.virDomainCreateWithFlagsAsync(h, flags),
    // a managed save image makes it "restored" rather than "booted": only a read can tell
    implies: { before: "shutoff", after: options.paused ? "paused" : "running" },
  }, options);
}

/**
 * Stops a domain at once, like pulling the plug (virDomainDestroyFlags). A transient domain vanishes
 * (`gone: true`).
 *
 * No-op semantics: destroying a shut-off domain throws {@link OperationInvalidError} ("domain is not
 * running"), or with `ifNeeded` resolves `{ changed: false }`.
 *
 * @param domain the domain
 * @param options graceful (SIGTERM only) / ifNeeded
 * @returns the states before and after, and the time taken
 * @throws {OperationInvalidError} when the domain is not running
 */
export async function destroyDomain(domain: Domain, options: DestroyOptions = {}): Promise<LifecycleResult> {
  const flags = options.graceful ? 1 : 0;
  const result = await lifecycle(domain, {
    verb: "destroy",
    refuse: notRunning,
    noop: (s) => !active.has(s),
    run: (h) => libvirt().symbols.virDomainDestroyFlagsAsync(h, flags),
    implies: { after: "shutoff", reason: "destroyed" },
    mayVanish: true,
  }, options);
  return result;
}

/** Polls a domain's state until it is shut off or gone, or `deadline` (performance.now()) passes. */
async function pollForShutoff(domain: Domain, deadline: number, signal?: AbortSignal): Promise<boolean> {
  let delay = 50;
  while (performance.now() < deadline) {
    signal?.throwIfAborted();
    try {
      if ((await domain.state()).state === "shutoff") return false;
    } catch (error) {
      if (error instanceof NotFoundError) return true;
      throw error;
    }
    await sleep(Math.min(delay, Math.max(0, deadline - performance.now())), signal);
    delay = Math.min(delay * 2, 500);
  }
  return false;
}

/**
 * Shuts a domain down gracefully (virDomainShutdownFlags), then waits for it to power off, driven by
 * lifecycle events ({@link waitForState}), not by polling. After `waitMs` it either destroys the domain
 * (`fallback: "destroy"`, `forced: true`) or throws a `DOMException` named "TimeoutError" that names the
 * domain and the state it is still in.
 *
 * No-op semantics: shutting down a shut-off domain throws {@link OperationInvalidError} ("domain is not
 * running"), or with `ifNeeded` resolves `{ changed: false, forced: false }`. A transient domain vanishes
 * once off (`gone: true`).
 *
 * @param domain the domain
 * @param options mode, waitMs, signal, fallback, ifNeeded
 * @returns the states before and after, the time taken, and whether the fallback was needed
 * @throws {OperationInvalidError} when the domain is not running
 * @throws {AgentUnresponsiveError} in agent mode without an agent (unless `fallback: "destroy"`)
 * @throws a `DOMException` TimeoutError after `waitMs` without fallback; the signal's reason on abort
 *
 * @example
 * ```ts ignore
 * const result = await shutdownDomain(dom, { mode: "acpi", waitMs: 30_000, fallback: "destroy" });
 * if (result.forced) console.warn(`${dom.name} ignored ACPI; destroyed after ${result.tookMs} ms`);
 * ```
 */
export async function shutdownDomain(domain: Domain, options: ShutdownOptions = {}): Promise<ShutdownResult> {
  const t0 = performance.now();
  const verb = "shut down";
  const mode = options.mode ?? "default";
  const waitMs = options.waitMs ?? 60_000;
  if (!(mode in modeFlags)) {
    throw new TypeError(
      `Cannot shut down domain ${JSON.stringify(domain.name)}: unknown mode ${JSON.stringify(mode)}`,
    );
  }
  if (!Number.isFinite(waitMs) || waitMs < 0) {
    throw new RangeError(
      `Cannot shut down domain ${JSON.stringify(domain.name)}: waitMs must be >= 0, got ${waitMs}`,
    );
  }
  options.signal?.throwIfAborted();
  const before = await readState(domain, verb);
  if (!active.has(before.state)) {
    if (options.ifNeeded) {
      return {
        before: before.state,
        after: before.state,
        afterReason: before.reasonName,
        tookMs: elapsed(t0),
        changed: false,
        forced: false,
      };
    }
    throw invalid(domain, verb, "domain is not running");
  }
  const fallback = options.fallback ?? "none";
  let gracefulFailure: string | undefined;
  try {
    await domain[kCall](
      verb,
      (h) => libvirt().symbols.virDomainShutdownFlagsAsync(h, modeFlags[mode]),
      isNegative,
    );
  } catch (error) {
    const attributed = attribute_(error, domain, verb);
    if (fallback !== "destroy" || error instanceof TypeError) throw attributed;
    gracefulFailure = (attributed as Error).message;
  }
  let gone = false;
  if (gracefulFailure === undefined) {
    let now = await readAfter(domain, verb);
    gone = now.gone;
    if (now.info.state !== "shutoff" && waitMs > 0) {
      try {
        await waitForState(domain, "shutoff", {
          timeoutMs: waitMs,
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (error) {
        if (error instanceof NotFoundError) gone = true; // transient: vanished as it stopped
        else if (options.signal?.aborted) throw error; // aborted: the signal's reason, untouched
        else if (!isTimeout(error)) {
          // no events here (event loop disabled, or the driver refused a subscription): the request
          // went out, so wait for its outcome by polling instead of reporting a failure
          gone = await pollForShutoff(domain, t0 + waitMs, options.signal);
        }
      }
      now = await readAfter(domain, verb);
      gone ||= now.gone;
    }
    if (now.info.state === "shutoff") {
      return {
        before: before.state,
        after: now.info.state,
        afterReason: now.info.reasonName,
        tookMs: elapsed(t0),
        changed: true,
        forced: false,
        ...(gone ? { gone: true } : {}),
      };
    }
    gracefulFailure = `domain ${JSON.stringify(domain.name)} is still ${now.info.state} after ${waitMs} ms ` +
      `(mode ${JSON.stringify(mode)})`;
    if (fallback !== "destroy") {
      throw new DOMException(
        `Cannot shut down domain ${JSON.stringify(domain.name)}: it is still ${now.info.state} after ` +
          `${waitMs} ms (mode ${JSON.stringify(mode)}); pass fallback: "destroy" to force it off`,
        "TimeoutError",
      );
    }
  }
  options.signal?.throwIfAborted();
  try {
    await domain[kCall](verb, (h) => libvirt().symbols.virDomainDestroyFlagsAsync(h, 0), isNegative);
  } catch (error) {
    // it may have powered off on its own between our read and the destroy
    if (!(attribute_(error, domain, verb) instanceof OperationInvalidError)) {
      throw attribute_(error, domain, verb);
    }
  }
  const after = await readAfter(domain, verb);
  return {
    before: before.state,
    after: after.info.state,
    afterReason: after.info.reasonName,
    tookMs: elapsed(t0),
    changed: true,
    forced: true,
    gracefulFailure,
    ...(after.gone || gone ? { gone: true } : {}),
  };
}

/**
 * Asks a running domain to reboot (virDomainReboot); resolves once the request was accepted (the guest
 * reboots on its own time; a "reboot" event follows on hypervisors that emit one).
 *
 * @param domain the domain
 * @param options mode: "acpi", "agent" or "default"
 * @returns the states before and after the request
 * @throws {OperationInvalidError} when the domain is not running
 * @throws {AgentUnresponsiveError} in agent mode without an agent
 */
export async function rebootDomain(domain: Domain, options: RebootOptions = {}): Promise<LifecycleResult> {
  const mode = options.mode ?? "default";
  if (!(mode in modeFlags)) {
    throw new TypeError(
      `Cannot reboot domain ${JSON.stringify(domain.name)}: unknown mode ${JSON.stringify(mode)}`,
    );
  }
  return await lifecycle(domain, {
    verb: "reboot",
    refuse: (s) => runningStates.has(s) ? undefined : `domain is not running (it is ${s})`,
    run: (h) => libvirt().symbols.virDomainRebootAsync(h, modeFlags[mode]),
  });
}

/**
 * Resets a domain like a hardware reset button, without asking the guest (virDomainReset).
 *
 * @param domain the domain
 * @returns the states before and after
 * @throws {OperationInvalidError} when the domain is not active
 */
export function resetDomain(domain: Domain): Promise<LifecycleResult> {
  return lifecycle(domain, {
    verb: "reset",
    refuse: (s) => active.has(s) ? undefined : "domain is not running",
    run: (h) => libvirt().symbols.virDomainResetAsync(h, 0),
  });
}

/**
 * Pauses a running domain's vCPUs (virDomainSuspend).
 *
 * No-op semantics: suspending a paused domain throws {@link OperationInvalidError} ("domain is already
 * paused"), or with `ifNeeded` resolves `{ changed: false }`; suspending a shut-off domain always throws.
 *
 * @param domain the domain
 * @param options ifNeeded
 * @returns the states before and after
 * @throws {OperationInvalidError} when the domain is not running
 */
export function suspendDomain(domain: Domain, options: LifecycleOptions = {}): Promise<LifecycleResult> {
  return lifecycle(domain, {
    verb: "suspend",
    refuse: (s) =>
      runningStates.has(s)
        ? undefined
        : s === "paused"
        ? "domain is already paused"
        : "domain is not running",
    noop: (s) => s === "paused",
    run: (h) => libvirt().symbols.virDomainSuspendAsync(h),
    implies: { after: "paused", reason: "user" },
  }, options);
}

/**
 * Resumes a paused domain (virDomainResume).
 *
 * No-op semantics: resuming a running domain throws {@link OperationInvalidError} ("domain is not
 * paused"), or with `ifNeeded` resolves `{ changed: false }`; resuming a shut-off domain always throws
 * (use {@link startDomain}).
 *
 * @param domain the domain
 * @param options ifNeeded
 * @returns the states before and after
 * @throws {OperationInvalidError} when the domain is not paused
 */
export function resumeDomain(domain: Domain, options: LifecycleOptions = {}): Promise<LifecycleResult> {
  return lifecycle(domain, {
    verb: "resume",
    refuse: (s) =>
      s === "paused" ? undefined : runningStates.has(s) ? "domain is not paused" : "domain is not running",
    noop: (s) => runningStates.has(s),
    run: (h) => libvirt().symbols.virDomainResumeAsync(h),
    implies: { before: "paused", after: "running", reason: "unpaused" },
  }, options);
}

/**
 * Saves a running or paused domain's memory to a file libvirt manages and stops it (virDomainManagedSave);
 * the next start ({@link startDomain} or {@link restoreDomain}) restores it.
 *
 * @param domain the domain
 * @param options bypassCache, restoreAs
 * @returns the states before and after ("shutoff", reason "saved")
 * @throws {OperationInvalidError} when the domain is not active, or is transient
 */
export function managedSaveDomain(
  domain: Domain,
  options: ManagedSaveOptions = {},
): Promise<LifecycleResult> {
  const flags = (options.bypassCache ? 1 : 0) | (options.restoreAs === "running" ? 2 : 0) |
    (options.restoreAs === "paused" ? 4 : 0);
  return lifecycle(domain, {
    verb: "save the state of",
    refuse: notRunning,
    run: (h) => libvirt().symbols.virDomainManagedSaveAsync(h, flags),
  });
}

/**
 * Restores a domain from its managed save image by starting it (virDomainCreateWithFlags).
 *
 * Unlike {@link startDomain}, this refuses to boot afresh: without a managed save image it throws
 * {@link OperationInvalidError} ("domain has no managed save image").
 *
 * @param domain the domain
 * @param options paused (restore into paused), bypassCache
 * @returns the states before and after (reason "restored")
 * @throws {OperationInvalidError} when the domain is active or has no managed save image
 */
export async function restoreDomain(
  domain: Domain,
  options: Pick<StartOptions, "paused" | "bypassCache"> = {},
): Promise<LifecycleResult> {
  let has: boolean;
  try {
    has = await domain.hasManagedSave();
  } catch (error) {
    throw attribute_(error, domain, "restore");
  }
  if (!has) throw invalid(domain, "restore", "domain has no managed save image");
  const flags = (options.paused ? 1 : 0) | (options.bypassCache ? 4 : 0);
  return lifecycle(domain, {
    verb: "restore",
    refuse: (s) => active.has(s) ? `domain is already ${s}` : undefined,
    run: (h) => libvirt().symbols.virDomainCreateWithFlagsAsync(h, flags),
  });
}

/**
 * Removes a domain's managed save image, so that the next start boots afresh (virDomainManagedSaveRemove).
 *
 * @param domain the domain
 * @returns true when an image was removed, false when there was none
 * @throws {LibvirtError} when libvirt cannot remove it
 */
export async function removeManagedSave(domain: Domain): Promise<boolean> {
  if (!await domain.hasManagedSave()) return false;
  await domain[kCall](
    "remove the managed save image of",
    (h) => libvirt().symbols.virDomainManagedSaveRemoveAsync(h, 0),
    isNegative,
  );
  return true;
}

/**
 * Undefines a domain (virDomainUndefineFlags): a shut-off domain is gone (`gone: true`), a running one
 * becomes transient (it vanishes when it stops). The handle stays usable for what remains.
 *
 * @param domain the domain
 * @param options also remove the managed save image, snapshot/checkpoint metadata, NVRAM
 * @returns the states before and after
 * @throws {OperationInvalidError} for a transient domain, or while a managed save image or snapshots
 *   exist without the matching option
 */
export async function undefineDomain(
  domain: Domain,
  options: UndefineOptions = {},
): Promise<LifecycleResult> {
  const flags = (options.managedSave ? 1 : 0) | (options.snapshotsMetadata ? 2 : 0) |
    (options.nvram === true ? 4 : 0) | (options.nvram === false ? 8 : 0) |
    (options.checkpointsMetadata ? 16 : 0);
  const uuid = domain.uuid;
  const result = await lifecycle(domain, {
    verb: "undefine",
    refuse: () => undefined,
    run: (h) => libvirt().symbols.virDomainUndefineFlagsAsync(h, flags),
  }, { states: options.states });
  invalidate(domain, uuid);
  return result;
}
