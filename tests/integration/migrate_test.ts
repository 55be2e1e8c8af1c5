// Live migration between the lab's two hosts (qemu:///system in netns dlvlab -> the second libvirtd at
// qemu+tcp://10.77.9.2/system): a TCG guest with direct kernel boot (no disk to share) moves peer to
// peer with job progress; an aborted migration and one to a host that refuses leave it running where
// it was. Migration data goes to tcp://10.77.9.2 (the lab's veth), never elsewhere.
import assert from "node:assert/strict";
import {
  Connection,
  createDomain,
  createNetwork,
  isNotFound,
  lookupDomain,
  lookupNetwork,
  migrateDomain,
  MigrationError,
  type MigrationProgress,
} from "../../mod.ts";
import { destroyGuests, guestXml, lab, randomMac, requireLabNamespace, waitFor } from "./_lab.ts";

const MIGRATE_URI = "tcp://10.77.9.2";

/** An isolated network of one name on both hosts (a migrating NIC needs its network on both). */
async function bothHostsNetwork(h1: Connection, h2: Connection, name: string): Promise<void> {
  const xml = `<network><name>${name}</name><bridge name='${name.slice(0, 15)}'/></network>`;
  (await createNetwork(h1, xml)).free();
  (await createNetwork(h2, xml)).free();
}

async function dropNetwork(conn: Connection, name: string): Promise<void> {
  try {
    using n = await lookupNetwork(conn, name);
    await n.destroy();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

async function stateOn(conn: Connection, name: string): Promise<string> {
  try {
    using dom = await lookupDomain(conn, name, { fresh: true });
    return (await dom.state()).state;
  } catch (error) {
    if (isNotFound(error)) return "absent";
    throw error;
  }
}

/** Runs `body` with a fresh running guest on host 1 and a network for it on both hosts. */
async function withGuest(
  tag: string,
  body: (h1: Connection, h2: Connection, name: string) => Promise<void>,
  disk?: string,
): Promise<void> {
  await requireLabNamespace();
  const l = lab();
  const suffix = crypto.randomUUID().slice(0, 6);
  const name = `m1mig-${tag}-${suffix}`;
  const net = `m1m-${suffix}`;
  await using h1 = await Connection.open(l.uri);
  await using h2 = await Connection.open(l.secondHost.uri);
  try {
    await bothHostsNetwork(h1, h2, net);
    let xml = await guestXml(name, randomMac(), net, { memoryMiB: 128, agent: false });
    if (disk) {
      xml = xml.replace(
        "<devices>",
        `<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/>` +
          "<target dev='vda' bus='virtio'/></disk>",
      );
    }
    (await createDomain(h1, xml)).free();
    // booted far enough to be dirtying memory
    await waitFor(
      `${name} booting`,
      async () => {
        const text = await Deno.readTextFile(`${l.logs}/${name}.console`).catch(() => "");
        return text.includes("LAB:") ? true : undefined;
      },
      90_000,
      200,
    );
    await body(h1, h2, name);
  } finally {
    await destroyGuests(l.uri, [name]).catch(() => {});
    await destroyGuests(l.secondHost.uri, [name]).catch(() => {});
    await dropNetwork(h1, net);
    await dropNetwork(h2, net);
  }
}

Deno.test("migrateDomain: a running guest moves live, peer to peer, to the second host with job progress", async () => {
  await withGuest("live", async (h1, h2, name) => {
    const seen: MigrationProgress[] = [];
    using dom = await lookupDomain(h1, name);
    const result = await migrateDomain(dom, lab().secondHost.uri, {
      migrateUri: MIGRATE_URI,
      bandwidth: 40, // MiB/s: a 128 MiB guest takes a few seconds, so the job is sampled
      progressIntervalMs: 100,
      onProgress: (p) => seen.push(p),
    });
    console.log(
      `migrated ${name} in ${result.tookMs} ms, ${result.samples} samples, last ${
        JSON.stringify({ ...result.lastProgress, stats: undefined })
      }`,
    );
    assert.equal(result.destination, lab().secondHost.uri);
    assert.ok(seen.length > 0, "job progress sampled");
    assert.equal(result.samples, seen.length);
    assert.ok(seen.every((p) => p.type === "unbounded"), JSON.stringify(seen.map((p) => p.type)));
    assert.ok(seen.at(-1)!.dataProcessed > 0, "bytes moved");
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i].dataProcessed >= seen[i - 1].dataProcessed, "progress does not go back");
    }
    assert.equal(await stateOn(h2, name), "running");
    assert.equal(await stateOn(h1, name), "absent");
  });
});

Deno.test("migrateDomain: an aborted migration rejects with the signal's reason and the guest runs on at the source", async () => {
  await withGuest("abort", async (h1, h2, name) => {
    using dom = await lookupDomain(h1, name);
    const abort = new AbortController();
    const reason = new Error("operator pulled the plug");
    let moving: MigrationProgress | undefined;
    const t0 = performance.now();
    await assert.rejects(
      () =>
        migrateDomain(dom, lab().secondHost.uri, {
          migrateUri: MIGRATE_URI,
          bandwidth: 2, // MiB/s: over a minute for 128 MiB; aborted once bytes are moving
          progressIntervalMs: 100,
          signal: abort.signal,
          onProgress: (p) => {
            if (p.dataProcessed > 0 && !moving) {
              moving = p;
              abort.abort(reason);
            }
          },
        }),
      (error) => error === reason,
    );
    console.log(`aborted after ${moving?.dataProcessed} bytes, ${Math.round(performance.now() - t0)} ms`);
    assert.ok(moving, "aborted mid-transfer");
    assert.ok(moving.dataRemaining > 0, "the job was not done when aborted");
    assert.equal(await stateOn(h1, name), "running");
    assert.equal(await stateOn(h2, name), "absent");
    // the job is gone: the guest can migrate again
    const again = await migrateDomain(dom, lab().secondHost.uri, { migrateUri: MIGRATE_URI });
    assert.ok(again.tookMs > 0);
    assert.equal(await stateOn(h2, name), "running");
  });
});

Deno.test("migrateDomain: a destination that refuses leaves the guest running where it was", async () => {
  await withGuest("refused", async (h1, h2, name) => {
    using dom = await lookupDomain(h1, name);
    // nothing listens on port 1 of the second host: the source libvirtd's connection is refused
    const error = await migrateDomain(dom, "qemu+tcp://10.77.9.2:1/system", { migrateUri: MIGRATE_URI })
      .then(() => undefined, (e) => e);
    assert.ok(error instanceof MigrationError, String(error));
    assert.equal(error.sourceState, "running");
    assert.equal(error.aborted, false);
    assert.match(
      error.message,
      /Cannot migrate domain "m1mig-refused-.*" to "qemu\+tcp:\/\/10\.77\.9\.2:1\/system"/,
    );
    assert.equal(await stateOn(h1, name), "running");
    assert.equal(await stateOn(h2, name), "absent");
  });
});

Deno.test("migrateDomain: a disk the destination cannot see fails the migration; the guest runs on at the source", async () => {
  // host 2 has its own /var/lib/libvirt (a private mount): a disk there on host 1 is missing on host 2
  const disk = `/var/lib/libvirt/m1mig-disk-${crypto.randomUUID().slice(0, 6)}.qcow2`;
  const made = await new Deno.Command("qemu-img", { args: ["create", "-q", "-f", "qcow2", disk, "16M"] })
    .output();
  assert.ok(made.success, new TextDecoder().decode(made.stderr));
  try {
    await withGuest("nodisk", async (h1, h2, name) => {
      using dom = await lookupDomain(h1, name);
      const error = await migrateDomain(dom, lab().secondHost.uri, { migrateUri: MIGRATE_URI, unsafe: true })
        .then(() => undefined, (e) => e);
      assert.ok(error instanceof MigrationError, String(error));
      assert.match(String((error.cause as Error).message), new RegExp(disk.replaceAll(".", "\\.")));
      assert.equal(error.sourceState, "running");
      assert.equal(await stateOn(h1, name), "running");
      assert.equal(await stateOn(h2, name), "absent");
    }, disk);
  } finally {
    await Deno.remove(disk).catch(() => {});
  }
});

Deno.test("migrateDomain: a destination connection closed during a migration from this process waits for it and leaves no libvirt reference", async () => {
  await withGuest("close", async (h1, h2, name) => {
    using dom = await lookupDomain(h1, name);
    const destination = await Connection.open(lab().secondHost.uri);
    let closing: Promise<unknown> | undefined;
    const result = await migrateDomain(dom, destination, {
      peerToPeer: false,
      migrateUri: MIGRATE_URI,
      bandwidth: 20, // MiB/s: a few seconds, so the close lands while the migration holds the destination
      progressIntervalMs: 100,
      onProgress: (p) => {
        if (p.dataProcessed > 0) closing ??= destination.close();
      },
    });
    assert.ok(closing, "closed mid-transfer");
    assert.ok(result.samples > 0);
    assert.deepEqual(await closing, { remainingReferences: 0, freedHandles: 0 });
    assert.equal(await stateOn(h2, name), "running");
  });
});
