// Base images to every host, the parts that need no hypervisor: the description's `source`, and the
// source hash. The uploads themselves run between the lab's two hosts
// (tests/integration/range_images_test.ts).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { RangeDescriptionError, validateRange } from "../lib/range/description.ts";
import { sha256File } from "../lib/range/images.ts";

const base = {
  name: "img",
  hosts: [{ id: "h1", uri: "test:///default" }],
  storage: { pool: "default-pool" },
  guests: [{ id: "g", memory: 128, baseImage: "golden" }],
};

Deno.test("validateRange: baseImages[].source is an optional absolute path, kept in the guests' base image", () => {
  const range = validateRange({
    ...base,
    baseImages: [{ id: "golden", path: "/pool/golden.qcow2", source: "/srv/images/golden.qcow2" }],
  });
  assert.equal(range.guests[0].baseImage?.source, "/srv/images/golden.qcow2");
  const without = validateRange({ ...base, baseImages: [{ id: "golden", path: "/pool/golden.qcow2" }] });
  assert.equal(without.guests[0].baseImage?.source, undefined);
  assert.throws(
    () =>
      validateRange({
        ...base,
        baseImages: [{ id: "golden", path: "/pool/g.qcow2", source: "golden.qcow2" }],
      }),
    (e) => e instanceof RangeDescriptionError && e.issues.some((i) => i.path === "baseImages[0].source"),
  );
  assert.throws(
    () => validateRange({ ...base, baseImages: [{ id: "golden", path: "/pool/g.qcow2", sorce: "/x" }] }),
    /did you mean "source"/,
  );
});

Deno.test("sha256File: the digest of a file's bytes, holes read as zeros", async () => {
  const file = await Deno.makeTempFile();
  try {
    const data = new Uint8Array(3 << 20);
    data.set([1, 2, 3], 0);
    data.set([9], data.length - 1);
    await Deno.writeFile(file, data.subarray(0, 3));
    using f = await Deno.open(file, { write: true });
    await f.truncate(data.length - 1); // a hole up to the last byte
    await f.seek(data.length - 1, Deno.SeekMode.Start);
    await f.write(new Uint8Array([9]));
    const got = await sha256File(file);
    assert.equal(got.bytes, data.length);
    assert.equal(got.sha256, createHash("sha256").update(data).digest("hex"));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("downRange: a base image volume behind an upload intent the range never confirmed making is someone's: kept; a half-made one of its own goes", async () => {
  const { PoolRegistry, createVolume, defineNetwork, listVolumes, lookupNetwork, lookupStoragePool } =
    await import("../mod.ts");
  const { Ledger, recordNetworkName } = await import("../lib/range/_libvirt.ts");
  const { downRange } = await import("../lib/range/down.ts");
  const pools = new PoolRegistry({ max: 2 });
  const hold = await pools.get("test:///default").acquire();
  const conn = hold.connection;
  const name = "r2img-golden.qcow2";
  const range = validateRange({
    ...base,
    name: "r2img",
    baseImages: [{ id: "golden", path: `/default-pool/${name}` }],
  });
  try {
    using p = await lookupStoragePool(conn, "default-pool");
    for (const made of [undefined, true]) {
      // an up wrote its intent, then stopped before (or after) creating the volume; the volume
      // there now is someone's copy (or the half-made upload)
      (await createVolume(
        p,
        `<volume><name>${name}</name><capacity unit='bytes'>4096</capacity></volume>`,
      )).free();
      const ledger = new Ledger("r2img", "h1");
      ledger.set({
        kind: "volume",
        name,
        pool: "default-pool",
        path: `/default-pool/${name}`,
        state: "intent",
        ...(made ? { made } : {}),
      });
      await ledger.save(async (xml) => (await defineNetwork(conn, xml)).free());
      await downRange(range, pools);
      const volumes = await listVolumes(p);
      const left = volumes.some((v) => v.name === name);
      for (const v of volumes) v.free();
      assert.equal(
        left,
        !made,
        made ? "the range's half-made upload is removed" : "someone's volume is kept",
      );
      await assert.rejects(() => lookupNetwork(conn, recordNetworkName("r2img")), "the record is gone");
      if (left) {
        const { lookupVolume } = await import("../mod.ts");
        using v = await lookupVolume(p, name);
        await v.delete();
      }
    }
  } finally {
    hold.release();
    await pools.closeAll();
  }
});
