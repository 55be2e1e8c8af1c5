/**
 * Addresses of 100 domains: this library in one process (all sources, and the lease source alone;
 * cold, then cached) versus a shell loop of `virsh domifaddr` and libvirt-python, interleaved over
 * rounds in one run, against the test driver inside libvirtd (a real RPC per call).
 *
 *   deno run --allow-all bench/ip_compare.ts [--rounds 3] [--domains 100]
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  AddressCache,
  Connection,
  defineDomain,
  destroyDomain,
  discover,
  discoverMany,
  lookupDomain,
  startDomain,
  undefineDomain,
} from "../mod.ts";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, domains: { type: "string", default: "100" } },
});
const rounds = Number(values.rounds);
const count = Number(values.domains);
// The domains live in libvirtd's shared test driver (test+unix:///default), held by a keeper
// connection: every contender, virsh processes included, sees the same 100 running domains, and a
// connection opens in ~1 ms (a node-file URI would make every open parse the whole file).
const uri = "test+unix:///default";
const keeper = await Connection.open(uri);
const names = Array.from({ length: count }, (_, i) => `ipbench-${String(i + 1).padStart(3, "0")}`);
const hex = (i: number) => (i + 1).toString(16).padStart(4, "0");
for (const [i, name] of names.entries()) {
  using dom = await defineDomain(
    keeper,
    `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>` +
      `<interface type='network'><source network='default'/><mac address='52:54:00:ab:${hex(i).slice(0, 2)}:${
        hex(i).slice(2)
      }'/></interface></devices></domain>`,
  );
  await startDomain(dom);
}
const here = new URL(".", import.meta.url).pathname;
const build = `${here}.build`;
await Deno.mkdir(build, { recursive: true });
const namesFile = `${build}/ip_names${count}.txt`;
await Deno.writeTextFile(namesFile, names.join("\n") + "\n");

async function virshLoop(): Promise<number> {
  const started = performance.now();
  const script = names.map((n) => `virsh -q -c '${uri}' domifaddr ${n} --source lease >/dev/null`).join("\n");
  const out = await new Deno.Command("sh", { args: ["-c", script] }).output();
  if (!out.success) throw new Error("virsh loop failed");
  return (performance.now() - started) / names.length;
}

async function python(): Promise<number> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [`${here}clients/ip_python.py`, uri, namesFile],
    stdout: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).per_domain_ns / 1e6;
}

async function denoRange(sources?: ("lease")[]): Promise<number> {
  const started = performance.now();
  const entries = await discoverMany([{ uri, domains: names }], {
    concurrency: 16,
    ...(sources ? { sources } : {}),
  });
  const missing = entries.filter((e) => !e.result?.best).length;
  if (missing) throw new Error(`${missing} domains without an address`);
  return (performance.now() - started) / names.length;
}

async function denoCached(): Promise<number> {
  await using conn = await Connection.open(uri);
  await using cache = new AddressCache();
  const handles = await Promise.all(names.map((n) => lookupDomain(conn, n)));
  for (const d of handles) await discover(d, { cache, sources: ["lease"] }); // fill
  const started = performance.now();
  const loops = 20;
  for (let i = 0; i < loops; i++) for (const d of handles) await discover(d, { cache, sources: ["lease"] });
  const perLookup = (performance.now() - started) / (loops * handles.length);
  for (const d of handles) d.free();
  return perLookup;
}

const contenders: [string, () => Promise<number>][] = [
  ["virsh domifaddr loop (lease)", virshLoop],
  ["libvirt-python, one process (lease)", python],
  ["deno_libvirt discoverMany, lease source, 16 in flight, cold", () => denoRange(["lease"])],
  ["deno_libvirt discoverMany, all 5 sources merged, 16 in flight, cold", () => denoRange()],
  ["deno_libvirt discover, cached", denoCached],
];
const samples = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  for (const [i] of contenders.entries()) {
    const [name, run] = contenders[(i + r) % contenders.length];
    samples.set(name, [...(samples.get(name) ?? []), await run()]);
  }
  console.error(`round ${r + 1}/${rounds}`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const virsh = median(samples.get(contenders[0][0])!);
console.log(`\n#### Addresses of ${names.length} domains over libvirtd (\`${uri}\`), per domain\n`);
console.log("| client | per domain | vs virsh loop |\n|---|---:|---:|");
for (const [name] of contenders) {
  const ms = median(samples.get(name)!);
  const shown = ms < 0.1 ? `${(ms * 1000).toFixed(2)} µs` : `${ms.toFixed(3)} ms`;
  console.log(`| ${name} | ${shown} | ${(virsh / ms).toFixed(0)}× faster |`);
}
for (const name of names) {
  using dom = await lookupDomain(keeper, name);
  await destroyDomain(dom);
  await undefineDomain(dom);
}
await keeper.close();
const cached = median(samples.get(contenders[4][0])!) * 1000;
const cold = median(samples.get(contenders[3][0])!);
console.log(
  `\n- goal, at least 20× faster than the virsh loop cold (all sources): ${(virsh / cold).toFixed(0)}× — ${
    virsh / cold >= 20 ? "met" : "**missed**"
  }`,
);
console.log(
  `- goal, a cached lookup under 50 µs: ${cached.toFixed(2)} µs — ${cached < 50 ? "met" : "**missed**"}`,
);
