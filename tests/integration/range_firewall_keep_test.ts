// The range firewall's filters on a second up and against a foreign filter of the same name, on the
// lab's libvirtd (nwfilters need a real daemon): one guest, no address wait.
//
//   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//     deno test --allow-all tests/integration/range_firewall_keep_test.ts
import assert from "node:assert/strict";
import { isNotFound, PoolRegistry } from "../../mod.ts";
import { validateRange } from "../../lib/range/description.ts";
import { downRange } from "../../lib/range/down.ts";
import { planRange } from "../../lib/range/plan.ts";
import { upRange } from "../../lib/range/up.ts";
import { lab, requireLabNamespace } from "./_lab.ts";

function describe(name: string, rule: string) {
  const l = lab();
  const net = `${name}-net`;
  return validateRange({
    name,
    hosts: [{ id: "lab", uri: l.uri }],
    storage: { pool: l.imagePool.name },
    networks: [{ name: net, mode: "isolated", subnet: "10.77.43.0/24" }],
    guests: [{
      id: "web",
      type: "qemu",
      memory: 96,
      diskMiB: 8,
      kernel: { kernel: l.guest.kernel, initrd: l.guest.initrd, cmdline: "console=ttyS0 quiet loglevel=3" },
      nics: [{ network: net, address: "10.77.43.20" }],
    }],
    firewall: [{ from: net, to: "web", allow: [rule] }],
  });
}

Deno.test("range firewall: a second up redefines the range's filter in place (same UUID, new rules); down removes it", async () => {
  await requireLabNamespace();
  const name = `r2-review-fk${crypto.randomUUID().slice(0, 4)}`;
  const filter = `${name}.fw.web`;
  const pools = new PoolRegistry({ max: 4, acquireTimeoutMs: 120_000 });
  const uri = lab().uri;
  const uuidOf = () =>
    pools.get(uri).use(async (conn) => {
      using f = await conn.nwFilterLookupByName(filter);
      return { uuid: f.getUuidString(), xml: await f.getXmlDesc() };
    });
  try {
    const first = await upRange(describe(name, "tcp/80"), pools, { waitForAddresses: false });
    assert.ok(first.created.includes(`nwfilter "${filter}" on lab`), first.created.join("\n"));
    const before = await uuidOf();
    const again = await upRange(describe(name, "tcp/8080"), pools, { waitForAddresses: false });
    assert.ok(!again.created.some((c) => c.startsWith("nwfilter")), again.created.join("\n"));
    const after = await uuidOf();
    assert.equal(after.uuid, before.uuid);
    assert.match(after.xml, /dstportstart='8080'/, "the changed rule is in the filter");
  } finally {
    await downRange(describe(name, "tcp/80"), pools).catch((e) => console.error("down:", e));
    await pools.get(uri).use(async (conn) => {
      const gone = await conn.nwFilterLookupByName(filter).then(
        (f) => (f.free(), false),
        (e) => isNotFound(e),
      );
      assert.ok(gone, "down removed the filter");
    });
    await pools.closeAll();
  }
});

Deno.test("range firewall: a filter of the range's filter name that the range did not make is a conflict: up and down leave it alone", async () => {
  await requireLabNamespace();
  const name = `r2-review-ff${crypto.randomUUID().slice(0, 4)}`;
  const filter = `${name}.fw.web`;
  const pools = new PoolRegistry({ max: 4, acquireTimeoutMs: 120_000 });
  const uri = lab().uri;
  const foreignXml =
    `<filter name='${filter}' chain='root'><rule action='drop' direction='in' priority='100'>` +
    "<tcp dstportstart='9'/></rule></filter>";
  await pools.get(uri).use(async (conn) => (await conn.nwFilterDefineXml(foreignXml)).free());
  try {
    const range = describe(name, "tcp/80");
    const plan = await planRange(range, pools);
    assert.ok(
      plan.items.some((i) => i.kind === "nwfilter" && i.action === "conflict"),
      JSON.stringify(plan.items),
    );
    await assert.rejects(
      () => upRange(range, pools, { waitForAddresses: false }),
      /network filter of this name/,
    );
    await downRange(range, pools);
    const xml = await pools.get(uri).use(async (conn) => {
      using f = await conn.nwFilterLookupByName(filter);
      return await f.getXmlDesc();
    });
    assert.match(xml, /dstportstart='9'/, "the foreign filter is untouched");
  } finally {
    await pools.get(uri).use(async (conn) => {
      const f = await conn.nwFilterLookupByName(filter).catch(() => undefined);
      if (f) {
        await f.undefine();
        f.free();
      }
    });
    await pools.closeAll();
  }
});

Deno.test("range firewall: a guest kind losing its last rule is no longer filtered after up (its filter is emptied; down removes it)", async () => {
  await requireLabNamespace();
  const name = `r2-review-fr${crypto.randomUUID().slice(0, 4)}`;
  const filter = `${name}.fw.web`;
  const pools = new PoolRegistry({ max: 4, acquireTimeoutMs: 120_000 });
  const uri = lab().uri;
  const withRule = describe(name, "tcp/80");
  const { firewall: _, ...rest } = withRule.description;
  const without = validateRange(rest);
  try {
    await upRange(withRule, pools, { waitForAddresses: false });
    const plan = await planRange(without, pools);
    assert.ok(
      plan.items.some((i) => i.kind === "nwfilter" && i.name === filter && i.action === "keep"),
      JSON.stringify(plan.items),
    );
    await upRange(without, pools, { waitForAddresses: false });
    const xml = await pools.get(uri).use(async (conn) => {
      using f = await conn.nwFilterLookupByName(filter);
      return await f.getXmlDesc();
    });
    assert.doesNotMatch(xml, /<rule/, `the filter the guest's NIC still references filters nothing: ${xml}`);
  } finally {
    await downRange(without, pools).catch((e) => console.error("down:", e));
    await pools.get(uri).use(async (conn) => {
      const gone = await conn.nwFilterLookupByName(filter).then(
        (f) => (f.free(), false),
        (e) => isNotFound(e),
      );
      assert.ok(gone, "down removed the filter");
    });
    await pools.closeAll();
  }
});
