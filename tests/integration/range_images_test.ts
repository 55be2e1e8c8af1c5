// Base images to every host, between the lab's two hosts: a sparse raw base image present on host 1
// (qemu:///system) and missing on host 2 (qemu+tcp://10.77.9.2/system, its own mount namespace: its
// /var/lib/libvirt is not host 1's) is uploaded by `up` over the libvirt connection, verified by its
// SHA-256 read back from host 2, once per host; a failed verification leaves nothing, a crashed `up`
// leaves an `intent` the next `up` replaces; a second `up` uploads nothing; `down` keeps the image.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  type Connection,
  defineStoragePool,
  downloadVolume,
  isNotFound,
  lookupNetwork,
  lookupStoragePool,
  lookupVolume,
  PoolRegistry,
} from "../../mod.ts";
import { parseRecord, recordNetworkName } from "../../lib/range/_libvirt.ts";
import { validateRange } from "../../lib/range/description.ts";
import { downRange } from "../../lib/range/down.ts";
import type { BaseImageProgress } from "../../lib/range/images.ts";
import { RangeOperationError } from "../../lib/range/types.ts";
import { upRange } from "../../lib/range/up.ts";
import { denoChildArgs, REPO_ROOT, runDeno } from "../_helpers.ts";
import { lab, requireLabNamespace } from "./_lab.ts";

const CHILD = new URL("./_range_crash_child.ts", import.meta.url).pathname;
const MiB = 1 << 20;

/** A 48 MiB raw image: three runs of random data, holes between (so it travels sparse). */
async function writeSparseImage(path: string): Promise<string> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const hash = createHash("sha256");
  const size = 48 * MiB;
  const runs = [[0, MiB], [20 * MiB, 2 * MiB], [46 * MiB, MiB]];
  let at = 0;
  for (const [offset, length] of runs) {
    if (offset > at) hash.update(new Uint8Array(offset - at));
    const data = new Uint8Array(length);
    for (let i = 0; i < length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    await file.seek(offset, Deno.SeekMode.Start);
    for (let w = 0; w < length;) w += await file.write(data.subarray(w));
    hash.update(data);
    at = offset + length;
  }
  if (size > at) hash.update(new Uint8Array(size - at));
  await file.truncate(size);
  return hash.digest("hex");
}

async function imagePool(conn: Connection, name: string, dir: string): Promise<void> {
  using p = await defineStoragePool(
    conn,
    `<pool type='dir'><name>${name}</name><target><path>${dir}</path></target></pool>`,
  );
  await p.build();
  await p.create();
}

async function dropImagePool(conn: Connection, name: string): Promise<void> {
  let p;
  try {
    p = await lookupStoragePool(conn, name);
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  try {
    if (await p.isActive()) {
      await p.refresh();
      for (const v of ["golden.raw"]) {
        try {
          using vol = await lookupVolume(p, v);
          await vol.delete();
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
      await p.destroy();
    }
    await p.delete().catch(() => {}); // its directory, now empty
    await p.undefine();
  } finally {
    p.free();
  }
}

async function goldenOn(
  conn: Connection,
  pool: string,
): Promise<{ sha256: string; allocation: number } | undefined> {
  using p = await lookupStoragePool(conn, pool);
  await p.refresh();
  let vol;
  try {
    vol = await lookupVolume(p, "golden.raw");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  try {
    const hash = createHash("sha256");
    await downloadVolume(vol, new WritableStream({ write: (c) => void hash.update(c) }), { sparse: true });
    return { sha256: hash.digest("hex"), allocation: (await vol.info()).allocationBytes };
  } finally {
    vol.free();
  }
}

async function recordOn(conn: Connection, range: string) {
  try {
    using n = await lookupNetwork(conn, recordNetworkName(range));
    return parseRecord(await n.xmlDesc(), range);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** `up` in a child process, SIGKILLed when it reaches the step `target` of phase "image". */
async function upAndKillAt(file: string, nth: number): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: denoChildArgs("run", "--allow-all", CHILD, "up", file, "image", String(nth)),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let said = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    while (!said.includes("HALFWAY") || !said.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      said += value;
    }
  } finally {
    if (said.includes("HALFWAY")) child.kill("SIGKILL");
    reader.releaseLock();
  }
  const status = await child.status;
  await child.stdout.cancel().catch(() => {});
  assert.ok(said.includes("HALFWAY"), `the child did not get half-way: ${said}\n${await stderr}`);
  assert.equal(status.signal, "SIGKILL");
  return said.trim();
}

Deno.test("upRange: a base image missing on the second host is uploaded over libvirt, verified, once per host", async () => {
  await requireLabNamespace();
  const l = lab();
  const tag = crypto.randomUUID().slice(0, 6);
  const name = `m1mig${tag}`;
  const imagePoolName = `m1mig-img-${tag}`;
  const imageDir = `/var/lib/libvirt/m1mig-img-${tag}`; // host 2 sees its own /var/lib/libvirt
  const volumeDir = `/var/lib/libvirt/m1mig-vol-${tag}`;
  const golden = `${imageDir}/golden.raw`;
  const work = await Deno.makeTempDir({ prefix: "m1mig_images_" });
  const file = `${work}/range.json`;
  const pools = new PoolRegistry({ max: 4, acquireTimeoutMs: 300_000 });
  const h1 = await pools.get(l.uri).acquire();
  const h2 = await pools.get(l.secondHost.uri).acquire();
  const guest = (host: string) => ({
    id: `g${host}`,
    host,
    type: "qemu",
    memory: 96,
    baseImage: "golden",
    kernel: { kernel: l.guest.kernel, initrd: l.guest.initrd, cmdline: "console=ttyS0 quiet loglevel=3" },
  });
  const description = {
    name,
    hosts: [{ id: "h1", uri: l.uri }, { id: "h2", uri: l.secondHost.uri }],
    storage: { path: volumeDir },
    baseImages: [{ id: "golden", path: golden, format: "raw" }],
    guests: [guest("h1"), guest("h2"), { ...guest("h2"), id: "g3" }], // two guests of it on h2: one upload
  };
  const range = validateRange(description);
  let downDone = false;
  try {
    await Deno.mkdir(imageDir, { recursive: true });
    const sha256 = await writeSparseImage(golden); // host 1 has it at its path
    await imagePool(h1.connection, imagePoolName, imageDir);
    await imagePool(h2.connection, imagePoolName, imageDir); // host 2: an empty directory of its own
    assert.equal(await goldenOn(h2.connection, imagePoolName), undefined, "host 2 lacks the image");
    await Deno.writeTextFile(file, JSON.stringify(description));

    // 1. verification fails (injected): nothing is left on host 2, not even a record entry
    await assert.rejects(
      () =>
        upRange(range, pools, {
          waitForAddresses: false,
          beforeAction: (a) => {
            if (a.phase === "image" && a.target === "verify golden") throw new Error("injected: link down");
          },
        }),
      (e) =>
        e instanceof RangeOperationError && /injected: link down/.test(e.message) &&
        e.notDone.includes(`provide base image "golden" on h2`) &&
        e.done.includes(`provide base image "golden" on h1`),
    );
    assert.equal(
      await goldenOn(h2.connection, imagePoolName),
      undefined,
      "the unverified upload was removed",
    );
    assert.ok(
      !(await recordOn(h2.connection, name))?.entries.some((e) => e.name === "golden.raw"),
      "and dropped from the record",
    );

    // 2. up dies after the upload, before verifying: the record says intent
    console.log(`child: ${await upAndKillAt(file, 2)}`); // image acts on h2: "upload", then "verify"
    const crashed = await recordOn(h2.connection, name);
    const intent = crashed?.entries.find((e) => e.name === "golden.raw");
    assert.equal(intent?.state, "intent", JSON.stringify(crashed));
    assert.equal(intent?.pool, imagePoolName);
    assert.equal(intent?.made, true, "recorded as made before the bytes went");
    assert.ok(await goldenOn(h2.connection, imagePoolName), "the half-made volume is there");

    // 3. up again: the half-made one is replaced, verified, recorded as created
    const progress: BaseImageProgress[] = [];
    const up = await upRange(range, pools, {
      waitForAddresses: false,
      onImageProgress: (p) => progress.push(p),
    });
    const uploads = up.created.filter((c) => c.startsWith("base image"));
    assert.deepEqual(uploads.length, 1, JSON.stringify(up.created));
    assert.match(uploads[0], /base image "golden" on h2 \(replaced, sha256 /);
    assert.ok(up.kept.includes(`base image "golden" on h1`), JSON.stringify(up.kept));
    assert.ok(progress.every((p) => p.host === "h2" && p.image === "golden" && p.totalBytes === 48 * MiB));
    for (const stage of ["upload", "verify"] as const) {
      const of = progress.filter((p) => p.stage === stage);
      assert.ok(of.length > 1, `${stage} progress`);
      assert.equal(of.at(-1)!.bytes, 48 * MiB, `${stage} reached the end`);
    }
    const onHost2 = await goldenOn(h2.connection, imagePoolName);
    assert.equal(onHost2?.sha256, sha256, "host 2 holds exactly the source's bytes");
    assert.ok(onHost2!.allocation < 16 * MiB, `sparse on arrival: ${onHost2!.allocation} bytes allocated`);
    const record = await recordOn(h2.connection, name);
    assert.equal(record?.entries.find((e) => e.name === "golden.raw")?.state, "created");
    console.log(`up (with upload) ${up.tookMs} ms ${JSON.stringify(up.timingsMs)}`);

    // 4. a second up uploads nothing
    const again = await upRange(range, pools, { waitForAddresses: false });
    assert.deepEqual(again.created, []);
    assert.ok(again.kept.includes(`base image "golden" on h2`), JSON.stringify(again.kept));

    // 5. down keeps the base image it uploaded (documented: other ranges may back onto it)
    const down = await downRange(range, pools);
    downDone = true;
    assert.ok(down.kept.some((k) => k.includes("golden.raw") && k.includes("h2")), JSON.stringify(down.kept));
    assert.equal((await goldenOn(h2.connection, imagePoolName))?.sha256, sha256, "still there after down");
    assert.equal(await recordOn(h2.connection, name), undefined, "the record is gone");

    // 6. the script: with the image gone from host 2, `range.ts up` uploads it again and says so
    {
      using p = await lookupStoragePool(h2.connection, imagePoolName);
      using vol = await lookupVolume(p, "golden.raw");
      await vol.delete();
    }
    downDone = false;
    const out = await runDeno(
      denoChildArgs("run", "--allow-all", `${REPO_ROOT}scripts/range.ts`, "up", file, "--no-wait"),
    );
    const said = out.stderr;
    assert.equal(out.code, 0, `${out.stdout}\n${said}`);
    assert.match(said, /image golden @h2: uploaded 48\.0 of 48\.0 MiB/);
    assert.match(said, /image golden @h2: verified 48\.0 of 48\.0 MiB/);
    assert.doesNotMatch(said, /image golden @h1/);
    assert.equal((await goldenOn(h2.connection, imagePoolName))?.sha256, sha256);
    await downRange(range, pools);
    downDone = true;
  } finally {
    if (!downDone) await downRange(range, pools).catch((e) => console.error(`cleanup down: ${e}`));
    await dropImagePool(h1.connection, imagePoolName).catch((e) => console.error(`cleanup h1: ${e}`));
    await dropImagePool(h2.connection, imagePoolName).catch((e) => console.error(`cleanup h2: ${e}`));
    await Deno.remove(imageDir, { recursive: true }).catch(() => {});
    await Deno.remove(volumeDir, { recursive: true }).catch(() => {});
    await Deno.remove(work, { recursive: true });
    h1.release();
    h2.release();
    await pools.closeAll();
  }
});
