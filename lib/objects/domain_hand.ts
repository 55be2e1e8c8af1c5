// The Domain calls whose shape the method generator does not derive (CPU maps, peeks, per-CPU
// parameter groups, lists of structs libvirt allocates): written by hand, one libvirt call each (a
// sizing call first where libvirt's contract is "ask with NULL for the count"), below the generated
// DomainCalls in the class chain.
import { kCall, ObjectHandle } from "../_handle.ts";
import { structLayouts } from "../ffi/_generated/structs.ts";
import * as m from "../ffi/marshal.ts";
import { libvirtSymbol, qemuSymbol } from "../ffi/optional.ts";
import { DomainModificationImpactBits } from "./_generated/options.js";
import type { DomainDiskErrorStruct, SecurityLabelStruct, VcpuInfoStruct } from "./_generated/options.ts";
import {
  readDomainDiskErrorStruct,
  readSecurityLabelStruct,
  readVcpuInfoStruct,
} from "./_generated/structs.js";

/** Flags of the calls that affect the live domain, its persistent config, or the current one. */
export interface AffectFlagsOptions {
  /** `VIR_DOMAIN_AFFECT_LIVE`: the running domain. */
  live?: boolean;
  /** `VIR_DOMAIN_AFFECT_CONFIG`: the persistent definition. */
  config?: boolean;
  /** Raw flag bits, OR'd with the named ones. */
  flags?: number;
}

/** Options of {@link DomainHandCalls.memoryPeek}: which address space (one is required). */
export interface MemoryPeekOptions {
  /** `VIR_MEMORY_VIRTUAL`: guest virtual addresses. */
  virtual?: boolean;
  /** `VIR_MEMORY_PHYSICAL`: guest physical addresses. */
  physical?: boolean;
  /** Raw flag bits. */
  flags?: number;
}

/** One mounted guest filesystem (virDomainFSInfo). */
export interface DomainFsInfo {
  /** Where it is mounted in the guest: "/". */
  mountpoint: string;
  /** The guest's device name: "vda1". */
  name: string;
  /** The filesystem type: "ext4". */
  fstype: string;
  /** The domain's disk targets backing it ("vda"). */
  devAlias: string[];
}

/** One IOThread and the host CPUs it may run on (virDomainIOThreadInfo). */
export interface DomainIoThreadInfo {
  /** The IOThread's id. */
  iothreadId: number;
  /** One bit per host CPU. */
  cpumap: Uint8Array;
}

const impact = DomainModificationImpactBits;
const memoryBits = { virtual: 1, physical: 2 } as const;

function cpumapArg(cpumap: unknown, fn: string): Uint8Array<ArrayBuffer> {
  const bytes = m.bytes(cpumap, "cpumap", fn);
  if (bytes.length === 0) throw new RangeError(`Cannot call ${fn}: argument cpumap is empty`);
  return bytes;
}

function rows(buffer: Uint8Array, count: number, length: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => buffer.slice(i * length, (i + 1) * length));
}

/**
 * The hand-written one-call methods of {@link Domain} (extended by the generated
 * {@link DomainCalls}; not used directly): CPU pinning maps, peeks, per-CPU statistics and the lists
 * of structs libvirt allocates.
 *
 * @example
 * ```ts
 * import { Connection, type DomainHandCalls, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * const calls: DomainHandCalls = dom; // every Domain has the hand-written one-call methods
 * console.log(await calls.getFsInfo()); // [{ mountpoint: "/", name: "vda1", fstype: "ext4", devAlias: ["vda"] }, ...]
 * console.log(await calls.memoryPeek(0, 4, { virtual: true })); // Uint8Array(4) [0, 1, 2, 3]
 * ```
 */
export abstract class DomainHandCalls extends ObjectHandle {
  /**
   * Pins a vCPU of a running domain to host CPUs.
   *
   * Calls [`virDomainPinVcpu`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainPinVcpu).
   *
   * @param vcpu the vCPU number
   * @param cpumap one bit per host CPU (bit 0 of byte 0 is CPU 0)
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async pinVcpu(vcpu: number, cpumap: Uint8Array): Promise<void> {
    const n = m.int(vcpu, "vcpu", "virDomainPinVcpu", true);
    const map = cpumapArg(cpumap, "virDomainPinVcpu");
    await this[kCall](
      "call virDomainPinVcpu on",
      (h) => libvirtSymbol("virDomainPinVcpuAsync")(h, n, map, map.length),
      m.isNegative,
    );
  }

  /**
   * Pins a vCPU to host CPUs, live and/or in the persistent definition.
   *
   * Calls [`virDomainPinVcpuFlags`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainPinVcpuFlags).
   *
   * @param vcpu the vCPU number
   * @param cpumap one bit per host CPU
   * @param options `live`, `config` (`virDomainModificationImpact`)
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async pinVcpuFlags(vcpu: number, cpumap: Uint8Array, options?: AffectFlagsOptions | number): Promise<void> {
    const fn = "virDomainPinVcpuFlags";
    const n = m.int(vcpu, "vcpu", fn, true);
    const map = cpumapArg(cpumap, fn);
    const flags = m.flags(options, impact, fn);
    await this[kCall](
      `call ${fn} on`,
      (h) => libvirtSymbol("virDomainPinVcpuFlagsAsync")(h, n, map, map.length, flags),
      m.isNegative,
    );
  }

  /**
   * Pins the emulator threads to host CPUs.
   *
   * Calls [`virDomainPinEmulator`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainPinEmulator).
   *
   * @param cpumap one bit per host CPU
   * @param options `live`, `config`
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async pinEmulator(cpumap: Uint8Array, options?: AffectFlagsOptions | number): Promise<void> {
    const map = cpumapArg(cpumap, "virDomainPinEmulator");
    const flags = m.flags(options, impact, "virDomainPinEmulator");
    await this[kCall](
      "call virDomainPinEmulator on",
      (h) => libvirtSymbol("virDomainPinEmulatorAsync")(h, map, map.length, flags),
      m.isNegative,
    );
  }

  /**
   * Pins an IOThread to host CPUs.
   *
   * Calls [`virDomainPinIOThread`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainPinIOThread).
   *
   * @param iothreadId the IOThread's id
   * @param cpumap one bit per host CPU
   * @param options `live`, `config`
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async pinIoThread(
    iothreadId: number,
    cpumap: Uint8Array,
    options?: AffectFlagsOptions | number,
  ): Promise<void> {
    const fn = "virDomainPinIOThread";
    const id = m.int(iothreadId, "iothread_id", fn, true);
    const map = cpumapArg(cpumap, fn);
    const flags = m.flags(options, impact, fn);
    await this[kCall](
      `call ${fn} on`,
      (h) => libvirtSymbol("virDomainPinIOThreadAsync")(h, id, map, map.length, flags),
      m.isNegative,
    );
  }

  /**
   * The host CPUs each vCPU may run on.
   *
   * Calls [`virDomainGetVcpuPinInfo`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetVcpuPinInfo).
   *
   * @param ncpumaps how many vCPUs to ask for (the domain's vCPU count)
   * @param maplen bytes per map (host CPUs / 8, rounded up)
   * @param options `live`, `config`
   * @returns one map per vCPU libvirt filled
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async getVcpuPinInfo(
    ncpumaps: number,
    maplen: number,
    options?: AffectFlagsOptions | number,
  ): Promise<Uint8Array[]> {
    const fn = "virDomainGetVcpuPinInfo";
    const count = m.int(ncpumaps, "ncpumaps", fn);
    const length = m.int(maplen, "maplen", fn);
    const flags = m.flags(options, impact, fn);
    const buffer = new Uint8Array(Math.max(count * length, 1));
    const filled = await this[kCall](
      `call ${fn} on`,
      (h) => libvirtSymbol("virDomainGetVcpuPinInfoAsync")(h, count, buffer, length, flags),
      m.isNegative,
    );
    return rows(buffer, filled, length);
  }

  /**
   * The host CPUs the emulator threads may run on.
   *
   * Calls [`virDomainGetEmulatorPinInfo`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetEmulatorPinInfo).
   *
   * @param maplen bytes of the map (host CPUs / 8, rounded up)
   * @param options `live`, `config`
   * @returns the map (all zero when no emulator thread is pinned)
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async getEmulatorPinInfo(maplen: number, options?: AffectFlagsOptions | number): Promise<Uint8Array> {
    const fn = "virDomainGetEmulatorPinInfo";
    const length = m.int(maplen, "maplen", fn);
    const flags = m.flags(options, impact, fn);
    const buffer = new Uint8Array(Math.max(length, 1));
    await this[kCall](
      `call ${fn} on`,
      (h) => libvirtSymbol("virDomainGetEmulatorPinInfoAsync")(h, buffer, length, flags),
      m.isNegative,
    );
    return buffer.subarray(0, length);
  }

  /**
   * Reads bytes of a disk image of the domain.
   *
   * Calls [`virDomainBlockPeek`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainBlockPeek).
   *
   * @param disk the disk's target ("vda") or source path
   * @param offset where to start, in bytes
   * @param size how many bytes (libvirt caps a peek at 64 KiB)
   * @param options raw `flags` (none are defined yet)
   * @returns the bytes
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async blockPeek(
    disk: string,
    offset: number | bigint,
    size: number,
    options?: { flags?: number } | number,
  ): Promise<Uint8Array> {
    const fn = "virDomainBlockPeek";
    const path = m.str(disk, "disk", fn);
    const at = m.int64(offset, "offset", fn, true);
    const length = m.int(size, "size", fn, true);
    const flags = m.flags(options, {}, fn);
    const buffer = new Uint8Array(Math.max(length, 1));
    await this[kCall](
      `call ${fn} on`,
      (h) => libvirtSymbol("virDomainBlockPeekAsync")(h, path, at, BigInt(length), buffer, flags),
      m.isNegative,
    );
    return buffer.subarray(0, length);
  }

  /**
   * Reads bytes of the guest's memory.
   *
   * Calls [`virDomainMemoryPeek`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainMemoryPeek).
   *
   * @param start the address
   * @param size how many bytes (libvirt caps a peek at 64 KiB)
   * @param options `virtual` or `physical` addresses (one is required)
   * @returns the bytes
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async memoryPeek(
    start: number | bigint,
    size: number,
    options: MemoryPeekOptions | number,
  ): Promise<Uint8Array> {
    const fn = "virDomainMemoryPeek";
    const at = m.int64(start, "start", fn, true);
    const length = m.int(size, "size", fn, true);
    const flags = m.flags(options, memoryBits, fn);
    const buffer = new Uint8Array(Math.max(length, 1));
    await this[kCall](
      `call ${fn} on`,
      (h) => libvirtSymbol("virDomainMemoryPeekAsync")(h, at, BigInt(length), buffer, flags),
      m.isNegative,
    );
    return buffer.subarray(0, length);
  }

  /**
   * Sends key presses to the guest.
   *
   * Calls [`virDomainSendKey`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainSendKey).
   *
   * @param codeset the keycode set (`virKeycodeSet`: 0 Linux, 1 XT, ...)
   * @param holdtime milliseconds to hold the keys
   * @param keycodes up to 16 keycodes, pressed together
   * @param options raw `flags`
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async sendKey(
    codeset: number,
    holdtime: number,
    keycodes: readonly number[],
    options?: { flags?: number } | number,
  ): Promise<void> {
    const fn = "virDomainSendKey";
    const set = m.int(codeset, "codeset", fn, true);
    const hold = m.int(holdtime, "holdtime", fn, true);
    if (!Array.isArray(keycodes)) {
      throw new TypeError(`Cannot call ${fn}: argument keycodes must be an array`);
    }
    const codes = new Uint32Array(Math.max(keycodes.length, 1));
    keycodes.forEach((k, i) => codes[i] = m.int(k, `keycodes[${i}]`, fn, true));
    const flags = m.flags(options, {}, fn);
    await this[kCall](
      `call ${fn} on`,
      (h) =>
        libvirtSymbol("virDomainSendKeyAsync")(
          h,
          set,
          hold,
          new Uint8Array(codes.buffer),
          keycodes.length,
          flags,
        ),
      m.isNegative,
    );
  }

  /**
   * CPU time statistics, in total or per host CPU.
   *
   * Calls [`virDomainGetCPUStats`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetCPUStats)
   * (first with no array, for the number of fields per CPU, then for the values).
   *
   * @param startCpu -1 for the domain's total, else the first host CPU
   * @param ncpus how many host CPUs from `startCpu` (1 for the total)
   * @param options raw `flags` (`VIR_TYPED_PARAM_STRING_OKAY` is added by libvirt)
   * @returns one parameter object per CPU (one for the total): `cpu_time`, `user_time`, ... in ns
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async getCpuStats(
    startCpu = -1,
    ncpus = 1,
    options?: { flags?: number } | number,
  ): Promise<m.TypedParams[]> {
    const fn = "virDomainGetCPUStats";
    const start = m.int(startCpu, "start_cpu", fn);
    const count = start === -1 ? 1 : m.int(ncpus, "ncpus", fn, true);
    const flags = m.flags(options, {}, fn);
    let buffer = m.paramsBuffer(0);
    let perCpu = 0;
    await this[kCall](
      `call ${fn} on`,
      async (h) => {
        const f = libvirtSymbol("virDomainGetCPUStatsAsync");
        perCpu = await f(h, null, 0, start === -1 ? -1 : 0, 1, flags);
        if (perCpu < 0) return perCpu;
        buffer = m.paramsBuffer(perCpu * count);
        return await f(h, buffer, perCpu, start, count, flags);
      },
      m.isNegative,
    );
    const all = m.readParamsGroups(buffer, perCpu, count);
    return all;
  }

  /**
   * The disks with I/O errors and the kind of error.
   *
   * Calls [`virDomainGetDiskErrors`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetDiskErrors)
   * (first with no array, for the count).
   *
   * @param options raw `flags`
   * @returns `{ disk, error }` per disk in error (`error` is a `virDomainDiskErrorCode`)
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async getDiskErrors(options?: { flags?: number } | number): Promise<DomainDiskErrorStruct[]> {
    const fn = "virDomainGetDiskErrors";
    const flags = m.flags(options, {}, fn);
    const layout = structLayouts.virDomainDiskError;
    let buffer = m.structBuffer(layout, 0);
    const filled = await this[kCall](
      `call ${fn} on`,
      async (h) => {
        const f = libvirtSymbol("virDomainGetDiskErrorsAsync");
        const n = await f(h, null, 0, flags);
        if (n <= 0) return n;
        buffer = m.structBuffer(layout, n);
        return await f(h, buffer, n, flags);
      },
      m.isNegative,
    );
    const errors = Array.from({ length: filled }, (_, i) => readDomainDiskErrorStruct(buffer, i));
    m.freeStructStrings(buffer, layout, filled, ["disk"]); // the caller frees each disk name
    return errors;
  }

  /**
   * The guest's mounted filesystems (through the guest agent).
   *
   * Calls [`virDomainGetFSInfo`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetFSInfo).
   *
   * @param options raw `flags`
   * @returns one entry per filesystem
   * @throws {LibvirtError} e.g. {@link AgentUnresponsiveError} when no agent answers
   */
  async getFsInfo(options?: { flags?: number } | number): Promise<DomainFsInfo[]> {
    const fn = "virDomainGetFSInfo";
    const flags = m.flags(options, {}, fn);
    const out = new m.Out();
    const layout = structLayouts.virDomainFSInfo;
    return await this[kCall](
      `call ${fn} on`,
      (h) => libvirtSymbol("virDomainGetFSInfoAsync")(h, out.buffer, flags),
      m.isNegative,
      (count) =>
        m.takeHandles(out.pointer, count).map((p) => {
          try {
            const v = new Deno.UnsafePointerView(p);
            const aliases = Number(v.getBigUint64(layout.fields.ndevAlias.offset));
            const array = v.getPointer(layout.fields.devAlias.offset);
            const devAlias: string[] = [];
            for (let i = 0; i < aliases && array !== null; i++) {
              devAlias.push(m.readString(new Deno.UnsafePointerView(array).getPointer(i * 8)));
            }
            return {
              mountpoint: m.readString(v.getPointer(layout.fields.mountpoint.offset)),
              name: m.readString(v.getPointer(layout.fields.name.offset)),
              fstype: m.readString(v.getPointer(layout.fields.fstype.offset)),
              devAlias,
            };
          } finally {
            libvirtSymbol("virDomainFSInfoFree")(p);
          }
        }),
    );
  }

  /**
   * The domain's IOThreads and their CPU affinity.
   *
   * Calls [`virDomainGetIOThreadInfo`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetIOThreadInfo).
   *
   * @param options `live`, `config`
   * @returns one entry per IOThread
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async getIoThreadInfo(options?: AffectFlagsOptions | number): Promise<DomainIoThreadInfo[]> {
    const fn = "virDomainGetIOThreadInfo";
    const flags = m.flags(options, impact, fn);
    const out = new m.Out();
    const layout = structLayouts.virDomainIOThreadInfo;
    return await this[kCall](
      `call ${fn} on`,
      (h) => libvirtSymbol("virDomainGetIOThreadInfoAsync")(h, out.buffer, flags),
      m.isNegative,
      (count) =>
        m.takeHandles(out.pointer, count).map((p) => {
          try {
            const v = new Deno.UnsafePointerView(p);
            const length = v.getInt32(layout.fields.cpumaplen.offset);
            const map = v.getPointer(layout.fields.cpumap.offset);
            return {
              iothreadId: v.getUint32(layout.fields.iothread_id.offset),
              cpumap: map === null || length <= 0
                ? new Uint8Array(0)
                : new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(map, length)).slice(),
            };
          } finally {
            libvirtSymbol("virDomainIOThreadInfoFree")(p);
          }
        }),
    );
  }

  /**
   * The security labels of the domain's processes (one per security driver).
   *
   * Calls [`virDomainGetSecurityLabelList`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetSecurityLabelList).
   *
   * @returns `{ label, enforcing }` per security driver
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async getSecurityLabelList(): Promise<SecurityLabelStruct[]> {
    const fn = "virDomainGetSecurityLabelList";
    const out = new m.Out();
    const layout = structLayouts.virSecurityLabel;
    return await this[kCall](
      `call ${fn} on`,
      (h) => libvirtSymbol("virDomainGetSecurityLabelListAsync")(h, out.buffer),
      m.isNegative,
      (count) => {
        const pointer = out.pointer;
        if (pointer === null || count <= 0) return [];
        const bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, count * layout.size))
          .slice();
        m.free(pointer);
        return Array.from({ length: count }, (_, i) => readSecurityLabelStruct(bytes, i));
      },
    );
  }

  /**
   * The vCPUs' state, CPU time and host CPU, with their affinity maps.
   *
   * Calls [`virDomainGetVcpus`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetVcpus).
   *
   * @param maxinfo how many vCPUs to ask for
   * @param maplen bytes per affinity map (0: no maps)
   * @returns `info` per vCPU, and `cpumaps` per vCPU when `maplen` > 0
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async getVcpus(maxinfo: number, maplen = 0): Promise<{ info: VcpuInfoStruct[]; cpumaps: Uint8Array[] }> {
    const fn = "virDomainGetVcpus";
    const count = m.int(maxinfo, "maxinfo", fn, true);
    const length = m.int(maplen, "maplen", fn, true);
    const layout = structLayouts.virVcpuInfo;
    const info = m.structBuffer(layout, count);
    const maps = length > 0 ? new Uint8Array(count * length) : null;
    const filled = await this[kCall](
      `call ${fn} on`,
      (h) => libvirtSymbol("virDomainGetVcpusAsync")(h, info, count, maps, length),
      m.isNegative,
    );
    return {
      info: Array.from({ length: filled }, (_, i) => readVcpuInfoStruct(info, i)),
      cpumaps: maps === null ? [] : rows(maps, filled, length),
    };
  }

  /**
   * Sends a command to the QEMU monitor with file descriptors, and receives those QEMU returns.
   * For debugging: libvirt does not track what the command changes.
   *
   * Calls [`virDomainQemuMonitorCommandWithFiles`](https://libvirt.org/html/libvirt-libvirt-qemu.html#virDomainQemuMonitorCommandWithFiles).
   *
   * @param cmd the QMP (or HMP with `flags: 1`) command
   * @param infiles file descriptors to pass
   * @param options raw `flags` (`VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP` = 1)
   * @returns QEMU's reply and the descriptors it returned (the caller closes them)
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async qemuMonitorCommandWithFiles(
    cmd: string,
    infiles: readonly number[] = [],
    options?: { flags?: number } | number,
  ): Promise<{ result: string; outfiles: number[] }> {
    const fn = "virDomainQemuMonitorCommandWithFiles";
    const command = m.str(cmd, "cmd", fn);
    const files = m.intArray(infiles, "infiles", fn);
    const flags = m.flags(options, {}, fn);
    const nout = new m.Out();
    const outfiles = new m.Out();
    const result = new m.Out();
    await this[kCall](
      `call ${fn} on`,
      (h) =>
        qemuSymbol("virDomainQemuMonitorCommandWithFilesAsync")(
          h,
          command,
          files.count,
          files.count ? files.buffer : null,
          nout.buffer,
          outfiles.buffer,
          result.buffer,
          flags,
        ),
      m.isNegative,
    );
    const count = nout.uint;
    const fds: number[] = [];
    const array = outfiles.pointer;
    if (array !== null) {
      const v = new Deno.UnsafePointerView(array);
      for (let i = 0; i < count; i++) fds.push(v.getInt32(i * 4));
      m.free(array);
    }
    return { result: m.takeString(result.pointer), outfiles: fds };
  }
}
