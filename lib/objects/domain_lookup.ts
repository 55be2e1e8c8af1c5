/**
 * The domain finders: look a domain up by name, UUID or id (served from the connection's handle cache
 * for UUIDs, see lib/objects/domain.ts), list, define and create. Each is one libvirt call on the
 * connection; they live with the object because the cache's registration (`adoptDomain`: taking ownership of a fresh libvirt reference) is the object's.
 * A finder and its `...Sync` twin are one implementation (`lookupWith`, `listWith`) given the call
 * strategy: the gate's promise (callGate) or a synchronous call (callNow), lib/objects/domain_gate.ts.
 * The promise-returning finders are not `async`: on an idle `blocking: true` connection the promise
 * they return is the gate's own, settled (one promise and one microtask per call, not three).
 *
 * @module
 */
import { A_CONNECTION, checkDomainKey, checkInstance, checkOptions, checkString } from "../_args.ts";
import { Connection } from "../connection.ts";
import { isUuid } from "../_handle.ts";
import { cString, cStringCached, isNegative, isNull, OutSlot, Spares, takePointerArray } from "../ffi/c.ts";
import { libvirt } from "../ffi/library.ts";
import { describeXml } from "../xml.ts";
import { adoptDomain, cachedDomain, type Domain, wrapDomain } from "./domain.ts";
import { callGate, callNow } from "./domain_gate.ts";

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
 * @internal
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
 * import { Connection, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * console.log(dom.uuid, (await dom.state()).state);
 * ```
 */
export function lookupDomain(
  connection: Connection,
  key: string | number,
  options: LookupDomainOptions = {},
): Promise<Domain> {
  try {
    return Promise.resolve(lookupWith(connection, key, options, callGate));
  } catch (error) {
    return Promise.reject(error); // a bad argument: a rejection, as from an async function
  }
}

/**
 * How a finder runs its one call, the only difference between a finder and its `...Sync` twin:
 * {@link callGate} (a promise; on an idle `blocking: true` connection the call runs at once) or
 * {@link callNow} (synchronous). Each finder is written once, with its strategy as a parameter.
 */
type Strategy = typeof callGate | typeof callNow;

/** {@link lookupDomain} and {@link lookupDomainSync}: a cache hit, or one lookup call through `call`. */
function lookupWith(
  connection: Connection,
  key: string | number,
  options: LookupDomainOptions,
  call: Strategy,
): Domain | Promise<Domain> {
  checkLookup(connection, key, options);
  const hit = cachedDomain(connection, key, options.fresh ?? false);
  if (hit !== undefined) return hit;
  const byUuid = typeof key === "string" && isUuid(key);
  const lib = libvirt().symbols;
  return call(
    connection,
    () => `look up domain ${JSON.stringify(key)}`,
    (h, now) => {
      if (typeof key === "number") {
        return now ? lib.virDomainLookupByID(h, key) : lib.virDomainLookupByIDAsync(h, key);
      }
      const text = cStringCached(key, "domain name");
      if (byUuid) {
        return now ? lib.virDomainLookupByUUIDString(h, text) : lib.virDomainLookupByUUIDStringAsync(h, text);
      }
      return now ? lib.virDomainLookupByName(h, text) : lib.virDomainLookupByNameAsync(h, text);
    },
    isNull,
    // looked up by name: that is its name, no need to ask libvirt again
    (handle) =>
      byUuid
        ? adoptDomain(connection, handle!)
        : wrapDomain(connection, handle!, typeof key === "string" ? key : undefined),
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
 *
 * @example
 * ```ts
 * import { Connection, lookupDomainSync } from "@deno-libvirt/deno-libvirt";
 * const conn = Connection.openSync("test:///default");
 * using dom = lookupDomainSync(conn, "test");
 * using same = lookupDomainSync(conn, dom.id!); // by the running domain's id
 * console.log(same.name, same.uuid); // "test" "6695eb01-f6a4-8304-79aa-97f2502e193f"
 * conn.closeSync();
 * ```
 */
export function lookupDomainSync(
  connection: Connection,
  key: string | number,
  options: LookupDomainOptions = {},
): Domain {
  return lookupWith(connection, key, options, callNow) as Domain;
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
 *
 * @example
 * ```ts
 * import { Connection, listAllDomains } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * for (using dom of await listAllDomains(conn, { active: true, persistent: true })) {
 *   console.log(dom.name, (await dom.state()).state); // "test" "running"
 * }
 * ```
 */
export function listAllDomains(
  connection: Connection,
  options: ListDomainsOptions = {},
): Promise<Domain[]> {
  try {
    return Promise.resolve(listWith(connection, options, callGate));
  } catch (error) {
    return Promise.reject(error);
  }
}

// the blocking path's list slot: read in the call, before anything else can use it
const listSlot = new OutSlot();
// the nonblocking path's: one per call in flight (Spares)
const spareListSlots = new Spares(() => new OutSlot());

/** {@link listAllDomains} and {@link listAllDomainsSync}: one virConnectListAllDomains through `call`. */
function listWith(
  connection: Connection,
  options: ListDomainsOptions,
  call: Strategy,
): Domain[] | Promise<Domain[]> {
  checkInstance(connection, Connection, "list domains", "connection", A_CONNECTION);
  checkOptions(options, "list domains", listDomainsOptionTypes);
  const flags = listDomainsFlags(options);
  let slot: OutSlot | undefined;
  let array: Deno.PointerValue = null;
  return call(
    connection,
    () => `list the domains of ${JSON.stringify(connection.uri)}`,
    (h, now) => {
      if (!now) {
        return libvirt().symbols.virConnectListAllDomainsAsync(
          h,
          (slot = spareListSlots.take()).buffer,
          flags,
        );
      }
      const count = libvirt().symbols.virConnectListAllDomains(h, listSlot.buffer, flags);
      array = listSlot.pointer;
      return count;
    },
    isNegative,
    (count) => {
      if (slot !== undefined) {
        array = slot.pointer;
        spareListSlots.give(slot);
      }
      return takePointerArray(array, count).map((h) => wrapDomain(connection, h));
    },
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
 *
 * @example
 * ```ts
 * import { Connection, listAllDomainsSync } from "@deno-libvirt/deno-libvirt";
 * const conn = Connection.openSync("test:///default");
 * const names = listAllDomainsSync(conn, { state: "running" }).map((dom) => dom.name);
 * console.log(names); // [ "test" ]
 * conn.closeSync(); // frees the handles still open
 * ```
 */
export function listAllDomainsSync(connection: Connection, options: ListDomainsOptions = {}): Domain[] {
  return listWith(connection, options, callNow) as Domain[];
}

/**
 * Defines a persistent domain from XML (virDomainDefineXML); it stays shut off until started.
 * Defining an existing name (same UUID) updates its persistent definition.
 *
 * @param connection the connection to define it on
 * @param xml the domain XML (`buildDomainXml` writes one)
 * @returns a handle to the domain
 * @throws {LibvirtError} with libvirt's reason when the XML is invalid or the name is taken
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, defineDomain, undefineDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await defineDomain(
 *   conn,
 *   "<domain type='test'><name>docs-define</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>",
 * );
 * console.log(dom.name, (await dom.state()).state); // "docs-define" "shutoff"
 * await undefineDomain(dom);
 * ```
 */
export function defineDomain(connection: Connection, xml: string): Promise<Domain> {
  let text: Uint8Array<ArrayBuffer>;
  try {
    checkInstance(connection, Connection, "define a domain", "connection", A_CONNECTION);
    text = cString(checkString(xml, "define a domain", "xml"), "domain XML");
  } catch (error) {
    return Promise.reject(error);
  }
  return callGate(
    connection,
    () => `define domain ${describeXml(xml)}`,
    (h, now) =>
      now
        ? libvirt().symbols.virDomainDefineXML(h, text)
        : libvirt().symbols.virDomainDefineXMLAsync(h, text),
    isNull,
    (handle) => wrapDomain(connection, handle!),
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
 *
 * @example
 * ```ts
 * import { Connection, createDomain, destroyDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<domain type='test'><name>docs-create</name><memory unit='MiB'>64</memory>" +
 *   "<os><type>hvm</type></os></domain>";
 * using dom = await createDomain(conn, xml, { validate: true });
 * console.log((await dom.state()).state, await dom.isPersistent()); // "running" false
 * console.log((await destroyDomain(dom)).gone); // true: a transient domain vanishes when it stops
 * ```
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
  return await callGate(
    connection,
    () => `create domain ${describeXml(xml)}`,
    (h, now) =>
      now
        ? libvirt().symbols.virDomainCreateXML(h, text, flags)
        : libvirt().symbols.virDomainCreateXMLAsync(h, text, flags),
    isNull,
    (handle) => wrapDomain(connection, handle!),
  );
}
