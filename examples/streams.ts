#!/usr/bin/env -S deno run --allow-ffi
/**
 * A storage volume's bytes through web streams: `uploadVolume` from a `ReadableStream` (sparse: runs
 * of zeros travel as holes) and `downloadVolume` into a `WritableStream`, with progress, and the copy
 * checked against the original by SHA-256. The script makes everything it uses (a dir pool in a fresh
 * directory that libvirt builds, one raw volume) and removes it all again, also on failure.
 *
 *   deno run --allow-ffi examples/streams.ts [URI] [NAME_PREFIX]
 *
 * URI defaults to `qemu:///system` (run it as root on the libvirt host; the storage driver's files
 * are written by libvirtd, so the script itself needs no file permission). libvirt's in-process test
 * hypervisor has no volume streams: with a `test:` URI the script shows libvirt's NotSupportedError
 * and exits 0 without transferring anything. NAME_PREFIX (default "example") starts the pool's name.
 *
 * Permissions: `--allow-ffi` only.
 *
 * Prints `pool <name> at <dir>`, `upload: 25% ... 100%`, `uploaded 16 MiB in N ms: 4 MiB data, 12 MiB
 * holes`, `download: ... 100%`, `downloaded 16 MiB ...`, `sha256 match: <hex>`, `removed pool <name>`
 * (on a test: URI: `the test driver has no volume streams: ...`). Exit 0; 1 on failure.
 *
 * Consoles are streams too: `await using console = await dom.openConsole()` gives a `Stream` whose
 * `readable` is the guest's serial output and whose `writable` is its input (`captureConsole` logs one
 * to a file, `attachConsole` joins it to a terminal). The test driver has no consoles either.
 *
 * @module
 */
import {
  Connection,
  createVolume,
  defineStoragePool,
  downloadVolume,
  isNotSupported,
  lookupStoragePool,
  type StoragePool,
  type TransferProgress,
  uploadVolume,
} from "@deno-libvirt/deno-libvirt";

const uri = Deno.args[0] ?? "qemu:///system";
const prefix = Deno.args[1] ?? "example";
const MiB = 1 << 20;
const SIZE = 16 * MiB;

await using conn = await Connection.open(uri);

// The test driver: libvirt refuses volume streams there. Show it and stop.
if (uri.startsWith("test:")) {
  using pool = await lookupStoragePool(conn, "default-pool");
  using vol = await createVolume(
    pool,
    `<volume><name>${prefix}-streams.img</name><capacity unit='bytes'>${MiB}</capacity></volume>`,
  );
  try {
    await uploadVolume(vol, new Uint8Array(MiB));
    console.log("the test driver took the upload");
  } catch (error) {
    if (!isNotSupported(error)) throw error;
    console.log(`the test driver has no volume streams: ${(error as Error).message}`);
  } finally {
    await vol.delete();
  }
  Deno.exit(0);
}

/** Prints progress at every quarter: onProgress is called after each chunk (256 KiB). */
function quarters(label: string): (p: TransferProgress) => void {
  let next = 25;
  return (p) => {
    const percent = Math.floor(((p.dataBytes + p.holeBytes) / SIZE) * 100);
    while (percent >= next && next <= 100) {
      console.log(`${label}: ${next}% (${((p.dataBytes + p.holeBytes) / MiB).toFixed(1)} MiB)`);
      next += 25;
    }
  };
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// The source: 16 MiB, random data in the first 4 MiB, zeros after it.
const source = new Uint8Array(SIZE);
for (let at = 0; at < 4 * MiB; at += 65_536) crypto.getRandomValues(source.subarray(at, at + 65_536));

// A dir pool of our own: libvirtd builds (creates) the directory and deletes it at the end.
const name = `${prefix}-streams-${crypto.randomUUID().slice(0, 6)}`;
const dir = `/var/tmp/${name}`;
const pool: StoragePool = await defineStoragePool(
  conn,
  `<pool type='dir'><name>${name}</name><target><path>${dir}</path></target></pool>`,
);
let exitCode = 0;
try {
  await pool.build();
  await pool.create();
  console.log(`pool ${name} at ${dir}`);
  using vol = await createVolume(
    pool,
    `<volume><name>data.img</name><capacity unit='bytes'>${SIZE}</capacity><allocation>0</allocation>` +
      `<target><format type='raw'/></target></volume>`,
  );
  try {
    // Upload from a web ReadableStream (1 MiB chunks here; a file path or a Uint8Array work too).
    // sparse: zero 64 KiB blocks are sent as holes, so the volume stays sparse on the host.
    const chunks = Array.from({ length: SIZE / MiB }, (_, i) => source.subarray(i * MiB, (i + 1) * MiB));
    const up = await uploadVolume(vol, ReadableStream.from(chunks), {
      sparse: true,
      onProgress: quarters("upload"),
      signal: AbortSignal.timeout(60_000), // an abort aborts the stream and rejects with the reason
    });
    console.log(
      `uploaded ${up.totalBytes / MiB} MiB in ${up.tookMs.toFixed(0)} ms: ${up.dataBytes / MiB} MiB data, ${
        up.holeBytes / MiB
      } MiB holes`,
    );

    // Download into a web WritableStream (holes arrive as zeros); backpressure is the sink's.
    const copy = new Uint8Array(SIZE);
    let at = 0;
    const down = await downloadVolume(
      vol,
      new WritableStream<Uint8Array>({
        write(chunk) {
          copy.set(chunk, at);
          at += chunk.length;
        },
      }),
      { sparse: true, onProgress: quarters("download"), signal: AbortSignal.timeout(60_000) },
    );
    console.log(`downloaded ${down.totalBytes / MiB} MiB in ${down.tookMs.toFixed(0)} ms`);

    const [a, b] = await Promise.all([sha256(source), sha256(copy)]);
    if (a !== b) throw new Error(`the copy differs: sha256 ${b}, the original's ${a}`);
    console.log(`sha256 match: ${a}`);
  } finally {
    await vol.delete();
  }
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  // stop, delete the (now empty) directory, forget the definition: nothing is left behind
  await pool.destroy().catch(() => {});
  await pool.delete().catch((e) => console.error(`could not remove ${dir}: ${e.message}`));
  await pool.undefine();
  pool.free();
  console.log(`removed pool ${name}`);
}
Deno.exit(exitCode);
