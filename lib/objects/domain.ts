/**
 * The {@link Domain} object: a `virDomainPtr` of one {@link Connection}, with the one-call methods of
 * its generated base ({@link DomainCalls}) and the older convenience members (`state()`, `info()`,
 * `xmlDesc()`, ...; each one libvirt call), the state tables, and the per-connection handle cache.
 *
 * Users get domains from the finders (`lookupDomain`, `listAllDomains`, `defineDomain`,
 * `createDomain`, lib/objects/domain_lookup.ts) and free them with `using` (or {@link Domain.free}).
 * The connection owns its handles: whatever is still open when it closes is freed then and counted in
 * the close report (`freedHandles`), so a forgotten handle is bounded by the connection's life. (A
 * FinalizationRegistry could not help: the connection's strong reference keeps every handle reachable
 * until then.)
 *
 * ## The handle cache
 *
 * Each connection keeps a cache of domain handles keyed by UUID, filled by lookups by UUID. Every
 * `Domain` object is a distinct wrapper holding its own libvirt reference (`virDomainRef`) on a
 * shared `virDomainPtr`, so freeing one wrapper (`using`) never pulls the pointer from under another
 * user. `lookupDomain` by UUID is served from the cache without a round trip while any wrapper
 * obtained that way is alive. Lookups by name or id, listings, define and create bypass the cache:
 * they always ask libvirt (names can be reused by a new domain or renamed, UUIDs cannot), and
 * registering them would cost a UUID read and two reference calls per handle, which doubled the cost
 * of an in-process lookup (measured: 2.2 -> 4.4 µs). An entry is dropped when its last wrapper is
 * freed, and invalidated when the domain is undefined, or destroyed / shut down while transient,
 * through the lifecycle functions (the next UUID lookup then asks libvirt, and fails with
 * `NotFoundError` if the domain is gone). See {@link domainCacheStats}.
 *
 * @module
 */
import {
  domainOpenChannel,
  domainOpenConsole,
  domainScreenshot,
  type OpenChannelOptions,
  type OpenConsoleOptions,
} from "./stream_attach.ts";
import type { Stream } from "./stream.ts";
import type { Connection } from "../connection.ts";
import { kInternals } from "../_internals.ts";
import {
  type HandleType,
  isUuid,
  kCall,
  kCallSync,
  kOperation,
  kPointer,
  type ObjectHandle,
} from "../_handle.ts";
import { isNegative, isNull, OutSlot, Spares, takeCString } from "../ffi/c.ts";
import { libvirt } from "../ffi/library.ts";
import { VIR_DOMAIN_INFO_SIZE } from "../ffi/structs.ts";
import { DomainCalls } from "./_generated/domain.js";
import { connectionOf, registerHandleFactory } from "./_registry.ts";
import { type CacheEntry, cacheOf, normalizeUuid, release, uuidOf } from "./domain_cache.ts";
import {
  addressSourceCode,
  type DomainInfo,
  type DomainStateInfo,
  type DomainXmlOptions,
  infoBufferFor,
  type InterfaceAddresses,
  type InterfaceAddressSource,
  readInfoBuffer,
  stateInfo,
  takeInterfaceAddresses,
  toDomainInfo,
  xmlFlags,
} from "./domain_state.ts";

export { cacheUuid, type DomainCacheStats, domainCacheStats, invalidateDomain } from "./domain_cache.ts";
export {
  type DomainInfo,
  DomainState,
  type DomainStateInfo,
  type DomainStateName,
  domainStateName,
  domainStateReason,
  type DomainXmlOptions,
  type InterfaceAddresses,
  type InterfaceAddressSource,
} from "./domain_state.ts";

// sync paths only (calls on the main thread, read before they return), so one buffer serves all
const infoBuffer = new Uint8Array(VIR_DOMAIN_INFO_SIZE);
const infoView = new DataView(infoBuffer.buffer);
const addressSlot = new OutSlot();
const stateScratch = new Int32Array(2);
const stateScratchReason = stateScratch.subarray(1);
// the nonblocking paths' buffers, one per call in flight (Spares)
interface StateSlots {
  readonly state: Int32Array<ArrayBuffer>;
  readonly reason: Int32Array<ArrayBuffer>;
}
const spareStates = new Spares<StateSlots>(() => {
  const state = new Int32Array(2);
  return { state, reason: state.subarray(1) };
});
const spareAddressSlots = new Spares(() => new OutSlot());
const constructing = Symbol("deno_libvirt.domain.constructing");

const domainType: HandleType = {
  className: "Domain",
  noun: "domain",
  ref: (h) => libvirt().symbols.virDomainRef(h),
  free: (h) => libvirt().symbols.virDomainFree(h),
  name: (h) => libvirt().symbols.virDomainGetName(h),
};

/**
 * @internal One libvirt call through the connection's gate (exact errors, one call at a time), at
 * the cost of that call. `run` makes exactly that call before it awaits anything. On a `blocking:
 * true` connection (`now` true) it calls the blocking C function: the call runs on this thread
 * before anything else can, so it is not counted in flight (kCall) and `run` may pass shared scratch
 * buffers, read before it returns (a fresh small typed array passed to C costs 1.5-3 µs;
 * libvirt-python's whole state() 3.5 µs). Otherwise (`now` absent) it returns the `...Async` twin's
 * promise, through kCall (the handle counted in flight while the call runs on Deno's thread pool).
 *
 * @param handle the object the call is about
 * @param verb the operation, as errors word it: "get the state of"
 * @param run the call
 * @param failed true for libvirt's failure return
 * @param wrap turns the result into the value, while the connection is still held
 * @returns what `wrap` returns (the result when absent); a promise that is settled already when the call
 *   ran at once. The methods built on it are not `async`: they return this promise (one promise and one
 *   microtask per call; an async method adds two, ~0.5 µs in-process and more after a round trip)
 * @throws {LibvirtError} the error of exactly this call; {TypeError} for a freed handle or a closed connection
 */
export function callOnce<T, U = T>(
  handle: ObjectHandle,
  verb: string,
  run: (pointer: Deno.PointerObject, now?: boolean) => T | Promise<T>,
  failed: (result: T) => boolean,
  wrap?: (result: T) => U,
): Promise<U> {
  const gate = handle.connection[kInternals];
  try {
    // nonblocking: `run` itself, called with the pointer alone (`now` absent), makes the `...Async` call
    if (gate.openOptions().blocking !== true) return handle[kCall](verb, run, failed, wrap);
    const operation = () => handle[kOperation](verb);
    const call = () => run(handle[kPointer](verb), true) as T;
    // idle: the call runs now, its promise settled (callGate in ./domain_gate.ts, inlined: one layer less)
    if (gate.idle()) return Promise.resolve(gate.callSync(operation, call, failed, wrap));
    return gate.call(operation, () => Promise.resolve(call()), failed, wrap);
  } catch (error) {
    return Promise.reject(error); // a freed handle: a rejection, as from an async method
  }
}

// ---------------------------------------------------------------------------------------------------
// The per-connection handle cache (see the module doc; its bookkeeping is in ./domain_cache.ts).

/**
 * @internal Wraps a pointer libvirt just returned (we own one reference on it) and registers it in the cache:
 * the freshest pointer becomes the entry's (its id is the most recent), older wrappers keep theirs.
 */
export function adoptDomain(connection: Connection, pointer: Deno.PointerObject, name?: string): Domain {
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

/** @internal Wraps a pointer libvirt just returned (we own one reference on it), outside the cache. */
export function wrapDomain(connection: Connection, pointer: Deno.PointerObject, name?: string): Domain {
  return new Domain(constructing, connection, pointer, undefined, name);
}

/** A cache hit: a new wrapper with its own reference on the entry's pointer. No round trip. */
function fromCache(connection: Connection, entry: CacheEntry): Domain {
  libvirt().symbols.virDomainRef(entry.pointer);
  entry.wrappers++;
  return new Domain(constructing, connection, entry.pointer, entry);
}

/**
 * @internal A cache hit for a UUID lookup (a new wrapper, no round trip), or undefined: the key is not a
 * UUID, `fresh` asks libvirt anyway, the connection is closed, or no live wrapper holds the domain.
 */
export function cachedDomain(
  connection: Connection,
  key: string | number,
  fresh: boolean,
): Domain | undefined {
  if (typeof key !== "string" || !isUuid(key)) return undefined;
  const cache = cacheOf(connection);
  const entry = fresh || connection.closed ? undefined : cache.entries.get(normalizeUuid(key));
  if (entry === undefined) {
    cache.misses++;
    return undefined;
  }
  cache.hits++;
  return fromCache(connection, entry);
}

// ---------------------------------------------------------------------------------------------------

/**
 * A libvirt domain (virtual machine) of one connection. Not constructible by users: get one from
 * `lookupDomain`, `listAllDomains`, `defineDomain` or `createDomain`. Every method is one libvirt
 * call (the generated ones are named after the C function: `getState()` is `virDomainGetState`); the
 * operations with results and waits are free functions (`startDomain`, `shutdownDomain`, ...).
 *
 * @example
 * ```ts
 * import { Connection, type Domain, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom: Domain = await lookupDomain(conn, "test");
 * console.log(dom); // Domain { name: "test" }
 * console.log(dom.id, await dom.state()); // 1 { state: "running", reason: 0, reasonName: "unknown" }
 * const { memoryKiB, vcpus } = await dom.info();
 * console.log(memoryKiB, vcpus, (await dom.xmlDesc()).length > 0); // 2097152 2 true
 * ```
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

  /** @internal The UUID if already read (no call), else undefined. */
  get knownUuid(): string | undefined {
    return this.#uuid ?? this.#entry?.uuid;
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
  info(): Promise<DomainInfo> {
    let info: DomainInfo | undefined;
    let buffer = infoBuffer;
    return callOnce(
      this,
      "get info of",
      (h, now) => {
        if (!now) {
          return libvirt().symbols.virDomainGetInfoAsync(h, buffer = infoBufferFor());
        }
        const result = libvirt().symbols.virDomainGetInfo(h, infoBuffer);
        if (result >= 0) info = toDomainInfo(infoView); // read before anything else can use the buffer
        return result;
      },
      isNegative,
      () => info ?? readInfoBuffer(buffer), // reused once read
    );
  }

  /**
   * {@link info} without leaving the main thread, for in-process drivers.
   *
   * @returns the decoded `virDomainInfo`
   * @throws {TypeError} when an asynchronous call is in flight on the connection
   */
  infoSync(): DomainInfo {
    this[kCallSync]("get info of", (h) => libvirt().symbols.virDomainGetInfo(h, infoBuffer), isNegative);
    return toDomainInfo(infoView);
  }

  /**
   * The state, libvirt's reason code for it and the reason's name (virDomainGetState).
   *
   * @returns e.g. `{ state: "shutoff", reason: 5, reasonName: "saved" }`
   * @throws {LibvirtError} when libvirt cannot read it
   */
  state(): Promise<DomainStateInfo> {
    let out: StateSlots | undefined;
    let state = 0;
    let reason = 0;
    return callOnce(
      this,
      "get the state of",
      (h, now) => {
        if (!now) {
          out = spareStates.take();
          return libvirt().symbols.virDomainGetStateAsync(h, out.state, out.reason, 0);
        }
        const result = libvirt().symbols.virDomainGetState(h, stateScratch, stateScratchReason, 0);
        state = stateScratch[0]; // read before anything else can use the scratch
        reason = stateScratch[1];
        return result;
      },
      isNegative,
      () => {
        if (out === undefined) return stateInfo(state, reason);
        const info = stateInfo(out.state[0], out.state[1]);
        spareStates.give(out);
        return info;
      },
    );
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

  /**
   * The addresses one libvirt source reports for the domain's interfaces (virDomainInterfaceAddresses).
   * This is the raw query; lib/ip/ merges sources, filters and explains.
   *
   * @param source "lease" (libvirt's DHCP), "agent" (qemu-guest-agent; needs a read-write connection),
   *   "arp" (the host's neighbour table)
   * @returns one entry per interface the source knows
   * @throws {AgentUnresponsiveError} when the agent does not answer; {@link LibvirtError} otherwise
   */
  interfaceAddresses(source: InterfaceAddressSource): Promise<InterfaceAddresses[]> {
    let code: number;
    try {
      code = addressSourceCode(source, this.name);
    } catch (error) {
      return Promise.reject(error);
    }
    const lib = libvirt().symbols;
    let slot: OutSlot | undefined;
    let array: Deno.PointerValue = null;
    return callOnce(
      this,
      `get the ${source} addresses of`,
      (h, now) => {
        if (!now) {
          return lib.virDomainInterfaceAddressesAsync(h, (slot = spareAddressSlots.take()).buffer, code, 0);
        }
        const count = lib.virDomainInterfaceAddresses(h, addressSlot.buffer, code, 0);
        array = addressSlot.pointer; // read before anything else can use the slot
        return count;
      },
      isNegative,
      (count) => {
        if (slot !== undefined) {
          array = slot.pointer;
          spareAddressSlots.give(slot);
        }
        return takeInterfaceAddresses(array, count);
      },
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
   * ```ts
   * import { Connection, isNotSupported, lookupDomain } from "@deno-libvirt/deno-libvirt";
   * await using conn = await Connection.open("test:///default"); // qemu:///system has consoles
   * using dom = await lookupDomain(conn, "test");
   * try {
   *   await using console = await dom.openConsole("serial0", { force: true });
   *   for await (const chunk of console.readable) Deno.stdout.writeSync(chunk);
   * } catch (error) {
   *   if (!isNotSupported(error)) throw error; // the test driver has no consoles
   * }
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
   * ```ts
   * import { Connection, isNotSupported, lookupDomain } from "@deno-libvirt/deno-libvirt";
   * await using conn = await Connection.open("test:///default"); // qemu:///system has channels
   * using dom = await lookupDomain(conn, "test");
   * try {
   *   await using channel = await dom.openChannel("org.example.port.0");
   *   await channel.writable.getWriter().write(new TextEncoder().encode("hello\n"));
   * } catch (error) {
   *   if (!isNotSupported(error)) throw error; // the test driver has no channels
   * }
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
   * ```ts
   * import { Connection, lookupDomain, newStream } from "@deno-libvirt/deno-libvirt";
   * await using conn = await Connection.open("test:///default");
   * using dom = await lookupDomain(conn, "test");
   * await using stream = newStream(conn);
   * const mime = await dom.screenshot(stream);
   * const image = new Uint8Array(await new Response(stream.readable).arrayBuffer());
   * console.log(mime, image.byteLength > 0); // "image/png" true
   * ```
   */
  screenshot(stream: Stream, screen = 0): Promise<string> {
    return domainScreenshot(this, stream, screen);
  }
}

registerHandleFactory("virDomainPtr", (owner, p) => wrapDomain(connectionOf<Connection>(owner), p));

// The registry entry through which the layers below name Domain (lib/objects/_types.ts).
declare module "./_types.ts" {
  interface ObjectClasses {
    Domain: Domain;
  }
}
