#!/usr/bin/env -S deno run --allow-ffi
/**
 * Statistics of running domains: `allDomainStats` (every domain in one call) and `domainStats` (one
 * domain), printed as CPU, memory, block and network numbers. On libvirt's in-process test hypervisor
 * (`test:///default`, the default) the script first starts a domain of its own with a disk and a NIC
 * next to the driver's built-in "test" domain, and removes it at the end. The test driver's bulk
 * statistics carry only the `state` group; for the groups a driver leaves out, the script falls back
 * to the per-device calls (virDomainGetInfo, virDomainBlockStats, virDomainInterfaceStats), which the
 * test driver answers (with invented numbers). On QEMU (`qemu:///system`) the bulk call has them all.
 *
 *   deno run --allow-ffi examples/stats.ts [URI]
 *
 * Permissions: `--allow-ffi` only.
 *
 * Prints per running domain: `<name>: running (booted)`, `groups: ...`, `cpu: N s`, `memory: N MiB of
 * N MiB`, `block vda: N reads (N bytes), N writes (N bytes)`, `net 52:54:00:...: rx N bytes, tx N
 * bytes`, then `one domain (domainStats): <name> state running` and `N running domains`. Exit 0.
 *
 * @module
 */
import {
  allDomainStats,
  Connection,
  createDomain,
  destroyDomain,
  type Domain,
  domainInterfaces,
  type DomainStats,
  domainStats,
  isNotFound,
  isOperationInvalid,
  lookupDomain,
} from "@deno-libvirt/deno-libvirt";

const uri = Deno.args[0] ?? "test:///default";
await using conn = await Connection.open(uri, { readOnly: !uri.startsWith("test:") });

// On the test driver, a domain of our own with 2 vCPUs, a disk (vda) and a NIC, so that there is more
// to report than the built-in "test" domain has. Transient: destroying it removes it.
let own: Domain | undefined;
if (uri.startsWith("test:")) {
  own = await createDomain(
    conn,
    `<domain type='test'><name>ex-stats-${crypto.randomUUID().slice(0, 6)}</name>
       <memory unit='MiB'>256</memory><vcpu>2</vcpu><os><type>hvm</type></os>
       <devices>
         <disk type='file' device='disk'><source file='/default-pool/ex-stats.img'/><target dev='vda'/></disk>
         <interface type='network'><mac address='52:54:00:7e:00:01'/><source network='default'/></interface>
       </devices></domain>`,
  );
}

const mib = (kib: number | bigint) => (Number(kib) / 1024).toFixed(0);
const seconds = (ns: bigint) => (Number(ns) / 1e9).toFixed(2);

/** The disks' target names (vda, sdb, ...), from the domain's XML. */
async function diskTargets(dom: Domain): Promise<string[]> {
  const xml = await dom.xmlDesc();
  return [...xml.matchAll(/<disk\b[\s\S]*?<target dev='([^']+)'/g)].map((m) => m[1]);
}

/** Prints one record; what the bulk call left out comes from the per-device calls. */
async function show(record: DomainStats): Promise<void> {
  console.log(`${record.name}: ${record.state?.state} (${record.state?.reasonName})`);
  const groups = [
    ["state", record.state],
    ["cpu", record.cpu],
    ["balloon", record.balloon],
    ["vcpu", record.vcpu],
    ["interface", record.interfaces],
    ["block", record.blocks],
  ].filter(([, v]) => v !== undefined).map(([g]) => g);
  console.log(`  groups: ${groups.join(", ")} (${record.raw.size} parameters)`);
  using dom = await lookupDomain(conn, record.uuid);

  // CPU time and memory
  if (record.cpu) {
    console.log(`  cpu: ${seconds(record.cpu.timeNs)} s (user ${seconds(record.cpu.userNs ?? 0n)} s)`);
  }
  if (record.balloon?.currentKiB !== undefined) {
    console.log(
      `  memory: ${mib(record.balloon.currentKiB)} MiB of ${mib(record.balloon.maximumKiB ?? 0)} MiB`,
    );
  }
  if (!record.cpu || !record.balloon) {
    const info = await dom.info(); // virDomainGetInfo
    console.log(`  cpu: ${seconds(info.cpuTimeNs)} s on ${info.vcpus} vCPU(s) (virDomainGetInfo)`);
    console.log(`  memory: ${mib(info.memoryKiB)} MiB of ${mib(info.maxMemoryKiB)} MiB (virDomainGetInfo)`);
  }

  // Block devices
  if (record.blocks) {
    if (record.blocks.length === 0) console.log("  block: no disks");
    for (const b of record.blocks) {
      console.log(
        `  block ${b.name}: ${b.readRequests} reads (${b.readBytes} bytes), ${b.writeRequests} writes (${b.writeBytes} bytes)`,
      );
    }
  } else {
    for (const disk of await diskTargets(dom)) {
      const b = await dom.blockStats(disk); // virDomainBlockStats
      console.log(
        `  block ${disk}: ${b.rd_req} reads (${b.rd_bytes} bytes), ${b.wr_req} writes (${b.wr_bytes} bytes) (virDomainBlockStats)`,
      );
    }
  }

  // Network interfaces
  if (record.interfaces) {
    for (const n of record.interfaces) {
      console.log(`  net ${n.name}: rx ${n.rxBytes} bytes (${n.rxPackets} packets), tx ${n.txBytes} bytes`);
    }
  } else {
    for (const nic of await domainInterfaces(dom)) {
      // QEMU wants the host-side device (vnet3); the test driver knows a NIC by its MAC
      const n = await dom.interfaceStats(nic.target ?? nic.mac); // virDomainInterfaceStats
      console.log(
        `  net ${nic.mac}: rx ${n.rx_bytes} bytes (${n.rx_packets} packets), tx ${n.tx_bytes} bytes (virDomainInterfaceStats)`,
      );
    }
  }
}

try {
  // 1. Every running domain, one call.
  const records = await allDomainStats(conn, { states: ["running"] });
  for (const record of records) {
    try {
      await show(record);
    } catch (error) {
      // a domain may stop or go away between the bulk call and the per-domain calls
      if (!isNotFound(error) && !isOperationInvalid(error)) throw error;
      console.log(`  (${record.name} stopped meanwhile: ${(error as Error).message})`);
    }
  }

  // 2. One domain, chosen groups.
  if (records.length > 0) {
    using first = await lookupDomain(conn, records[0].uuid);
    const one = await domainStats(first, ["state", "cpu", "balloon"]);
    console.log(`one domain (domainStats): ${one.name} state ${one.state?.state}`);
  }
  console.log(`${records.length} running domains`);
} finally {
  if (own) {
    await destroyDomain(own);
    own.free();
  }
}
