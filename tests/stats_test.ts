import assert from "node:assert/strict";
import {
  allDomainStats,
  Connection,
  createDomain,
  destroyDomain,
  domainListStats,
  domainStats,
  listAllDomains,
  lookupDomain,
  suspendDomain,
  type TypedValue,
} from "../mod.ts";
import { shapeDomainStats } from "../lib/stats.ts";
import { decodeTypedParams, TypedParamType, VIR_TYPED_PARAM_SIZE } from "../lib/ffi/typed_params.ts";
import { writeNodeFile } from "./_helpers.ts";
import { destroyGuests, guestName, guestXml, lab, labUp, randomMac } from "./integration/_lab.ts";

Deno.test("allDomainStats: 100 domains in one call, with state filters", async () => {
  const path = await writeNodeFile(100, { prefix: "stat" });
  const conn = await Connection.open(`test://${path}`);
  try {
    const all = await allDomainStats(conn);
    assert.equal(all.length, 100);
    assert.deepEqual(
      all.map((r) => r.name).sort(),
      Array.from({ length: 100 }, (_, i) => `stat-${String(i + 1).padStart(3, "0")}`),
    );
    for (const record of all) {
      assert.match(record.uuid, /^0badcafe-0000-4000-8000-00000000[0-9a-f]{4}$/);
      assert.deepEqual(record.state, { state: "running", reason: 0, reasonName: "unknown" });
      assert.equal(record.raw.get("state.state"), 1);
    }
    {
      using d7 = await lookupDomain(conn, "stat-007");
      using d9 = await lookupDomain(conn, "stat-009");
      await suspendDomain(d7);
      await destroyDomain(d9);
    }
    const paused = await allDomainStats(conn, { groups: ["state"], states: ["paused"] });
    assert.deepEqual(paused.map((r) => [r.name, r.state?.state, r.state?.reasonName]), [[
      "stat-007",
      "paused",
      "user",
    ]]);
    const inactive = await allDomainStats(conn, { active: false });
    assert.deepEqual(inactive.map((r) => [r.name, r.state?.reasonName]), [["stat-009", "destroyed"]]);
    // the test driver only has the state group: asked-for groups it lacks are omitted, or refused with enforce
    const lenient = await allDomainStats(conn, {
      groups: ["state", "cpu", "interface"],
      states: ["running"],
    });
    assert.equal(lenient.length, 98);
    assert.equal(lenient[0].cpu, undefined);
    await assert.rejects(
      () => allDomainStats(conn, { groups: ["cpu"], enforce: true }),
      /Cannot get the domain statistics/,
    );
    await assert.rejects(
      () => allDomainStats(conn, { groups: ["bogus" as "cpu"] }),
      /known groups are state, cpu/,
    );
  } finally {
    assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
    await Deno.remove(path);
  }
});

Deno.test("domainListStats and domainStats: a chosen list, one domain, freed handles refused", async () => {
  const path = await writeNodeFile(10, { prefix: "list" });
  const conn = await Connection.open(`test://${path}`);
  try {
    const domains = (await listAllDomains(conn)).sort((a, b) => a.name.localeCompare(b.name));
    const chosen = domains.filter((d) => Number(d.name.slice(-3)) % 3 === 0);
    const records = await domainListStats(chosen, { groups: ["state"] });
    assert.deepEqual(records.map((r) => r.name).sort(), ["list-003", "list-006", "list-009"]);
    const one = await domainStats(domains[0], ["state"]);
    assert.deepEqual([one.name, one.uuid, one.state?.state], [domains[0].name, domains[0].uuid, "running"]);
    await assert.rejects(() => domainListStats([]), /at least one/);
    domains[1].free();
    await assert.rejects(
      () => domainListStats(domains.slice(0, 2)),
      /Cannot get the statistics of freed Domain "list-002"/,
    );
    for (const d of domains) d.free();
    await using other = await Connection.open("test:///default");
    using foreign = await lookupDomain(other, "test");
    using mine = await lookupDomain(conn, "list-001");
    await assert.rejects(() => domainListStats([mine, foreign]), /different connections/);
  } finally {
    assert.equal((await conn.close()).remainingReferences, 0);
    await Deno.remove(path);
  }
});

Deno.test("decodeTypedParams: every virTypedParameter type at the verified offsets (96-byte stride)", () => {
  const params: [string, number, (view: DataView, at: number) => void, TypedValue][] = [
    ["state.state", TypedParamType.INT, (v, at) => v.setInt32(at, -3, true), -3],
    ["vcpu.current", TypedParamType.UINT, (v, at) => v.setUint32(at, 4_000_000_000, true), 4_000_000_000],
    ["x.llong", TypedParamType.LLONG, (v, at) => v.setBigInt64(at, -(2n ** 62n), true), -(2n ** 62n)],
    ["cpu.time", TypedParamType.ULLONG, (v, at) => v.setBigUint64(at, 2n ** 64n - 1n, true), 2n ** 64n - 1n],
    ["x.double", TypedParamType.DOUBLE, (v, at) => v.setFloat64(at, 1.5, true), 1.5],
    ["vcpu.0.halted", TypedParamType.BOOLEAN, (v, at) => v.setInt8(at, 1), true],
  ];
  const text = new TextEncoder().encode("vda\0");
  const longName = "n".repeat(79); // the longest field name: 79 bytes + NUL fill the 80-byte field
  const buffer = new Uint8Array(VIR_TYPED_PARAM_SIZE * (params.length + 2));
  const view = new DataView(buffer.buffer);
  const encoder = new TextEncoder();
  params.forEach(([name, type, write], i) => {
    buffer.set(encoder.encode(name), i * 96);
    view.setInt32(i * 96 + 80, type, true);
    write(view, i * 96 + 88);
  });
  const s = params.length;
  buffer.set(encoder.encode("block.0.name"), s * 96);
  view.setInt32(s * 96 + 80, TypedParamType.STRING, true);
  view.setBigUint64(s * 96 + 88, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(text))), true);
  buffer.set(encoder.encode(longName), (s + 1) * 96);
  view.setInt32((s + 1) * 96 + 80, TypedParamType.INT, true);
  view.setInt32((s + 1) * 96 + 88, 7, true);
  const decoded = decodeTypedParams(Deno.UnsafePointer.of(buffer), params.length + 2);
  assert.deepEqual([...decoded], [...params.map(([n, , , v]) => [n, v]), ["block.0.name", "vda"], [
    longName,
    7,
  ]]);
});

/** One domain's statistics as libvirt names its typed parameters: every group shapeDomainStats reads. */
const rawStats = new Map<string, TypedValue>([
  ["state.state", 1],
  ["state.reason", 1],
  ["cpu.time", 6220000000n],
  ["cpu.user", 5000000000n],
  ["cpu.system", 1220000000n],
  ["balloon.current", 98304n],
  ["balloon.maximum", 98304n],
  ["balloon.rss", 226172n],
  ["balloon.last-update", 1700000000n],
  ["vcpu.current", 2],
  ["vcpu.maximum", 2],
  ["vcpu.0.state", 1],
  ["vcpu.0.time", 5370000000n],
  ["vcpu.0.wait", 0n],
  ["vcpu.0.delay", 8663270254n],
  ["vcpu.0.halted", false],
  ["vcpu.1.state", 0],
  ["net.count", 1],
  ["net.0.name", "vnet10"],
  ["net.0.rx.bytes", 22618n],
  ["net.0.rx.pkts", 195n],
  ["net.0.rx.errs", 0n],
  ["net.0.rx.drop", 1n],
  ["net.0.tx.bytes", 12074n],
  ["net.0.tx.pkts", 125n],
  ["net.0.tx.errs", 0n],
  ["net.0.tx.drop", 0n],
  ["block.count", 1],
  ["block.0.name", "vda"],
  ["block.0.path", "/var/lib/libvirt/images/a.qcow2"],
  ["block.0.rd.reqs", 10n],
  ["block.0.rd.bytes", 4096n],
  ["block.0.rd.times", 123n],
  ["block.0.wr.reqs", 2n],
  ["block.0.wr.bytes", 1024n],
  ["block.0.wr.times", 45n],
  ["block.0.fl.reqs", 1n],
  ["block.0.fl.times", 6n],
  ["block.0.allocation", 196608n],
  ["block.0.capacity", 1073741824n],
  ["block.0.physical", 200704n],
  ["dirtyrate.calc_mode", "page-sampling"],
]);

Deno.test("shapeDomainStats: every group from libvirt's parameter names", () => {
  const raw = rawStats;
  const stats = shapeDomainStats("g", "6695eb01-f6a4-8304-79aa-97f2502e193f", raw);
  assert.deepEqual(stats.state, { state: "running", reason: 1, reasonName: "booted" });
  assert.deepEqual(stats.cpu, { timeNs: 6220000000n, userNs: 5000000000n, systemNs: 1220000000n });
  assert.deepEqual(stats.balloon, {
    currentKiB: 98304,
    maximumKiB: 98304,
    rssKiB: 226172,
    lastUpdate: 1700000000,
  });
  assert.deepEqual(stats.vcpu, {
    current: 2,
    maximum: 2,
    vcpus: [
      { index: 0, state: "running", timeNs: 5370000000n, waitNs: 0n, delayNs: 8663270254n, halted: false },
      { index: 1, state: "offline" },
    ],
  });
  assert.deepEqual(stats.interfaces, [{
    name: "vnet10",
    rxBytes: 22618,
    rxPackets: 195,
    rxErrors: 0,
    rxDrops: 1,
    txBytes: 12074,
    txPackets: 125,
    txErrors: 0,
    txDrops: 0,
  }]);
  assert.deepEqual(stats.blocks, [{
    name: "vda",
    path: "/var/lib/libvirt/images/a.qcow2",
    readRequests: 10,
    readBytes: 4096,
    readTimeNs: 123n,
    writeRequests: 2,
    writeBytes: 1024,
    writeTimeNs: 45n,
    flushRequests: 1,
    flushTimeNs: 6n,
    allocation: 196608,
    capacity: 1073741824,
    physical: 200704,
  }]);
  assert.equal(stats.raw.get("dirtyrate.calc_mode"), "page-sampling");
  assert.deepEqual(Object.keys(shapeDomainStats("s", "u", new Map([["state.state", 5]]))).sort(), [
    "name",
    "raw",
    "state",
    "uuid",
  ]);
});

Deno.test({
  name: "allDomainStats on qemu:///system: a guest of our own gives every group (read-only stats)",
  ignore: !labUp(),
  fn: async () => {
    // A guest of the test's own, created paused (a QEMU process, no boot to wait for): the assertions
    // below run whatever else the lab has running, also when nothing else is.
    const l = lab();
    const name = guestName("stats");
    await using rw = await Connection.open(l.uri);
    const xml = await guestXml(name, randomMac(), l.networks.nat.name, { agent: false });
    try {
      using _guest = await createDomain(rw, xml, { paused: true, autodestroy: true });
      await using conn = await Connection.open(l.uri, { readOnly: true });
      const records = await allDomainStats(conn, {
        states: ["running", "paused"],
        groups: ["state", "cpu", "balloon", "vcpu", "interface", "block"],
      });
      const mine = records.find((r) => r.name === name);
      assert.ok(mine, `our guest ${name} among ${records.map((r) => r.name).join(", ")}`);
      assert.equal(mine.state?.state, "paused");
      assert.equal(mine.interfaces?.length, 1, "its one NIC");
      assert.ok(mine.balloon !== undefined, "the balloon group");
      for (const record of records) {
        assert.ok(["running", "paused"].includes(record.state!.state));
        assert.equal(typeof record.cpu?.timeNs, "bigint");
        assert.ok(record.vcpu!.current >= 1 && record.vcpu!.vcpus.length >= 1);
        assert.ok(Array.isArray(record.interfaces) && Array.isArray(record.blocks));
        for (const nic of record.interfaces!) assert.ok(nic.name !== "" && nic.rxBytes >= 0);
      }
    } finally {
      await destroyGuests(l.uri, [name]);
    }
  },
});
