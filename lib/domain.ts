/**
 * Domain handles: lookup, listing, identity, state and info.
 *
 * A {@link Domain} wraps a `virDomainPtr` of one {@link Connection}; users get them from
 * {@link lookupDomain} / {@link listAllDomains} and free them with `using` (or {@link Domain.free}).
 * The connection owns its handles: whatever is still open when it closes is freed then and counted
 * in the close report (`freedHandles`), so a forgotten handle is bounded by the connection's life and
 * shows up in the pool's statistics. (A FinalizationRegistry could not help: the connection's strong
 * reference keeps every handle reachable until then.)
 *
 * @module
 */
import { type Connection, kInternals } from "./connection.ts";
import { type HandleType, isUuid, kCall, kCallSync, kPointer, ObjectHandle } from "./_handle.ts";
import { cString, cStringCached, OutSlot, takeCString, takePointerArray } from "./ffi/c.ts";
import { libvirt } from "./ffi/library.ts";
import { describeXml } from "./xml.ts";
import { decodeDomainInfo, decodeInterface, VIR_DOMAIN_INFO_SIZE } from "./ffi/structs.ts";
import { UUID_STRING_BUFLEN } from "./ffi/symbols_domain.ts";

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

/** The name of a numeric virDomainState ("nostate" for values this version does not know). */
export function domainStateName(state: number): DomainStateName {
  return stateNames[state] ?? "nostate";
}

/** What virDomainGetInfo reports. */
export interface DomainInfo {
  state: DomainStateName;
  /** Maximum memory, KiB. */
  maxMemoryKiB: number;
  /** Current memory, KiB. */
  memoryKiB: number;
  vcpus: number;
  /** CPU time used, nanoseconds. */
  cpuTimeNs: bigint;
}

/** Filters for {@link listAllDomains} (`VIR_CONNECT_LIST_DOMAINS_*`); unset means no filter. */
export interface ListDomainsOptions {
  active?: boolean;
  persistent?: boolean;
  /** Only domains in this state (running, paused, shutoff, or other). */
  state?: "running" | "paused" | "shutoff" | "other";
  autostart?: boolean;
  hasSnapshot?: boolean;
  hasManagedSave?: boolean;
}

/** Translates {@link ListDomainsOptions} into virConnectListAllDomains flags. */
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

const isNull = (value: Deno.PointerValue) => value === null;
const isNegative = (value: number) => value < 0;
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

/** A libvirt domain (virtual machine) of one connection. Not constructible by users. */
export class Domain extends ObjectHandle {
  #uuid: string | undefined;

  /** @internal */
  constructor(token: symbol, connection: Connection, handle: Deno.PointerObject, name?: string) {
    if (token !== constructing) {
      throw new TypeError("Cannot construct a Domain directly: use lookupDomain() or listAllDomains()");
    }
    super(domainType, connection, handle, name);
  }

  /** The domain's UUID, e.g. "6695eb01-f6a4-8304-79aa-97f2502e193f" (local). */
  get uuid(): string {
    if (this.#uuid === undefined) {
      const buffer = new Uint8Array(UUID_STRING_BUFLEN);
      libvirt().symbols.virDomainGetUUIDString(this[kPointer]("read the UUID of"), buffer);
      this.#uuid = new TextDecoder().decode(buffer.subarray(0, 36));
    }
    return this.#uuid;
  }

  /** The hypervisor's id for a running domain, or undefined when it is not running. Local, as of lookup. */
  get id(): number | undefined {
    const id = libvirt().symbols.virDomainGetID(this[kPointer]("read the id of"));
    return id === 0xffffffff ? undefined : id;
  }

  /** State, memory, vCPUs and CPU time (virDomainGetInfo). */
  async info(): Promise<DomainInfo> {
    const buffer = new Uint8Array(VIR_DOMAIN_INFO_SIZE);
    await this[kCall]("get info of", (h) => libvirt().symbols.virDomainGetInfoAsync(h, buffer), isNegative);
    return toInfo(buffer);
  }

  /** {@link info} without leaving the main thread, for in-process drivers. */
  infoSync(): DomainInfo {
    this[kCallSync]("get info of", (h) => libvirt().symbols.virDomainGetInfo(h, infoBuffer), isNegative);
    return toInfo(infoView);
  }

  /** The state and libvirt's reason code for it (virDomainGetState). */
  async state(): Promise<{ state: DomainStateName; reason: number }> {
    const state = new OutSlot();
    const reason = new OutSlot();
    await this[kCall](
      "get the state of",
      (h) => libvirt().symbols.virDomainGetStateAsync(h, state.buffer, reason.buffer, 0),
      isNegative,
    );
    return { state: domainStateName(state.int32), reason: reason.int32 };
  }

  /** The domain's XML description (virDomainGetXMLDesc). */
  async xmlDesc(flags = 0): Promise<string> {
    const pointer = await this[kCall](
      "get the XML of",
      (h) => libvirt().symbols.virDomainGetXMLDescAsync(h, flags),
      isNull,
    );
    return takeCString(pointer) ?? "";
  }
}

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

/**
 * Looks a domain up by name, UUID string or numeric id.
 *
 * @param connection the connection to ask
 * @param key a name, a UUID ("6695eb01-..."), or a running domain's id
 * @returns a handle to free with `using` or {@link Domain.free}
 * @throws {NotFoundError} when no such domain exists
 */
export async function lookupDomain(connection: Connection, key: string | number): Promise<Domain> {
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
      new Domain(
        constructing,
        connection,
        handle!,
        typeof key === "string" && !isUuid(key) ? key : undefined,
      ),
  );
}

/** {@link lookupDomain} without leaving the main thread, for in-process drivers. */
export function lookupDomainSync(connection: Connection, key: string | number): Domain {
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
      new Domain(
        constructing,
        connection,
        handle!,
        typeof key === "string" && !isUuid(key) ? key : undefined,
      ),
  );
}

/**
 * Lists the domains of a connection in one call (virConnectListAllDomains).
 *
 * @param connection the connection to ask
 * @param options filters; none lists every domain
 * @returns handles the caller frees (`for (using d of ...)` or free each)
 */
export async function listAllDomains(
  connection: Connection,
  options: ListDomainsOptions = {},
): Promise<Domain[]> {
  const slot = new OutSlot();
  return await connection[kInternals].call(
    () => `list the domains of ${JSON.stringify(connection.uri)}`,
    (h) => libvirt().symbols.virConnectListAllDomainsAsync(h, slot.buffer, listDomainsFlags(options)),
    isNegative,
    (count) => takePointerArray(slot.pointer, count).map((h) => new Domain(constructing, connection, h)),
  );
}

/** {@link listAllDomains} without leaving the main thread, for in-process drivers. */
export function listAllDomainsSync(connection: Connection, options: ListDomainsOptions = {}): Domain[] {
  const slot = new OutSlot();
  return connection[kInternals].callSync(
    () => `list the domains of ${JSON.stringify(connection.uri)}`,
    (h) => libvirt().symbols.virConnectListAllDomains(h, slot.buffer, listDomainsFlags(options)),
    isNegative,
    (count) => takePointerArray(slot.pointer, count).map((h) => new Domain(constructing, connection, h)),
  );
}

/**
 * Defines a persistent domain from XML (virDomainDefineXML); it stays shut off until started.
 *
 * @throws {LibvirtError} with libvirt's reason when the XML is invalid or the name is taken
 */
export async function defineDomain(connection: Connection, xml: string): Promise<Domain> {
  const text = cString(xml, "domain XML");
  return await connection[kInternals].call(
    () => `define domain ${describeXml(xml)}`,
    (h) => libvirt().symbols.virDomainDefineXMLAsync(h, text),
    isNull,
    (handle) => new Domain(constructing, connection, handle!),
  );
}

/**
 * Creates and starts a transient domain from XML (virDomainCreateXML): it vanishes when it stops.
 *
 * @param flags `VIR_DOMAIN_START_*` (1 paused, 2 autodestroy)
 * @throws {LibvirtError} with libvirt's reason when the XML is invalid or the domain cannot start
 */
export async function createDomain(connection: Connection, xml: string, flags = 0): Promise<Domain> {
  const text = cString(xml, "domain XML");
  return await connection[kInternals].call(
    () => `create domain ${describeXml(xml)}`,
    (h) => libvirt().symbols.virDomainCreateXMLAsync(h, text, flags),
    isNull,
    (handle) => new Domain(constructing, connection, handle!),
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
  addresses: { family: "ipv4" | "ipv6"; address: string; prefix: number }[];
}

/**
 * The addresses one libvirt source reports for a domain's interfaces (virDomainInterfaceAddresses).
 * This is the raw query; lib/ip/ merges sources, filters and explains.
 *
 * @param domain the domain to ask about
 * @param source "lease" (libvirt's DHCP), "agent" (qemu-guest-agent; needs a read-write connection),
 *   "arp" (the host's neighbour table)
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

/** Undefines a domain (virDomainUndefineFlags); a running domain becomes transient. */
export async function undefineDomain(domain: Domain, flags = 0): Promise<void> {
  await domain[kCall]("undefine", (h) => libvirt().symbols.virDomainUndefineFlagsAsync(h, flags), isNegative);
}

/** Starts a defined domain (virDomainCreateWithFlags). */
export async function startDomain(domain: Domain, flags = 0): Promise<void> {
  await domain[kCall]("start", (h) => libvirt().symbols.virDomainCreateWithFlagsAsync(h, flags), isNegative);
}

/** Stops a domain at once, like pulling the plug (virDomainDestroyFlags). */
export async function destroyDomain(domain: Domain, flags = 0): Promise<void> {
  await domain[kCall]("destroy", (h) => libvirt().symbols.virDomainDestroyFlagsAsync(h, flags), isNegative);
}

/** Pauses a running domain's vCPUs (virDomainSuspend). */
export async function suspendDomain(domain: Domain): Promise<void> {
  await domain[kCall]("suspend", (h) => libvirt().symbols.virDomainSuspendAsync(h), isNegative);
}

/** Resumes a paused domain (virDomainResume). */
export async function resumeDomain(domain: Domain): Promise<void> {
  await domain[kCall]("resume", (h) => libvirt().symbols.virDomainResumeAsync(h), isNegative);
}
