/**
 * The floor for bench/perop_compare.ts: the same work as bench/clients/domain_python.py with no library,
 * straight Deno.dlopen symbols, blocking (on the calling thread, as libvirt-python calls), decoding the
 * answers into plain values as libvirt-python does (info: five numbers; lease: name, MAC and each
 * address; stats: every typed parameter by name), freeing what libvirt returns. What Deno itself costs
 * per operation; the library's share is the lean client's time above it.
 *
 *   deno run --allow-all bench/clients/domain_bare.ts URI NAMES_FILE OP [--passes P] [--warmup W]
 *
 * OP and the printed record as in bench/clients/domain_deno.ts (`"client": "deno-bare"`).
 *
 * @module
 */
import { threadCpu } from "../_cpu.ts";
import { countOption, printDomainRecord, processCpuNs } from "./_domain_record.ts";
import { bareLibvirt, decodeAddresses, decodeInfo, decodeStats, infoBuffer as info } from "../_bare_calls.ts";

const [uri, namesFile, op] = Deno.args;
const passes = countOption("--passes", 1);
const warmup = countOption("--warmup", 1);
const c = bareLibvirt();
const encoder = new TextEncoder();
const text = (s: string) => encoder.encode(s + "\0");
const names = (await Deno.readTextFile(namesFile)).split("\n").map((n) => n.trim()).filter(Boolean);
const nameTexts = names.map(text);
const conn = c.virConnectOpen(text(uri))!;
const doms = nameTexts.map((n) => c.virDomainLookupByName(conn, n)!);
const state = new Int32Array(2);
const reason = state.subarray(1);
const slot = new BigUint64Array(1);
const list = new BigUint64Array(2);

async function run(laps?: number[]): Promise<void> {
  let last = performance.now();
  const tick = () => {
    if (laps === undefined) return;
    const now = performance.now();
    laps.push(now - last);
    last = now;
  };
  switch (op) {
    case "lookup_info":
      for (const n of nameTexts) {
        const d = c.virDomainLookupByName(conn, n)!;
        c.virDomainGetInfo(d, info);
        decodeInfo();
        c.virDomainFree(d);
        await Promise.resolve();
        tick();
      }
      break;
    case "state":
      for (const d of doms) {
        c.virDomainGetState(d, state, reason, 0);
        void [state[0], state[1]];
        await Promise.resolve();
        tick();
      }
      break;
    case "define_undefine":
      for (const n of names) {
        const d = c.virDomainDefineXML(
          conn,
          text(
            `<domain type='test'><name>${n}-x</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`,
          ),
        )!;
        c.virDomainUndefine(d);
        c.virDomainFree(d);
        await Promise.resolve();
        tick();
      }
      break;
    case "start_destroy":
      for (const d of doms) {
        c.virDomainCreate(d);
        c.virDomainDestroy(d);
        await Promise.resolve();
        tick();
      }
      break;
    case "addresses":
      for (const d of doms) {
        decodeAddresses(c, slot, c.virDomainInterfaceAddresses(d, slot, 0, 0));
        await Promise.resolve();
        tick();
      }
      break;
    case "stats_each":
      for (const d of doms) {
        list[0] = BigInt(Deno.UnsafePointer.value(d));
        decodeStats(c, slot, c.virDomainListGetStats(list, 0, slot, 0));
        await Promise.resolve();
        tick();
      }
      break;
    case "stats_bulk":
      decodeStats(c, slot, c.virConnectGetAllDomainStats(conn, 0, slot, 0));
      tick();
      break;
    default:
      console.error(`unknown op ${op}`);
      Deno.exit(2);
  }
}

if (op === "addresses") { for (const d of doms) c.virDomainCreate(d); }
for (let pass = 0; pass < warmup; pass++) await run();
const times: number[] = [];
const laps: number[] = [];
const cpu0 = processCpuNs();
const threads0 = threadCpu();
for (let pass = 0; pass < passes; pass++) {
  const t0 = performance.now();
  await run(laps);
  times.push((performance.now() - t0) * 1e6);
}
const cpu = processCpuNs() - cpu0;
const threads1 = threadCpu();
if (op === "addresses") { for (const d of doms) c.virDomainDestroy(d); }
for (const d of doms) c.virDomainFree(d);
c.virConnectClose(conn);
printDomainRecord({
  client: "deno-bare",
  op,
  domains: names.length,
  times,
  cpu,
  threads: [threads0, threads1],
  laps,
});
