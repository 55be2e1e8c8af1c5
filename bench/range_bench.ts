/**
 * Range automation at scale on the test hypervisor: `up` (no address wait) and `down` of 100 and 1,000
 * guests, time per guest; and, run as a script, the side-by-side with a shell script doing the same
 * with `virsh` subprocesses (define, start, domifaddr per guest; destroy, undefine) for 100 guests on
 * libvirtd's test driver.
 *
 *   deno bench --allow-all bench/range_bench.ts        # the Deno.bench cases (in-process driver)
 *   deno run --allow-all bench/range_bench.ts          # the comparison table with ratios
 *
 * @module
 */
import { Connection } from "../mod.ts";
import { PoolRegistry } from "../lib/pool.ts";
import { type Range, validateRange } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { upRange } from "../lib/range/up.ts";

function rangeOf(count: number, uri: string): Range {
  const name = `b${count}x${crypto.randomUUID().slice(0, 4)}`;
  return validateRange({
    name,
    hosts: [{ id: "h", uri }],
    storage: { pool: "default-pool" },
    networks: [{
      name: `${name}-lan`,
      mode: "isolated",
      subnet: "10.88.0.0/16",
      dhcp: { start: "10.88.1.1", end: "10.88.250.250" },
    }],
    guests: [{ id: "g", memory: 64, count, nics: [{ network: `${name}-lan` }] }],
  });
}

/** One up + down; returns ms of each. */
async function cycle(count: number, uri: string, wait: boolean): Promise<{ up: number; down: number }> {
  const range = rangeOf(count, uri);
  const pools = new PoolRegistry({ max: 8 });
  const hold = await pools.get(uri).acquire(); // test:///default lives while a connection is open
  try {
    const up = await upRange(range, pools, { waitForAddresses: wait, addressTimeoutMs: 30_000 });
    const down = await downRange(range, pools);
    return { up: up.tookMs, down: down.tookMs };
  } finally {
    hold.release();
    await pools.closeAll();
  }
}

for (const count of [100, 1000]) {
  Deno.bench(
    { name: `range up+down, ${count} guests, test:///default`, n: count === 100 ? 5 : 1, warmup: 0 },
    async () => {
      await cycle(count, "test:///default", false);
    },
  );
}

async function virshScript(count: number): Promise<{ up: number; down: number }> {
  // test+unix:///default forgets everything when its last client leaves, and each virsh process is a
  // client of its own: hold the driver for the whole script
  await using _keeper = await Connection.open("test+unix:///default");
  const dir = await Deno.makeTempDir({ prefix: "range_bench_" });
  const net = `vb${crypto.randomUUID().slice(0, 4)}`;
  try {
    await Deno.writeTextFile(
      `${dir}/net.xml`,
      `<network><name>${net}</name><ip address='10.89.0.1' netmask='255.255.0.0'><dhcp><range start='10.89.1.1' end='10.89.250.250'/></dhcp></ip></network>`,
    );
    for (let i = 1; i <= count; i++) {
      const hex = i.toString(16).padStart(4, "0");
      await Deno.writeTextFile(
        `${dir}/g${i}.xml`,
        `<domain type='test'><name>${net}-g-${i}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>` +
          `<devices><disk type='file' device='disk'><source file='/default-pool/${net}.g-${i}.qcow2'/><target dev='vda'/></disk>` +
          `<interface type='network'><source network='${net}'/><mac address='52:54:00:89:${hex.slice(0, 2)}:${
            hex.slice(2)
          }'/></interface></devices></domain>`,
      );
      await Deno.writeTextFile(
        `${dir}/v${i}.xml`,
        `<volume><name>${net}.g-${i}.qcow2</name><capacity unit='MiB'>64</capacity><target><format type='qcow2'/></target></volume>`,
      );
    }
    const v = "virsh -q -c test+unix:///default";
    const up = `set -e; cd ${dir}; ${v} net-define net.xml >/dev/null; ${v} net-start ${net} >/dev/null
for i in $(seq 1 ${count}); do ${v} vol-create default-pool v$i.xml >/dev/null; done
for i in $(seq 1 ${count}); do ${v} define g$i.xml >/dev/null; ${v} start ${net}-g-$i >/dev/null; ${v} domifaddr ${net}-g-$i >/dev/null; done`;
    const down =
      `set -e; for i in $(seq 1 ${count}); do ${v} destroy ${net}-g-$i >/dev/null; ${v} undefine ${net}-g-$i >/dev/null; ${v} vol-delete --pool default-pool ${net}.g-$i.qcow2 >/dev/null; done
${v} net-destroy ${net} >/dev/null; ${v} net-undefine ${net} >/dev/null`;
    const run = async (script: string) => {
      const t0 = performance.now();
      const out = await new Deno.Command("bash", { args: ["-c", script], stderr: "piped" }).output();
      if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
      return performance.now() - t0;
    };
    return { up: await run(up), down: await run(down) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const row = (label: string, r: { up: number; down: number }, n: number) =>
    console.log(
      `${label.padEnd(46)} up ${r.up.toFixed(0).padStart(7)} ms (${(r.up / n).toFixed(3)} ms/guest)  down ${
        r.down.toFixed(0).padStart(6)
      } ms (${(r.down / n).toFixed(3)} ms/guest)`,
    );
  const ours100 = await cycle(100, "test:///default", true);
  row("range, 100 guests, test:///default, +addresses", ours100, 100);
  const ours1000 = await cycle(1000, "test:///default", true);
  row("range, 1000 guests, test:///default, +addresses", ours1000, 1000);
  const daemon100 = await cycle(100, "test+unix:///default", true);
  row("range, 100 guests, test+unix:///default, +addr", daemon100, 100);
  const daemon1000 = await cycle(1000, "test+unix:///default", true);
  row("range, 1000 guests, test+unix:///default, +addr", daemon1000, 1000);
  const virsh = await virshScript(100);
  row("virsh script, 100 guests, test+unix:///default", virsh, 100);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
  console.log(
    `\nvirsh / range at 100 guests: up ${ratio(virsh.up, ours100.up)} (in-process), ${
      ratio(virsh.up, daemon100.up)
    } (daemon); ` +
      `down ${ratio(virsh.down, ours100.down)} (in-process), ${ratio(virsh.down, daemon100.down)} (daemon)`,
  );
  console.log(
    `per-guest growth 100 -> 1000: up ${ratio(ours1000.up / 1000, ours100.up / 100)} (in-process), ` +
      `${ratio(daemon1000.up / 1000, daemon100.up / 100)} (daemon)`,
  );
}
