/**
 * libvirt's domain states and their reasons by name (`virDomainState`, `virDomain*Reason`), and the
 * shapes `Domain.state()`, `Domain.info()` and `Domain.interfaceAddresses()` return or take.
 *
 * @module
 */
import { Spares } from "../ffi/c.ts";
import { libvirt } from "../ffi/library.ts";
import { decodeDomainInfo, VIR_DOMAIN_INFO_SIZE } from "../ffi/structs.ts";

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
 *
 * @example
 * ```ts
 * import { DomainState, domainStateName } from "@deno-libvirt/deno-libvirt";
 * console.log(domainStateName(DomainState.PAUSED), domainStateName(42)); // "paused" "nostate"
 * ```
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
 * import { domainStateReason } from "@deno-libvirt/deno-libvirt";
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

/** Where {@link Domain.interfaceAddresses} asks (`VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_*`). */
export type InterfaceAddressSource = "lease" | "agent" | "arp";

/** One guest interface as a libvirt address source reports it. */
export interface InterfaceAddresses {
  /** The interface's name: the host-side device (vnet0) for lease/arp, the guest's (eth0) for agent. */
  name: string;
  /** Its MAC address, lower case, or undefined when the source does not know it. */
  mac: string | undefined;
  /** The interface's addresses, each with its family and prefix length (e.g. 24). */
  addresses: { family: "ipv4" | "ipv6"; address: string; prefix: number }[];
}

/** virDomainInfo buffers of nonblocking info() calls (see Spares). */
const spareInfo = new Spares(() => new Uint8Array(VIR_DOMAIN_INFO_SIZE));

/**
 * @internal A virDomainInfo buffer for one nonblocking call (its own while C fills it on another
 * thread): a spare one when there is one, so that a loop of info() calls allocates none.
 */
export function infoBufferFor(): Uint8Array<ArrayBuffer> {
  return spareInfo.take();
}

/** @internal Decodes a buffer of {@link infoBufferFor} once its call returned, and keeps it for reuse. */
export function readInfoBuffer(buffer: Uint8Array<ArrayBuffer>): DomainInfo {
  const info = toDomainInfo(buffer);
  spareInfo.give(buffer);
  return info;
}

/**
 * @internal Decodes a `virDomainInfo` libvirt filled in.
 *
 * @param buffer the struct's bytes
 * @returns the {@link DomainInfo}
 */
export function toDomainInfo(buffer: Uint8Array | DataView): DomainInfo {
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
 * @internal Decodes the `virDomainInterfacePtr` array virDomainInterfaceAddresses returned into
 * {@link InterfaceAddresses}, freeing each element and the array (Domain.interfaceAddresses). Straight
 * into the result, one loop, no intermediate records (layout: lib/ffi/structs.ts's decodeInterface):
 * the lease query's client CPU after its round trip is mostly this decoding.
 */
export function takeInterfaceAddresses(array: Deno.PointerValue, count: number): InterfaceAddresses[] {
  const result: InterfaceAddresses[] = [];
  if (array === null) return result;
  const { symbols, libc } = libvirt();
  const list = new Deno.UnsafePointerView(array);
  try {
    for (let i = 0; i < count; i++) {
      const pointer = list.getPointer(i * 8);
      if (pointer === null) continue;
      try {
        result.push(interfaceOf(new Deno.UnsafePointerView(pointer)));
      } finally {
        symbols.virDomainInterfaceFree(pointer);
      }
    }
  } finally {
    libc.free(array);
  }
  return result;
}

/** One virDomainInterface (32 bytes: name, hwaddr, naddrs, addrs of 24-byte virDomainIPAddress). */
function interfaceOf(view: Deno.UnsafePointerView): InterfaceAddresses {
  const hwaddr = view.getPointer(8);
  const count = view.getUint32(16);
  const items = view.getPointer(24);
  const addresses: InterfaceAddresses["addresses"] = [];
  if (items !== null) {
    const item = new Deno.UnsafePointerView(items);
    for (let base = 0; base < count * 24; base += 24) {
      const address = item.getPointer(base + 8);
      addresses.push({
        family: item.getInt32(base) === 1 ? "ipv6" : "ipv4",
        address: address === null ? "" : Deno.UnsafePointerView.getCString(address),
        prefix: item.getUint32(base + 16),
      });
    }
  }
  const name = view.getPointer(0);
  return {
    name: name === null ? "" : Deno.UnsafePointerView.getCString(name),
    mac: hwaddr === null ? undefined : Deno.UnsafePointerView.getCString(hwaddr).toLowerCase(),
    addresses,
  };
}

const addressSources: Record<InterfaceAddressSource, number> = { lease: 0, agent: 1, arp: 2 };

/** @internal libvirt's VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_* value of a source name, checked. */
export function addressSourceCode(source: InterfaceAddressSource, domain: string): number {
  const code = Object.hasOwn(addressSources, source) ? addressSources[source] : undefined;
  if (code === undefined) {
    throw new TypeError(
      `Cannot get the addresses of domain ${JSON.stringify(domain)}: source must be "lease", "agent" or ` +
        `"arp", got ${JSON.stringify(source)}`,
    );
  }
  return code;
}

/** @internal `Domain.state()`'s result for virDomainGetState's state and reason codes. */
export function stateInfo(state: number, reason: number): DomainStateInfo {
  const name = domainStateName(state);
  return { state: name, reason, reasonName: domainStateReason(name, reason) };
}

/** @internal `VIR_DOMAIN_XML_*` flags for {@link DomainXmlOptions} (a number is taken as the flags). */
export function xmlFlags(options: DomainXmlOptions | number): number {
  if (typeof options === "number") return options;
  return (options.secure ? 1 : 0) | (options.inactive ? 2 : 0) | (options.updateCpu ? 4 : 0) |
    (options.migratable ? 8 : 0);
}
