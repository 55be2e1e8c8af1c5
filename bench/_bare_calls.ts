// The bare-FFI side of the per-operation benchmarks (bench/clients/domain_bare.ts, bench/perop_share.ts):
// libvirt's symbols straight from Deno.dlopen, blocking, and the answers decoded into plain values as
// libvirt-python decodes them, each libvirt result freed. No library code.

const table = {
  virConnectOpen: { parameters: ["buffer"], result: "pointer" },
  virConnectClose: { parameters: ["pointer"], result: "i32" },
  virDomainLookupByName: { parameters: ["pointer", "buffer"], result: "pointer" },
  virDomainGetState: { parameters: ["pointer", "buffer", "buffer", "u32"], result: "i32" },
  virDomainGetInfo: { parameters: ["pointer", "buffer"], result: "i32" },
  virDomainFree: { parameters: ["pointer"], result: "i32" },
  virDomainDefineXML: { parameters: ["pointer", "buffer"], result: "pointer" },
  virDomainUndefine: { parameters: ["pointer"], result: "i32" },
  virDomainCreate: { parameters: ["pointer"], result: "i32" },
  virDomainDestroy: { parameters: ["pointer"], result: "i32" },
  virDomainCreateWithFlags: { parameters: ["pointer", "u32"], result: "i32" },
  virDomainDestroyFlags: { parameters: ["pointer", "u32"], result: "i32" },
  virDomainUndefineFlags: { parameters: ["pointer", "u32"], result: "i32" },
  virDomainInterfaceAddresses: { parameters: ["pointer", "buffer", "u32", "u32"], result: "i32" },
  virDomainInterfaceFree: { parameters: ["pointer"], result: "void" },
  virDomainListGetStats: { parameters: ["buffer", "u32", "buffer", "u32"], result: "i32" },
  virConnectGetAllDomainStats: { parameters: ["pointer", "u32", "buffer", "u32"], result: "i32" },
  virDomainStatsRecordListFree: { parameters: ["pointer"], result: "void" },
  virDomainGetName: { parameters: ["pointer"], result: "pointer" },
} as const;

/** The bound symbols of {@link bareLibvirt}. */
export type BareLibvirt = Deno.DynamicLibrary<typeof table>["symbols"];

/** The libvirt functions the per-operation work calls, bound by one Deno.dlopen. */
export function bareLibvirt(): BareLibvirt {
  return Deno.dlopen("libvirt.so.0", table).symbols;
}

const libc = Deno.dlopen("libc.so.6", { free: { parameters: ["pointer"], result: "void" } }).symbols;
const cstr = Deno.UnsafePointerView.getCString;

/** A virDomainInfo buffer and its five fields, as libvirt-python's info() returns them. */
export const infoBuffer: Uint8Array<ArrayBuffer> = new Uint8Array(64);
const infoView = new DataView(infoBuffer.buffer);

/** Decodes {@link infoBuffer}: state, max memory, memory, vCPUs, CPU time. */
export function decodeInfo(): unknown {
  return [
    infoBuffer[0],
    Number(infoView.getBigUint64(8, true)),
    Number(infoView.getBigUint64(16, true)),
    infoView.getUint16(24, true),
    infoView.getBigUint64(32, true),
  ];
}

/**
 * Decodes and frees virDomainInterfaceAddresses's array (its address in `slot`): per interface its name,
 * MAC and addresses, as libvirt-python's dict.
 */
export function decodeAddresses(c: BareLibvirt, slot: BigUint64Array, count: number): unknown {
  const result: Record<string, unknown> = {};
  const array = Deno.UnsafePointer.create(slot[0]);
  if (array === null) return result;
  const view = new Deno.UnsafePointerView(array);
  for (let i = 0; i < count; i++) {
    const iface = view.getPointer(i * 8)!;
    const v = new Deno.UnsafePointerView(iface);
    const hw = v.getPointer(8);
    const n = v.getUint32(16);
    const items = v.getPointer(24);
    const addrs = [];
    if (items !== null) {
      const a = new Deno.UnsafePointerView(items);
      for (let j = 0; j < n; j++) {
        addrs.push({
          type: a.getInt32(j * 24),
          addr: cstr(a.getPointer(j * 24 + 8)!),
          prefix: a.getUint32(j * 24 + 16),
        });
      }
    }
    result[cstr(v.getPointer(0)!)] = { addrs, hwaddr: hw === null ? null : cstr(hw) };
    c.virDomainInterfaceFree(iface);
  }
  libc.free(array);
  return result;
}

/**
 * Decodes and frees a virDomainStatsRecord list (its address in `slot`): per record the domain's name and
 * every typed parameter by name. virDomainStatsRecord {virDomainPtr dom; virTypedParameterPtr params; int
 * nparams}; a virTypedParameter is 96 bytes: char field[80], int type at 80, the value at 88.
 */
export function decodeStats(c: BareLibvirt, slot: BigUint64Array, count: number): unknown {
  const out: unknown[] = [];
  const records = Deno.UnsafePointer.create(slot[0])!;
  const view = new Deno.UnsafePointerView(records);
  for (let i = 0; i < count; i++) {
    const record = new Deno.UnsafePointerView(view.getPointer(i * 8)!);
    const params = record.getPointer(8);
    const n = record.getInt32(16);
    const fields: Record<string, unknown> = {};
    if (params !== null) {
      const p = new Deno.UnsafePointerView(params);
      for (let j = 0; j < n; j++) {
        const base = j * 96;
        const type = p.getInt32(base + 80);
        const at = base + 88;
        fields[p.getCString(base)] = type === 1
          ? p.getInt32(at)
          : type === 2
          ? p.getUint32(at)
          : type === 3
          ? p.getBigInt64(at)
          : type === 4
          ? p.getBigUint64(at)
          : type === 5
          ? p.getFloat64(at)
          : type === 6
          ? p.getInt8(at) !== 0
          : cstr(p.getPointer(at)!);
      }
    }
    out.push([cstr(c.virDomainGetName(record.getPointer(0))!), fields]);
  }
  c.virDomainStatsRecordListFree(records);
  return out;
}
