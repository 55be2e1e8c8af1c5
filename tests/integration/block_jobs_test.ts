// Block jobs on a real TCG guest of the lab (issue 10, item 8): a qcow2 overlay disk over a base
// image with data in it, both volumes of the lab's image pool, attached to a lab guest as vdb.
// blockCommit (active) reaches the ready phase and is cancelled; blockPull runs throttled, is seen by
// getBlockJobInfo, sped up with blockJobSetSpeed and completes (the disk no longer has a backing file);
// blockCopy to a new file mirrors the disk, reaches ready, and blockJobAbort cancels it, the guest
// staying on its own disk. Every volume and file is removed, and the guest destroyed, even on failure.
//
//   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//     deno test --allow-all tests/integration/block_jobs_test.ts
import assert from "node:assert/strict";
import {
  Connection,
  createVolume,
  type Domain,
  DomainBlockJobType,
  isNotFound,
  LibvirtError,
  lookupStoragePool,
  lookupVolume,
  qcow2OverlayXml,
} from "../../mod.ts";
import { destroyGuests, guestXml, lab, randomMac, requireLabNamespace, waitFor } from "./_lab.ts";

const MiB = 1024 * 1024;

/** The live `<disk>` element of vdb. */
async function vdb(dom: Domain): Promise<string> {
  const xml = await dom.xmlDesc();
  const disk = [...xml.matchAll(/<disk\b[\s\S]*?<\/disk>/g)].map((m) => m[0]).find((d) =>
    /<target dev='vdb'/.test(d)
  );
  assert.ok(disk, "the guest has vdb");
  return disk;
}

/** The job on vdb, or undefined when none runs. */
async function job(dom: Domain) {
  const { result, info } = await dom.getBlockJobInfo("vdb");
  return result ? info : undefined;
}

async function ready(dom: Domain, what: string) {
  return await waitFor(
    `${what} to reach its ready phase`,
    async () => {
      const info = await job(dom);
      return info && info.end > 0n && info.cur === info.end ? info : undefined;
    },
    60_000,
    100,
  );
}

type BlockJobInfo = NonNullable<Awaited<ReturnType<typeof job>>>;

/** Active commit of the (empty) overlay into the base: it waits in its ready phase and is cancelled, the
 * guest staying on the overlay. Returns the job as it was when ready. */
async function activeCommitCancelled(dom: Domain, overlayPath: string): Promise<BlockJobInfo> {
  await dom.blockCommit("vdb", null, null, 0, { active: true });
  const commit = await ready(dom, "the active commit");
  assert.equal(commit.type, DomainBlockJobType.ACTIVE_COMMIT);
  await dom.blockJobAbort("vdb");
  assert.equal(await job(dom), undefined, "the commit is gone");
  assert.match(await vdb(dom), new RegExp(`<source file='${overlayPath}'`), "still on the overlay");
  return commit;
}

/** A pull throttled to 1 MiB/s (8 MiB to move): seen running, then sped up, then done, the overlay no
 * longer backed by `basePath`. Returns how long it took after the speed-up, in ms. */
async function pullSpedUp(dom: Domain, basePath: string): Promise<number> {
  await dom.blockPull("vdb", 1);
  const pulling = await job(dom);
  assert.ok(pulling, "the pull runs");
  assert.equal(pulling.type, DomainBlockJobType.PULL);
  assert.equal(pulling.bandwidth, 1n, "MiB/s as given");
  await dom.blockJobSetSpeed("vdb", 0);
  const t0 = performance.now();
  await waitFor(
    "the pull to finish",
    async () => (await job(dom)) === undefined || undefined,
    60_000,
    100,
  );
  const pullMs = Math.round(performance.now() - t0);
  const pulled = await vdb(dom);
  assert.doesNotMatch(pulled, new RegExp(basePath), "the overlay no longer has a backing file");
  return pullMs;
}

/** A copy to `copyPath`: mirrored, ready, then cancelled, the guest staying on the overlay. Returns the
 * job as it was when ready. */
async function copyAborted(dom: Domain, copyPath: string, overlayPath: string): Promise<BlockJobInfo> {
  await dom.blockCopy(
    "vdb",
    `<disk type='file'><source file='${copyPath}'/><driver type='qcow2'/></disk>`,
    { bandwidth: 64 * MiB },
  );
  const copy = await ready(dom, "the copy");
  assert.equal(copy.type, DomainBlockJobType.COPY);
  assert.ok(copy.end >= 8n * BigInt(MiB), `the copy moved ${copy.end} bytes`);
  await dom.blockJobAbort("vdb");
  assert.equal(await job(dom), undefined, "the copy is gone");
  assert.match(await vdb(dom), new RegExp(`<source file='${overlayPath}'`), "still on the overlay");
  return copy;
}

Deno.test("blockCommit, blockPull, blockCopy, getBlockJobInfo, blockJobSetSpeed, blockJobAbort on a qcow2 overlay", async () => {
  await requireLabNamespace();
  const l = lab();
  const tag = `m2-exercise-bj-${crypto.randomUUID().slice(0, 6)}`;
  const name = tag;
  const baseName = `${tag}.base.qcow2`;
  const overlayName = `${tag}.overlay.qcow2`;
  const copyPath = `${l.imagePool.path}/${tag}.copy.qcow2`;
  await using conn = await Connection.open(l.uri);
  using pool = await lookupStoragePool(conn, l.imagePool.name);
  let dom: Domain | undefined;
  try {
    using base = await createVolume(
      pool,
      `<volume><name>${baseName}</name><capacity unit='MiB'>16</capacity><target><format type='qcow2'/></target></volume>`,
    );
    const basePath = await base.path();
    // 8 MiB of data in the base: what pull and commit have to move
    const io = await new Deno.Command("qemu-io", {
      args: ["-f", "qcow2", "-c", "write -P 0x5a 0 8M", basePath],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(io.success, `qemu-io: ${new TextDecoder().decode(io.stderr)}`);
    using overlay = await createVolume(
      pool,
      qcow2OverlayXml({ name: overlayName, backingPath: basePath, backingFormat: "qcow2" }),
    );
    const overlayPath = await overlay.path();
    const disk = `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>` +
      `<source file='${overlayPath}'/><target dev='vdb' bus='virtio'/></disk>`;
    const xml = (await guestXml(name, randomMac(), l.networks.isolated.name, { agent: false }))
      .replace("<serial type='file'>", `${disk}\n    <serial type='file'>`);
    dom = await conn.domainCreateXml(xml);
    assert.match(await vdb(dom), new RegExp(`<backingStore type='file'[\\s\\S]*${basePath}`));
    assert.equal(await job(dom), undefined, "no job at first");
    await assert.rejects(
      () => dom!.blockJobAbort("vdb"),
      (e: Error) =>
        e instanceof LibvirtError && e.codeName === "INVALID_ARG" && /no.* active block job/.test(e.message),
      "nothing to abort: libvirt says so, typed",
    );

    // active commit of the (empty) overlay into the base: it waits in its ready phase; cancelled
    const commit = await activeCommitCancelled(dom, overlayPath);

    // a pull throttled to 1 MiB/s (8 MiB to move): seen running, then sped up, then done
    const pullMs = await pullSpedUp(dom, basePath);

    // a copy to a new file: mirrored, ready, then cancelled: the guest stays on its own disk
    const copy = await copyAborted(dom, copyPath, overlayPath);
    console.log(
      `commit ready at ${commit.end} bytes; pull finished ${pullMs} ms after the speed-up; copy ready at ${copy.end} bytes`,
    );
  } finally {
    dom?.free();
    await destroyGuests(l.uri, [name]);
    await Deno.remove(copyPath).catch(() => {});
    await pool.refresh().catch(() => {});
    for (const v of [overlayName, baseName]) {
      // a volume that is not there is fine; any other failure is reported, not thrown over the test's
      await lookupVolume(pool, v).then((vol) => vol.delete().finally(() => vol.free())).catch((error) => {
        if (!isNotFound(error)) console.error(`cannot remove volume ${v}: ${error}`);
      });
    }
  }
});
