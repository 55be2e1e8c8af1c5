// The whole domain lifecycle on a real QEMU (TCG) guest with a qcow2 overlay disk made through the
// storage API: agent and ACPI shutdown (with the timeout fallback), reboot, suspend/resume, managed
// save/restore, snapshot and revert of the running guest, and the events each one emits.
import assert from "node:assert/strict";
import {
  Connection,
  createVolume,
  defineDomain,
  type DomainEvent,
  domainEvents,
  lookupStoragePool,
  qcow2OverlayXml,
  waitForAddress,
} from "../../mod.ts";
import { buildDomainXml } from "../../lib/domain_xml.ts";
import {
  managedSaveDomain,
  rebootDomain,
  resumeDomain,
  shutdownDomain,
  startDomain,
  suspendDomain,
  undefineDomain,
} from "../../lib/domain.ts";
import { createSnapshot, revertToSnapshot } from "../../lib/snapshot.ts";
import { destroyGuests, guestName, lab, randomMac, requireLabNamespace } from "./_lab.ts";

/** Reads events until one matches, failing after `timeoutMs` with what did arrive. */
async function expectEvent(
  events: AsyncIterator<DomainEvent>,
  what: string,
  match: (e: DomainEvent) => boolean,
  timeoutMs = 60_000,
): Promise<DomainEvent> {
  const seen: string[] = [];
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      events.next(),
      new Promise<null>((r) => timer = setTimeout(() => r(null), deadline - performance.now())),
    ]);
    clearTimeout(timer);
    if (next === null || next.done) break;
    seen.push(`${next.value.kind}:${next.value.event ?? ""}/${next.value.detail ?? ""}`);
    if (match(next.value)) return next.value;
  }
  throw new Error(`no ${what} event within ${timeoutMs} ms; saw ${seen.join(", ") || "nothing"}`);
}

const lifecycle = (event: string, detail?: string) => (e: DomainEvent) =>
  e.kind === "lifecycle" && e.event === event && (detail === undefined || e.detail === detail);
const agentConnected = (e: DomainEvent) => e.kind === "agent-lifecycle" && e.event === "connected";

Deno.test("lab lifecycle: agent/ACPI shutdown, fallback, reboot, suspend, managed save, snapshot revert, with events", async () => {
  await requireLabNamespace();
  const l = lab();
  await using conn = await Connection.open(l.uri);
  const name = guestName("life");
  const mac = randomMac();
  using pool = await lookupStoragePool(conn, l.imagePool.name);
  using base = await createVolume(
    pool,
    `<volume><name>${name}-base.qcow2</name><capacity unit='MiB'>64</capacity><target><format type='qcow2'/></target></volume>`,
  );
  const basePath = await base.path();
  using overlay = await createVolume(
    pool,
    qcow2OverlayXml({
      name: `${name}.qcow2`,
      backingPath: basePath,
      backingFormat: "qcow2",
      capacityBytes: 64 * 1024 * 1024,
    }),
  );
  const overlayPath = await overlay.path();
  const xml = buildDomainXml({
    name,
    type: "qemu",
    memoryMiB: 128,
    vcpus: 1,
    kernel: {
      kernel: l.guest.kernel,
      initrd: l.guest.initrd,
      cmdline: `console=ttyS0 quiet loglevel=3 labhost=${name}`,
    },
    disks: [{ path: overlayPath, format: "qcow2", backing: { path: basePath, format: "qcow2" } }],
    nics: [{ network: l.networks.nat.name, mac, model: "virtio" }],
    guestAgent: true,
    serial: { type: "file", path: `${l.logs}/${name}.console` },
    onPoweroff: "destroy",
    onReboot: "restart",
  });
  const dom = await defineDomain(conn, xml);
  await using events = domainEvents(l.uri, {
    kinds: ["lifecycle", "reboot", "agent-lifecycle"],
    domain: name,
  });
  await events.ready();
  const timings: Record<string, number> = {};
  try {
    // start, and the agent comes up
    let t0 = performance.now();
    assert.deepEqual(
      [(await startDomain(dom)).before, (await dom.state()).state],
      ["shutoff", "running"],
    );
    await expectEvent(events, "started", lifecycle("started", "booted"));
    await expectEvent(events, "agent connected", agentConnected);
    timings.bootToAgent = performance.now() - t0;

    // reboot through the agent: a reboot event, and the agent returns
    await rebootDomain(dom, { mode: "agent" });
    await expectEvent(events, "reboot", (e) => e.kind === "reboot");
    await expectEvent(events, "agent reconnected", agentConnected);

    // suspend / resume
    const paused = await suspendDomain(dom);
    assert.deepEqual([paused.before, paused.after], ["running", "paused"]);
    await expectEvent(events, "suspended", lifecycle("suspended", "paused"));
    const resumed = await resumeDomain(dom);
    assert.equal(resumed.after, "running");
    await expectEvent(events, "resumed", lifecycle("resumed", "unpaused"));

    // graceful shutdown through ACPI (the guest's acpid powers off)
    t0 = performance.now();
    const acpi = await shutdownDomain(dom, { mode: "acpi", timeoutMs: 60_000 });
    assert.deepEqual([acpi.after, acpi.forced], ["shutoff", false]);
    timings.acpiShutdown = performance.now() - t0;
    await expectEvent(events, "stopped by shutdown", lifecycle("stopped", "shutdown"));

    // graceful shutdown through the agent
    await startDomain(dom);
    await expectEvent(events, "agent connected", agentConnected);
    t0 = performance.now();
    const viaAgent = await shutdownDomain(dom, { mode: "agent", timeoutMs: 60_000 });
    assert.deepEqual([viaAgent.after, viaAgent.forced], ["shutoff", false]);
    timings.agentShutdown = performance.now() - t0;

    // a shutdown that does not finish in time falls back to destroy, and says so
    await startDomain(dom);
    await expectEvent(events, "agent connected", agentConnected);
    const forced = await shutdownDomain(dom, { mode: "acpi", timeoutMs: 1, fallback: "destroy" });
    assert.deepEqual([forced.after, forced.forced], ["shutoff", true]);
    assert.ok(forced.gracefulFailure, "the result says why the graceful path was abandoned");
    await expectEvent(events, "stopped by destroy", lifecycle("stopped", "destroyed"));

    // managed save and restore
    await startDomain(dom);
    await expectEvent(events, "agent connected", agentConnected);
    t0 = performance.now();
    const saved = await managedSaveDomain(dom);
    assert.equal(saved.after, "shutoff");
    timings.managedSave = performance.now() - t0;
    await expectEvent(events, "stopped by save", lifecycle("stopped", "saved"));
    t0 = performance.now();
    const restored = await startDomain(dom);
    assert.equal(restored.after, "running");
    timings.restore = performance.now() - t0;
    await expectEvent(events, "started from the save", lifecycle("started", "restored"));

    // snapshot of the running guest on its qcow2 overlay, then revert after pulling the plug
    const before = await waitForAddress(dom, { timeoutMs: 60_000, minConfidence: 0.75 });
    t0 = performance.now();
    using snap = await createSnapshot(dom, { name: "clean", description: "booted, with an address" });
    timings.snapshot = performance.now() - t0;
    assert.equal(snap.name, "clean");
    await shutdownDomain(dom, { mode: "acpi", timeoutMs: 1, fallback: "destroy" });
    t0 = performance.now();
    const reverted = await revertToSnapshot(snap);
    timings.revert = performance.now() - t0;
    assert.deepEqual([reverted.before, reverted.after], ["shutoff", "running"]);
    await expectEvent(
      events,
      "started from the snapshot",
      (e) => e.kind === "lifecycle" && e.detail === "from-snapshot",
    );
    const again = await waitForAddress(dom, { timeoutMs: 60_000, minConfidence: 0.75 });
    assert.equal(
      again.address.address,
      before.address.address,
      "the reverted guest holds the address it had",
    );
    assert.equal(again.address.mac, mac);
    console.log(
      "lifecycle timings (ms): " + Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", "),
    );
  } finally {
    await destroyGuests(l.uri, [name]);
    await undefineDomain(dom, { managedSave: true, snapshotsMetadata: true }).catch(() => {});
    dom.free();
    await overlay.delete().catch(() => {});
    await base.delete().catch(() => {});
  }
});
