import assert from "node:assert/strict";
import {
  Connection,
  createSnapshot,
  currentSnapshot,
  destroyDomain,
  listSnapshots,
  lookupDomain,
  lookupSnapshot,
  NotFoundError,
  parseSnapshotXml,
  revertToSnapshot,
  snapshotTree,
  snapshotXml,
  suspendDomain,
  undefineDomain,
} from "../mod.ts";
import { writeNodeFile } from "./_helpers.ts";

async function withDomain(fn: (conn: Connection) => Promise<void>): Promise<void> {
  const path = await writeNodeFile(1, { prefix: "snap" });
  const conn = await Connection.open(`test://${path}`);
  try {
    await fn(conn);
  } finally {
    assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 }, "no handle leaked");
    await Deno.remove(path);
  }
}

Deno.test("createSnapshot/listSnapshots/lookupSnapshot/currentSnapshot/parent/children/tree", async () => {
  await withDomain(async (conn) => {
    using dom = await lookupDomain(conn, "snap-001");
    assert.equal(await currentSnapshot(dom), undefined);
    assert.deepEqual(await listSnapshots(dom), []);
    using a = await createSnapshot(dom, { name: "a", description: "clean <state> & 'ready'" });
    using b = await createSnapshot(dom, { name: "b" });
    using c = await createSnapshot(dom, { name: "c", atomic: true });
    const description = await a.describe();
    assert.equal(description.name, "a");
    assert.equal(description.description, "clean <state> & 'ready'");
    assert.equal(description.state, "running");
    assert.equal(description.parent, undefined);
    assert.ok(description.createdAt instanceof Date);
    assert.equal((await c.describe()).parent, "b");
    {
      using current = await currentSnapshot(dom);
      assert.equal(current?.name, "c");
      assert.equal(await c.isCurrent(), true);
      assert.equal(await a.isCurrent(), false);
    }
    {
      using parent = await b.parent();
      assert.equal(parent?.name, "a");
      assert.equal(await a.parent(), undefined);
    }
    const children = await a.children();
    assert.deepEqual(children.map((s) => (s.free(), s.name)), ["b"]);
    const descendants = await a.children({ descendants: true });
    assert.deepEqual(descendants.map((s) => (s.free(), s.name)).sort(), ["b", "c"]);
    const roots = await listSnapshots(dom, { roots: true });
    assert.deepEqual(roots.map((s) => (s.free(), s.name)), ["a"]);
    const leaves = await listSnapshots(dom, { leaves: true });
    assert.deepEqual(leaves.map((s) => (s.free(), s.name)), ["c"]);
    const all = await listSnapshots(dom, { topological: true });
    assert.deepEqual(all.map((s) => (s.free(), s.name)), ["a", "b", "c"]);
    assert.deepEqual(await snapshotTree(dom), [
      { name: "a", children: [{ name: "b", children: [{ name: "c", children: [] }] }] },
    ]);
    {
      using found = await lookupSnapshot(dom, "b");
      assert.match(await found.xmlDesc(), /<name>b<\/name>/);
    }
    await assert.rejects(() => lookupSnapshot(dom, "nope"), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.match(e.message, /^Cannot look up snapshot "nope" of domain "snap-001": /);
      return true;
    });
    await assert.rejects(
      () => createSnapshot(dom, { name: "a" }),
      /Cannot create snapshot "a" of domain "snap-001"/,
    );
  });
});

Deno.test("revertToSnapshot: back to the captured state, running/paused overrides", async () => {
  await withDomain(async (conn) => {
    using dom = await lookupDomain(conn, "snap-001");
    using running = await createSnapshot(dom, { name: "running" });
    await destroyDomain(dom);
    using off = await createSnapshot(dom, { name: "off" });
    assert.equal((await off.describe()).state, "shutoff");
    const back = await revertToSnapshot(running);
    assert.deepEqual([back.before, back.after, back.afterReason], ["shutoff", "running", "from snapshot"]);
    const paused = await revertToSnapshot(running, { paused: true });
    assert.deepEqual([paused.before, paused.after], ["running", "paused"]);
    assert.equal((await revertToSnapshot(off)).after, "shutoff");
    await assert.rejects(() => revertToSnapshot(off, { running: true, paused: true }), TypeError);
    await suspendDomain(dom).catch(() => {});
    using current = await currentSnapshot(dom);
    assert.equal(current?.name, "off");
  });
});

Deno.test("DomainSnapshot.delete: alone, with children, children only, metadata only; undefine with snapshots metadata", async () => {
  await withDomain(async (conn) => {
    using dom = await lookupDomain(conn, "snap-001");
    for (const name of ["r", "r1", "r2"]) (await createSnapshot(dom, { name })).free();
    (await createSnapshot(dom, { name: "r3" })).free();
    {
      using r2 = await lookupSnapshot(dom, "r2");
      await r2.delete({ childrenOnly: true }); // r3 goes, r2 stays
    }
    assert.deepEqual((await listSnapshots(dom)).map((s) => (s.free(), s.name)).sort(), ["r", "r1", "r2"]);
    {
      using r1 = await lookupSnapshot(dom, "r1");
      await r1.delete(); // r2 is re-parented to r
      await assert.rejects(() => r1.describe(), NotFoundError);
    }
    assert.deepEqual(await snapshotTree(dom), [{ name: "r", children: [{ name: "r2", children: [] }] }]);
    {
      using r = await lookupSnapshot(dom, "r");
      // the test driver keeps no snapshot data apart from metadata, and says it lacks the flag
      await assert.rejects(
        () => r.delete({ metadataOnly: true }),
        /Cannot delete snapshot "r": unsupported flags \(0x2\)/,
      );
      await r.delete({ children: true });
    }
    assert.deepEqual(await listSnapshots(dom), []);
    (await createSnapshot(dom, { name: "keep" })).free();
    await destroyDomain(dom);
    const result = await undefineDomain(dom, { snapshotsMetadata: true });
    assert.equal(result.gone, true);
  });
});

Deno.test("snapshotXml escapes the description and refuses unusable names; parseSnapshotXml", () => {
  const xml = snapshotXml({ name: "s<1>&'", description: "]]></description><x/>" });
  assert.equal(
    xml,
    "<domainsnapshot><name>s&lt;1&gt;&amp;&apos;</name><description>]]&gt;&lt;/description&gt;&lt;x/&gt;</description></domainsnapshot>",
  );
  assert.deepEqual(parseSnapshotXml(xml), {
    name: "s<1>&'",
    description: "]]></description><x/>",
    state: "nostate",
    hasMemory: false,
  });
  for (const bad of ["", "a/b", ".hidden"]) assert.throws(() => snapshotXml({ name: bad }), TypeError);
  assert.throws(() => snapshotXml({ description: "\0" }), /U\+0000/);
  assert.throws(() => parseSnapshotXml("<domain/>"), TypeError);
  assert.equal(
    parseSnapshotXml(
      "<domainsnapshot><name>d</name><state>disk-snapshot</state><memory snapshot='no'/><parent><name>p</name></parent></domainsnapshot>",
    ).state,
    "disk-snapshot",
  );
});

Deno.test("DomainSnapshot.parent() is one call (virDomainSnapshotGetParent): no XML read; a root is undefined, a deleted snapshot an error", async () => {
  await withDomain(async (conn) => {
    using dom = await lookupDomain(conn, "snap-001");
    using a = await createSnapshot(dom, { name: "a" });
    using b = await createSnapshot(dom, { name: "b" });
    // the XML is not read: a parent() that describes first fails here
    for (const snap of [a, b]) {
      Object.assign(snap, {
        xmlDesc: () => Promise.reject(new Error("parent() read the XML: more than one libvirt call")),
      });
    }
    {
      using parent = await b.parent();
      assert.equal(parent?.name, "a");
      assert.equal(parent?.domain, dom);
    }
    assert.equal(await a.parent(), undefined);
    {
      using a2 = await lookupSnapshot(dom, "a");
      await a2.delete({ children: true });
    }
    // the handle names nothing now: libvirt's "no such snapshot" is not "no parent"
    await assert.rejects(
      b.parent(),
      (e) => e instanceof NotFoundError && /no domain snapshot with matching/.test(e.message),
    );
  });
});
