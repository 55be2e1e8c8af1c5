// Volume upload/download throughput: uploadVolume/downloadVolume (nonblocking and blocking streams)
// against `virsh vol-upload`/`vol-download` of the same file, in a dir pool of its own.
// Run inside the lab, under its lock:
//   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//     deno run --allow-all bench/stream_throughput.ts [--mib 128] [--rounds 2]
import { parseArgs } from "node:util";
import { Connection, createStoragePool, createVolume, downloadVolume, uploadVolume } from "../mod.ts";

const { values } = parseArgs({
  options: {
    mib: { type: "string", default: "128" },
    rounds: { type: "string", default: "2" },
    uri: { type: "string", default: "qemu:///system" },
  },
});
const MiB = 1 << 20;
const size = Number(values.mib) * MiB;
const rounds = Number(values.rounds);
const name = `bench-streams-${crypto.randomUUID().slice(0, 6)}`;
const dir = `/var/lib/deno_libvirt_lab/${name}`;
const work = await Deno.makeTempDir({ prefix: "dlv_stream_bench_" });
const dense = `${work}/dense.img`;
const sparse = `${work}/sparse.img`;

async function writeFiles() {
  using f = await Deno.open(dense, { write: true, create: true });
  const chunk = new Uint8Array(MiB);
  for (let at = 0; at < size; at += MiB) {
    for (let i = 0; i < MiB; i += 65536) crypto.getRandomValues(chunk.subarray(i, i + 65536));
    await f.write(chunk);
  }
  using s = await Deno.open(sparse, { write: true, create: true });
  await s.truncate(size);
  for (let at = 0; at < size; at += 16 * MiB) { // 1 MiB of data every 16 MiB
    await s.seek(at, Deno.SeekMode.Start);
    await s.write(chunk);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function virsh(args: string[]): Promise<number> {
  const t = performance.now();
  const out = await new Deno.Command("virsh", {
    args: ["-c", values.uri!, ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`virsh ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return performance.now() - t;
}

await writeFiles();
await Deno.mkdir(dir);
const results: Record<string, number> = {};
try {
  await using conn = await Connection.open(values.uri!);
  using pool = await createStoragePool(
    conn,
    `<pool type='dir'><name>${name}</name><target><path>${dir}</path></target></pool>`,
  );
  try {
    using vol = await createVolume(
      pool,
      `<volume><name>v.img</name><capacity unit='bytes'>${size}</capacity><allocation>0</allocation><target><format type='raw'/></target></volume>`,
    );
    const cases: [string, () => Promise<number>][] = [
      [
        "upload dense: uploadVolume nonblocking",
        async () => (await uploadVolume(vol, dense, { nonblocking: true })).durationMs,
      ],
      [
        "upload dense: uploadVolume blocking",
        async () => (await uploadVolume(vol, dense, { nonblocking: false })).durationMs,
      ],
      ["upload dense: virsh vol-upload", () => virsh(["vol-upload", "--pool", name, "v.img", dense])],
      [
        "download dense: downloadVolume nonblocking",
        async () => (await downloadVolume(vol, `${work}/out.img`, { nonblocking: true })).durationMs,
      ],
      [
        "download dense: downloadVolume blocking",
        async () => (await downloadVolume(vol, `${work}/out.img`, { nonblocking: false })).durationMs,
      ],
      [
        "download dense: virsh vol-download",
        () => virsh(["vol-download", "--pool", name, "v.img", `${work}/out.img`]),
      ],
      [
        "upload sparse: uploadVolume sparse",
        async () => (await uploadVolume(vol, sparse, { sparse: true })).durationMs,
      ],
      [
        "upload sparse: virsh vol-upload --sparse",
        () => virsh(["vol-upload", "--sparse", "--pool", name, "v.img", sparse]),
      ],
      [
        "download sparse: downloadVolume sparse",
        async () => (await downloadVolume(vol, `${work}/out.img`, { sparse: true })).durationMs,
      ],
      [
        "download sparse: downloadVolume sparse nonblocking",
        async () =>
          (await downloadVolume(vol, `${work}/out.img`, { sparse: true, nonblocking: true })).durationMs,
      ],
      [
        "download sparse: virsh vol-download --sparse",
        () => virsh(["vol-download", "--sparse", "--pool", name, "v.img", `${work}/out.img`]),
      ],
    ];
    // interleaved rounds, so that a noisy neighbour hits every case alike
    const times = new Map<string, number[]>();
    for (let r = 0; r < rounds; r++) {
      for (const [label, run] of cases) {
        if (label.startsWith("download sparse")) await uploadVolume(vol, sparse, { sparse: true });
        else if (label.startsWith("download dense") && label.endsWith("nonblocking")) {
          await uploadVolume(vol, dense);
        }
        const ms = await run();
        times.set(label, [...(times.get(label) ?? []), ms]);
      }
    }
    for (const [label, ms] of times) results[label] = size / MiB / (median(ms) / 1000);
    await vol.delete();
  } finally {
    await pool.destroy();
  }
} finally {
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(work, { recursive: true });
}
console.log(`# ${values.mib} MiB, median of ${rounds} rounds, MB/s = MiB of logical size per second`);
for (const [label, mbs] of Object.entries(results)) console.log(`${label.padEnd(48)} ${mbs.toFixed(1)}`);
