import assert from "node:assert/strict";
import {
  buildStoragePool,
  Connection,
  createStoragePool,
  createVolume,
  defineStoragePool,
  deleteStoragePool,
  destroyStoragePool,
  ErrorCode,
  escapeXml,
  isLibvirtError,
  listAllStoragePools,
  listVolumes,
  lookupStoragePool,
  lookupVolume,
  lookupVolumeByPath,
  NotFoundError,
  NotSupportedError,
  OperationInvalidError,
  qcow2OverlayXml,
  startStoragePool,
  StoragePool,
  StoragePoolCreateFlag,
  type StoragePoolInfo,
  StorageVolume,
  undefineStoragePool,
} from "../mod.ts";
import { decodeXmlText } from "../lib/xml.ts";
import { DAEMON_URI, requireDaemon } from "./_helpers.ts";

const DEFAULT_POOL_UUID = "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566"; // test:///default's "default-pool"
const GiB = 2 ** 30;
const HOSTILE = [`a<b`, `x&y`, `"q"`, `]]>`, `it's`, `<!-- -->`, `&amp;`, `<name>evil</name>`];

function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

function poolXml(name: string, path = `/${name}`): string {
  return `<pool type='dir'><name>${name}</name><target><path>${path}</path></target></pool>`;
}

async function names(handles: Promise<(StoragePool | StorageVolume)[]>): Promise<string[]> {
  return (await handles).map((h) => (h.free(), h.name)).sort();
}

/** A private test-driver node: one pool, "images", holding two volumes (3 GiB allocated). */
async function writeStorageNode(): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "deno_libvirt_storage_", suffix: ".xml" });
  await Deno.writeTextFile(
    path,
    `<node><cpu><mhz>2000</mhz><model>test</model></cpu><memory>8388608</memory>
<pool type='dir'><name>images</name><uuid>0badcafe-0000-4000-8000-0000000000aa</uuid>
<target><path>/images</path></target>
<volume type='file'><name>base.qcow2</name><capacity unit='GiB'>2</capacity><allocation unit='GiB'>1</allocation>
<target><path>/images/base.qcow2</path><format type='qcow2'/></target></volume>
<volume type='file'><name>raw.img</name><capacity unit='GiB'>2</capacity><allocation unit='GiB'>2</allocation>
<target><path>/images/raw.img</path></target></volume>
</pool></node>`,
  );
  return path;
}

Deno.test("lookupStoragePool finds by name and UUID, reads info, and NotFoundError otherwise", async () => {
  const conn = await Connection.open("test:///default");
  {
    using pool = await lookupStoragePool(conn, "default-pool");
    assert.equal(pool.uuid, DEFAULT_POOL_UUID);
    assert.equal(Deno.inspect(pool), 'StoragePool { name: "default-pool" }');
    using byUuid = await lookupStoragePool(conn, DEFAULT_POOL_UUID);
    assert.equal(byUuid.name, "default-pool");

    const info = await pool.info();
    assert.equal(info.state, "running");
    assert.equal(info.capacityBytes, 100 * GiB);
    assert.equal(info.allocationBytes + info.availableBytes, info.capacityBytes);
    assert.equal(await pool.isActive(), true);
    assert.equal(await pool.isPersistent(), true);
    assert.equal(await pool.autostart(), false);
    assert.match(await pool.xmlDesc(), /<pool type='dir'>[\s\S]*<path>\/default-pool<\/path>/);
    // the test driver refuses VIR_STORAGE_XML_INACTIVE (real drivers accept it): the flag does reach libvirt
    await assert.rejects(
      () => pool.xmlDesc({ inactive: true }),
      (e: unknown) => isLibvirtError(e, ErrorCode.INVALID_ARG) && /unsupported flags \(0x1\)/.test(e.message),
    );
    await pool.refresh();

    await assert.rejects(() => lookupStoragePool(conn, "no-such-pool"), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.equal(e.code, ErrorCode.NO_STORAGE_POOL);
      assert.equal(
        e.message,
        `Cannot look up storage pool "no-such-pool": Storage pool not found: no storage pool with matching name 'no-such-pool'`,
      );
      return true;
    });
    await assert.rejects(
      () => lookupStoragePool(conn, "00000000-0000-0000-0000-000000000000"),
      NotFoundError,
    );
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("StoragePool.build, create, refresh, destroy, undefine: a full round trip, errors naming the call", async () => {
  const conn = await Connection.open("test:///default");
  const name = unique("dlv-pool");
  {
    using pool = await defineStoragePool(conn, poolXml(name));
    assert.equal(pool.name, name);
    assert.equal((await pool.info()).state, "inactive");
    assert.equal(await pool.isActive(), false);
    assert.equal(await pool.isPersistent(), true);
    await assert.rejects(
      () => pool.refresh(),
      (e: unknown) =>
        e instanceof OperationInvalidError && e.message.startsWith(`Cannot refresh storage pool "${name}": `),
    );

    await pool.build();
    await pool.create();
    assert.equal((await pool.info()).state, "running");
    await assert.rejects(() => pool.create(), OperationInvalidError);
    await pool.refresh();
    await pool.setAutostart(true);
    assert.equal(await pool.autostart(), true);
    await assert.rejects(() => pool.undefine(), (e: unknown) => {
      assert.ok(e instanceof OperationInvalidError);
      assert.match(
        e.message,
        new RegExp(`^Cannot call virStoragePoolUndefine on storage pool "${name}": .*is active`),
      );
      return true;
    });

    await pool.destroy();
    assert.equal((await pool.info()).state, "inactive");
    await pool.undefine();
    await assert.rejects(() => lookupStoragePool(conn, name), NotFoundError);
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("buildStoragePool, startStoragePool, destroyStoragePool, deleteStoragePool, undefineStoragePool: deprecated aliases, in their own words", async () => {
  const conn = await Connection.open("test:///default");
  const name = unique("dlv-alias-pool");
  {
    using pool = await defineStoragePool(conn, poolXml(name));
    await buildStoragePool(pool);
    await startStoragePool(pool);
    assert.equal((await pool.info()).state, "running");
    await assert.rejects(() => startStoragePool(pool), (e: unknown) => {
      assert.ok(e instanceof OperationInvalidError);
      assert.match(e.message, new RegExp(`^Cannot start storage pool "${name}": `));
      assert.ok(e.cause instanceof OperationInvalidError, "the method's error is the cause");
      assert.match(e.cause.message, /^Cannot call virStoragePoolCreate on storage pool /);
      return true;
    });
    await assert.rejects(
      () => startStoragePool(pool, -1),
      /^RangeError: Cannot start a storage pool: flags /,
    );
    await assert.rejects(
      () => undefineStoragePool(pool),
      new RegExp(`Cannot undefine storage pool "${name}": `),
    );
    await destroyStoragePool(pool);
    await deleteStoragePool(pool);
    await undefineStoragePool(pool);
    await assert.rejects(() => lookupStoragePool(conn, name), NotFoundError);
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("createStoragePool makes a running transient pool that disappears when destroyed", async () => {
  const conn = await Connection.open("test:///default");
  const name = unique("dlv-transient-pool");
  {
    // the test driver takes no flags here (the QEMU driver builds the target dir with WITH_BUILD)
    await assert.rejects(
      () => createStoragePool(conn, poolXml(name), StoragePoolCreateFlag.WITH_BUILD),
      (e: unknown) =>
        isLibvirtError(e, ErrorCode.INVALID_ARG) &&
        e.message.startsWith(`Cannot create storage pool "${name}": `),
    );
    using pool = await createStoragePool(conn, poolXml(name));
    assert.equal(await pool.isActive(), true);
    assert.equal(await pool.isPersistent(), false);
    assert.ok((await names(listAllStoragePools(conn, { persistent: false }))).includes(name));
    await pool.destroy();
    await assert.rejects(() => lookupStoragePool(conn, name), NotFoundError);
  }
  await assert.rejects(
    () => defineStoragePool(conn, "<pool type='dir'><name>broken"),
    (e: unknown) => e instanceof Error && /^Cannot define storage pool from XML: /.test(e.message),
  );
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("listAllStoragePools filters by active, persistent and autostart", async () => {
  const node = await writeStorageNode();
  const conn = await Connection.open(`test://${node}`);
  try {
    using off = await defineStoragePool(conn, poolXml("defined-off"));
    using auto = await defineStoragePool(conn, poolXml("defined-auto"));
    await auto.create();
    await auto.setAutostart(true);
    using transient = await createStoragePool(conn, poolXml("transient"));

    assert.deepEqual(await names(listAllStoragePools(conn)), [
      "defined-auto",
      "defined-off",
      "images",
      "transient",
    ]);
    assert.deepEqual(await names(listAllStoragePools(conn, { active: true })), [
      "defined-auto",
      "images",
      "transient",
    ]);
    assert.deepEqual(await names(listAllStoragePools(conn, { active: false })), ["defined-off"]);
    assert.deepEqual(await names(listAllStoragePools(conn, { persistent: false })), ["transient"]);
    assert.deepEqual(await names(listAllStoragePools(conn, { autostart: true })), ["defined-auto"]);
    assert.deepEqual(
      await names(listAllStoragePools(conn, { active: true, persistent: true, autostart: false })),
      ["images"],
    );
    assert.equal(await off.isActive(), false);
    assert.equal(await transient.isPersistent(), false);
  } finally {
    assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
    await Deno.remove(node);
  }
});

Deno.test("StoragePool.info and listVolumes on a private node: sizes from the volumes", async () => {
  const node = await writeStorageNode();
  const conn = await Connection.open(`test://${node}`);
  try {
    using pool = await lookupStoragePool(conn, "images");
    // the test driver fixes a pool's capacity at 100 GiB and sums its volumes' allocations
    assert.deepEqual(
      await pool.info(),
      {
        state: "running",
        capacityBytes: 100 * GiB,
        allocationBytes: 3 * GiB,
        availableBytes: 97 * GiB,
      } satisfies StoragePoolInfo,
    );
    assert.deepEqual(await names(listVolumes(pool)), ["base.qcow2", "raw.img"]);
    using base = await lookupVolume(pool, "base.qcow2");
    assert.equal(base.key, "/images/base.qcow2");
    assert.equal(await base.path(), "/images/base.qcow2");
    assert.deepEqual(await base.info(), { type: "file", capacityBytes: 2 * GiB, allocationBytes: GiB });
    assert.match(await base.xmlDesc(), /<format type='qcow2'\/>/);
  } finally {
    assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
    await Deno.remove(node);
  }
});

Deno.test("volumes on default-pool: create, lookup by name and path, info, delete", async () => {
  const conn = await Connection.open("test:///default");
  const name = unique("dlv-vol") + ".qcow2";
  {
    using pool = await lookupStoragePool(conn, "default-pool");
    const before = await pool.info();
    using created = await createVolume(
      pool,
      qcow2OverlayXml({
        name,
        capacityBytes: 8 * 2 ** 20,
        backingPath: "/images/base.qcow2",
        backingFormat: "qcow2",
      }),
    );
    assert.equal(created.name, name);
    assert.equal(Deno.inspect(created), `StorageVolume { name: "${name}" }`);
    const path = await created.path();
    assert.equal(path, `/default-pool/${name}`);
    assert.equal(created.key, path);
    const info = await created.info();
    assert.equal(info.type, "file");
    assert.equal(info.capacityBytes, 8 * 2 ** 20);
    assert.equal((await pool.info()).allocationBytes, before.allocationBytes + info.allocationBytes);
    assert.match(
      await created.xmlDesc(),
      /<backingStore>\s*<path>\/images\/base\.qcow2<\/path>\s*<format type='qcow2'\/>\s*<\/backingStore>/,
    );

    using byName = await lookupVolume(pool, name);
    using byPath = await lookupVolumeByPath(conn, path);
    assert.equal(byName.key, path);
    assert.equal(byPath.name, name);
    assert.ok((await names(listVolumes(pool))).includes(name));
    await assert.rejects(
      () => createVolume(pool, qcow2OverlayXml({ name, backingPath: "/b", backingFormat: "qcow2" })),
      (e: unknown) =>
        e instanceof Error &&
        e.message.startsWith(`Cannot create volume "${name}" in storage pool "default-pool": `),
    );

    await byPath.delete();
    await assert.rejects(() => lookupVolume(pool, name), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.equal(e.code, ErrorCode.NO_STORAGE_VOL);
      assert.match(
        e.message,
        new RegExp(`^Cannot look up volume "${name.replace(".", "\\.")}" in storage pool "default-pool": `),
      );
      return true;
    });
    await assert.rejects(() => lookupVolumeByPath(conn, path), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.equal(
        e.message,
        `Cannot look up the volume at "${path}": Storage volume not found: no storage vol with matching path '${path}'`,
      );
      return true;
    });
    await assert.rejects(() => created.delete(), NotFoundError, "the other handle sees the volume gone");
    assert.equal((await pool.info()).allocationBytes, before.allocationBytes);
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("escapeXml escapes markup and whitespace, and rejects what XML 1.0 cannot carry", () => {
  assert.equal(escapeXml(`a<b & "c" 'd' ]]>`), "a&lt;b &amp; &quot;c&quot; &apos;d&apos; ]]&gt;");
  assert.equal(escapeXml("&amp;"), "&amp;amp;", "already escaped text is escaped again, not trusted");
  assert.equal(escapeXml("tab\tnl\ncr\r"), "tab&#9;nl&#10;cr&#13;");
  assert.equal(escapeXml("plain ünïcødé 🖥 \uE000\uFFFD"), "plain ünïcødé 🖥 \uE000\uFFFD");
  assert.equal(escapeXml(""), "");
  for (const value of [...HOSTILE, "tab\tnl\n", "🖥 &#38;"]) {
    assert.equal(decodeXmlText(escapeXml(value)), value);
  }
  for (
    const [bad, code] of [
      ["a\0b", "0000"],
      ["\x01", "0001"],
      ["\x1F", "001F"],
      ["\uFFFE", "FFFE"],
      [
        "\uFFFF",
        "FFFF",
      ],
      ["x\uD800", "D800"],
      ["\uDC00y", "DC00"],
    ]
  ) {
    assert.throws(() => escapeXml(bad), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.equal(
        e.message,
        `Cannot escape ${JSON.stringify(bad)} for XML: it contains U+${code}, which XML 1.0 does not allow`,
      );
      return true;
    });
  }
});

Deno.test("qcow2OverlayXml escapes every value and validates its options", () => {
  const xml = qcow2OverlayXml({
    name: `a<b&"q"]]>'.qcow2`,
    capacityBytes: 10n * BigInt(GiB),
    backingPath: `/img/x&y/"q"/]]>/a<b.qcow2`,
    backingFormat: `qcow2' evil='1`,
  });
  assert.equal(
    xml,
    `<volume type='file'>
  <name>a&lt;b&amp;&quot;q&quot;]]&gt;&apos;.qcow2</name>
  <capacity unit='bytes'>10737418240</capacity>
  <target>
    <format type='qcow2'/>
  </target>
  <backingStore>
    <path>/img/x&amp;y/&quot;q&quot;/]]&gt;/a&lt;b.qcow2</path>
    <format type='qcow2&apos; evil=&apos;1'/>
  </backingStore>
</volume>
`,
  );
  assert.doesNotMatch(
    qcow2OverlayXml({ name: "v", backingPath: "/b", backingFormat: "raw" }),
    /<capacity/,
    "without a capacity libvirt takes the backing image's",
  );
  assert.throws(() => qcow2OverlayXml({ name: "", backingPath: "/b", backingFormat: "raw" }), TypeError);
  assert.throws(() => qcow2OverlayXml({ name: "v", backingPath: "/b", backingFormat: "" }), TypeError);
  assert.throws(() => qcow2OverlayXml({ name: "v\x07", backingPath: "/b", backingFormat: "raw" }), /U\+0007/);
  for (const capacityBytes of [-1, 1.5, NaN, Infinity, 2 ** 53, -1n]) {
    assert.throws(
      () => qcow2OverlayXml({ name: "v", capacityBytes, backingPath: "/b", backingFormat: "raw" }),
      /^RangeError: Cannot build overlay volume XML: capacityBytes must be a non-negative integer/,
    );
  }
});

Deno.test("qcow2OverlayXml with hostile names is well-formed: libvirt's XML parser reads the values back", async () => {
  const conn = await Connection.open("test:///default");
  {
    using pool = await lookupStoragePool(conn, "default-pool");
    const tag = crypto.randomUUID().slice(0, 8);
    for (const hostile of HOSTILE) {
      const name = `${hostile}-${tag}`;
      const backingPath = `/images/${hostile}/base.qcow2`;
      // (the test driver insists on a capacity; the QEMU driver takes the backing image's)
      const xml = qcow2OverlayXml({ name, capacityBytes: 2 ** 20, backingPath, backingFormat: "qcow2" });
      using volume = await createVolume(pool, xml);
      assert.equal(volume.name, name, "libvirt parsed the name exactly");
      assert.equal(await volume.path(), `/default-pool/${name}`);
      // libvirt escapes the same five characters when it writes the XML back
      assert.ok((await volume.xmlDesc()).includes(`<path>${escapeXml(backingPath)}</path>`));
      await volume.delete();
    }
    // an attribute cannot be broken out of: libvirt sees the whole value as the format's name
    await assert.rejects(
      () =>
        createVolume(
          pool,
          qcow2OverlayXml({
            name: `fmt<${tag}>`,
            capacityBytes: 2 ** 20,
            backingPath: "/b",
            backingFormat: "qcow2' type='raw",
          }),
        ),
      (e: unknown) =>
        e instanceof NotSupportedError &&
        e.message ===
          `Cannot create volume "fmt<${tag}>" in storage pool "default-pool": unsupported configuration: ` +
            `unknown volume format type qcow2' type='raw`,
    );
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("StoragePool and StorageVolume handles: not constructible, guarded after free", async () => {
  const conn = await Connection.open("test:///default");
  const fake = Deno.UnsafePointer.create(1n)!; // never dereferenced: the constructors refuse first
  assert.throws(() => new StoragePool(Symbol("fake"), conn, fake), /Cannot construct a StoragePool/);
  assert.throws(() => new StorageVolume(Symbol("fake"), conn, fake), /Cannot construct a StorageVolume/);

  const pool = await lookupStoragePool(conn, "default-pool");
  const name = unique("dlv-freed");
  const volume = await createVolume(pool, `<volume><name>${name}</name><capacity>1024</capacity></volume>`);
  volume.free();
  volume.free();
  assert.equal(Deno.inspect(volume), `StorageVolume { name: "${name}", freed }`);
  assert.throws(() => volume.key, new RegExp(`Cannot read the key of freed StorageVolume "${name}"`));
  await assert.rejects(
    () => volume.path(),
    new RegExp(`^TypeError: Cannot get the path of freed StorageVolume "${name}"$`),
  );
  await assert.rejects(() => volume.delete(), /Cannot delete freed StorageVolume/);
  {
    using again = await lookupVolume(pool, name);
    await again.delete();
  }

  pool.free();
  assert.equal(pool.name, "default-pool");
  await assert.rejects(() => pool.info(), /Cannot get info of freed StoragePool "default-pool"/);
  await assert.rejects(
    () => lookupVolume(pool, "x"),
    /Cannot look up volume "x" in freed StoragePool "default-pool"/,
  );
  await assert.rejects(
    () => pool.destroy(),
    /Cannot call virStoragePoolDestroy on freed StoragePool "default-pool"/,
  );
  await assert.rejects(() => destroyStoragePool(pool), /Cannot destroy freed StoragePool "default-pool"/); // the deprecated alias
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("Connection.close frees forgotten pool and volume handles and counts them", async () => {
  const conn = await Connection.open("test:///default");
  const pool = await lookupStoragePool(conn, "default-pool");
  const name = unique("dlv-forgotten");
  await createVolume(pool, `<volume><name>${name}</name><capacity>1024</capacity></volume>`); // forgotten
  const listed = await listVolumes(pool);
  using cleanup = await lookupVolume(pool, name);
  await cleanup.delete();
  cleanup.free();
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 2 + listed.length });
  assert.ok(pool.freed && listed.every((v) => v.freed));
});

Deno.test("storage over libvirtd: pool info, volume create/lookup/path/delete, clean close", async () => {
  requireDaemon();
  const conn = await Connection.open(DAEMON_URI);
  const name = unique("dlv-daemon-vol");
  try {
    using pool = await lookupStoragePool(conn, "default-pool");
    assert.equal((await pool.info()).state, "running");
    assert.ok((await names(listAllStoragePools(conn, { active: true }))).includes("default-pool"));
    using volume = await createVolume(
      pool,
      qcow2OverlayXml({
        name,
        capacityBytes: 2 ** 20,
        backingPath: "/images/base.qcow2",
        backingFormat: "qcow2",
      }),
    );
    const path = await volume.path();
    assert.equal(path, `/default-pool/${name}`);
    using byPath = await lookupVolumeByPath(conn, path);
    assert.equal(byPath.name, name);
    assert.equal((await volume.info()).capacityBytes, 2 ** 20);
    await volume.delete();
    await assert.rejects(() => lookupVolume(pool, name), NotFoundError);
  } finally {
    assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
  }
});

Deno.test("createVolume: a freed pool and a bad argument are rejections in its words, not throws", async () => {
  const conn = await Connection.open("test:///default");
  try {
    const pool = await lookupStoragePool(conn, "default-pool");
    const bad = createVolume(pool, 42 as unknown as string); // a promise, not a synchronous throw
    await assert.rejects(bad, (e: unknown) => e instanceof TypeError && /create a volume/.test(e.message));
    pool.free();
    const freed = createVolume(pool, "<volume><name>fr&amp;eed.img</name></volume>");
    await assert.rejects(
      freed,
      (e: unknown) =>
        e instanceof TypeError && e.message.includes(`create volume "fr&eed.img" in freed StoragePool`),
    );
  } finally {
    await conn.close();
  }
});
