// Streams and libvirt-qemu on the lab's real libvirtd (qemu:///system in netns dlvlab):
// - a sparse volume round trip (upload and download, sparse and not) with checksums and holes
//   verified, in a dir pool this test creates and removes;
// - console capture from a lab guest started paused (so no output is missed), while other calls on
//   the same connection go on with a console read pending;
// - a channel opened and written to; guest agent and QEMU monitor commands, the agent's
//   AgentUnresponsiveError before it connected.
// Run: flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//        deno test --allow-all tests/integration/stream_test.ts
import assert from "node:assert/strict";
import {
  AgentUnresponsiveError,
  Connection,
  createDomain,
  createStoragePool,
  createVolume,
  downloadVolume,
  newStream,
  OperationInvalidError,
  qemuAgentCommand,
  qemuMonitorCommand,
  qemuMonitorEvents,
  resumeDomain,
  shutdownDomain,
  type StoragePool,
  type StorageVolume,
  type TransferProgress,
  uploadVolume,
} from "../../mod.ts";
import { destroyGuests, guestName, guestXml, lab, randomMac, requireLabNamespace, waitFor } from "./_lab.ts";

const MiB = 1 << 20;

async function sha256(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? await Deno.readFile(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function random(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += 65_536) crypto.getRandomValues(bytes.subarray(at, at + 65_536));
  return bytes;
}

/** A 64 MiB sparse file: data at 0 (1 MiB), 20 MiB (3 MiB) and the last 512 KiB; holes elsewhere. */
async function sparseFile(path: string): Promise<{ size: number; data: number }> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const size = 64 * MiB;
  await file.truncate(size);
  for (const [offset, length] of [[0, MiB], [20 * MiB, 3 * MiB], [size - 512 * 1024, 512 * 1024]]) {
    await file.seek(offset, Deno.SeekMode.Start);
    const bytes = random(length);
    for (let at = 0; at < length;) at += await file.write(bytes.subarray(at));
  }
  return { size, data: 4.5 * MiB };
}

/** A transient dir pool of our own, in a fresh directory; removed with the directory afterwards. */
async function withPool(conn: Connection, run: (pool: StoragePool, dir: string) => Promise<void>) {
  const name = `itest-streams-${crypto.randomUUID().slice(0, 6)}`;
  const dir = `/var/lib/deno_libvirt_lab/${name}`;
  await Deno.mkdir(dir);
  try {
    using pool = await createStoragePool(
      conn,
      `<pool type='dir'><name>${name}</name><target><path>${dir}</path></target></pool>`,
    );
    try {
      await run(pool, dir);
    } finally {
      await pool.destroy(); // transient: gone with the destroy; its files stay until removed below
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The sparse source file of the round trips, and what it holds. */
interface Source {
  path: string;
  size: number;
  data: number;
  sum: string;
}

const volumeXml = (name: string, size: number, sparse: boolean) =>
  `<volume><name>${name}</name><capacity unit='bytes'>${size}</capacity>${
    sparse ? "<allocation>0</allocation>" : ""
  }<target><format type='raw'/></target></volume>`;

/** Sparse upload from a file path (holes found with SEEK_HOLE travel as holes) and sparse download into a
 * file (holes stay unallocated, the content is the same). */
async function sparseFileRoundTrip(
  pool: StoragePool,
  vol: StorageVolume,
  src: Source,
  dir: string,
  work: string,
): Promise<void> {
  const { size, data } = src;
  const seen: TransferProgress[] = [];
  const up = await uploadVolume(vol, src.path, { sparse: true, onProgress: (p) => seen.push(p) });
  assert.equal(up.dataBytes, data);
  assert.equal(up.holeBytes, size - data);
  assert.equal(seen.at(-1)?.dataBytes, data);
  assert.equal(seen.at(-1)?.totalBytes, size);
  await pool.refresh();
  const info = await vol.info();
  assert.equal(info.capacityBytes, size);
  assert.ok(
    info.allocationBytes < 2 * data,
    `the volume stayed sparse: ${info.allocationBytes} bytes allocated`,
  );
  const onHost = await Deno.stat(`${dir}/sparse.img`);
  assert.ok(onHost.blocks! * 512 < 2 * data);

  const copy = `${work}/copy.img`;
  const down = await downloadVolume(vol, copy, { sparse: true });
  assert.equal(down.totalBytes, size);
  assert.ok(down.holeBytes > 0, "holes arrived as holes");
  assert.equal(down.dataBytes + down.holeBytes, size);
  const stat = await Deno.stat(copy);
  assert.equal(stat.size, size);
  assert.ok(stat.blocks! * 512 < 2 * data, `the copy is sparse: ${stat.blocks! * 512} bytes allocated`);
  assert.equal(await sha256(copy), src.sum);
}

/** Not sparse, through web streams both ways: zeros travel as data, the content is the same. */
async function webStreamRoundTrip(dense: StorageVolume, bytes: Uint8Array, src: Source): Promise<void> {
  const plain = await uploadVolume(
    dense,
    ReadableStream.from([bytes.subarray(0, 5 * MiB), bytes.subarray(5 * MiB)]),
  );
  assert.deepEqual([plain.dataBytes, plain.holeBytes], [src.size, 0]);
  const chunks: Uint8Array[] = [];
  const back = await downloadVolume(dense, new WritableStream({ write: (c) => void chunks.push(c) }));
  assert.deepEqual([back.dataBytes, back.holeBytes], [src.size, 0]);
  assert.equal(
    await sha256(new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer())),
    src.sum,
  );
}

/** By hand: vol.upload + pipeTo(stream.writable) (close finishes), vol.download + stream.readable. */
async function byHandRoundTrip(conn: Connection, dense: StorageVolume, bytes: Uint8Array): Promise<void> {
  {
    await using stream = newStream(conn);
    await dense.upload(stream, 0, bytes.length);
    await ReadableStream.from([bytes.subarray(0, 3 * MiB), bytes.subarray(3 * MiB)]).pipeTo(
      stream.writable,
    );
    assert.equal(stream.state, "finished");
  }
  {
    await using stream = newStream(conn);
    await dense.download(stream, MiB, 2 * MiB);
    const part = new Uint8Array(await new Response(stream.readable).arrayBuffer());
    assert.deepEqual(part, bytes.subarray(MiB, 3 * MiB));
    assert.equal(stream.state, "finished");
  }
}

Deno.test("lab streams: sparse volume upload/download round trip keeps data and holes", async () => {
  await requireLabNamespace();
  await using conn = await Connection.open(lab().uri);
  const work = await Deno.makeTempDir({ prefix: "dlv_streams_" });
  try {
    const path = `${work}/source.img`;
    const { size, data } = await sparseFile(path);
    const src: Source = { path, size, data, sum: await sha256(path) };
    await withPool(conn, async (pool, dir) => {
      using vol = await createVolume(pool, volumeXml("sparse.img", size, true));
      await sparseFileRoundTrip(pool, vol, src, dir, work);

      const bytes = await Deno.readFile(path);
      using dense = await createVolume(pool, volumeXml("dense.img", size, false));
      await webStreamRoundTrip(dense, bytes, src);
      await byHandRoundTrip(conn, dense, bytes);

      // a sparse upload of bytes: zero blocks become holes
      using fromBytes = await createVolume(pool, volumeXml("bytes.img", size, true));
      const zeroed = await uploadVolume(fromBytes, bytes, { sparse: true });
      assert.equal(zeroed.dataBytes, data);
      assert.equal(await sha256(`${dir}/bytes.img`), src.sum);

      // an abort mid-transfer aborts the stream and rejects with the signal's reason
      const controller = new AbortController();
      await assert.rejects(
        () =>
          uploadVolume(dense, bytes, {
            signal: controller.signal,
            onProgress: (p) => p.dataBytes > 2 * MiB && controller.abort(new Error("enough")),
          }),
        /enough/,
      );
      for (const v of [vol, dense, fromBytes]) await v.delete();
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

/** The lab guest's XML with its serial console on a PTY (logged to the usual file) and a spare unix channel (QEMU opens only unix-socket channels). */
async function consoleGuestXml(name: string): Promise<string> {
  const xml = await guestXml(name, randomMac(), lab().networks.nat.name, { agent: true });
  const log = `${lab().logs}/${name}.console`;
  const replaced = xml.replace(
    /<serial type='file'>[\s\S]*?<\/serial>/,
    `<serial type='pty'><log file='${log}' append='off'/><target port='0'/></serial>\n` +
      `    <channel type='unix'><target type='virtio' name='org.denolibvirt.test.0'/></channel>`,
  );
  assert.notEqual(replaced, xml, "guest_xml.sh's serial device changed: update this test");
  return replaced;
}

/** Reads the console until `pattern` shows up; returns everything read so far. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  pattern: RegExp,
  seen: { text: string },
): Promise<string> {
  const decoder = new TextDecoder();
  while (!pattern.test(seen.text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the console ended before ${pattern}; it printed:\n${seen.text}`);
    seen.text += decoder.decode(value, { stream: true });
  }
  return seen.text;
}

Deno.test("lab streams: console capture, a channel, agent and monitor commands, calls beside a pending read", async () => {
  await requireLabNamespace();
  const name = guestName("console");
  await using conn = await Connection.open(lab().uri);
  try {
    // paused: the console is connected before the guest prints its first line
    using dom = await createDomain(conn, await consoleGuestXml(name), { paused: true });
    // paused, the agent cannot be asked at all
    await assert.rejects(
      () => qemuAgentCommand(dom, { execute: "guest-ping" }),
      (e: unknown) => e instanceof OperationInvalidError && /domain is not running/.test(e.message),
    );

    await using console = await dom.openConsole();
    assert.equal(console.label, `console of domain "${name}"`);
    await using monitor = await qemuMonitorEvents(conn, { domain: dom, event: "RESUME" });
    await resumeDomain(dom);
    // just resumed, the guest has not even started its kernel: its agent is not connected yet
    await assert.rejects(
      () => qemuAgentCommand(dom, { execute: "guest-ping" }),
      (e: unknown) =>
        e instanceof AgentUnresponsiveError &&
        /^Cannot run agent command "guest-ping" in domain/.test(e.message),
    );
    const resumed = await monitor.next();
    assert.equal(resumed.done, false);
    assert.equal(resumed.value.event, "RESUME");
    assert.equal(resumed.value.domain.name, name);
    await monitor.close();
    const reader = console.readable.getReader();
    const seen = { text: "" };
    await waitFor("the guest's console to report ready", async () => {
      await readUntil(reader, new RegExp(`LAB: ready host=${name}`), seen);
      return true;
    }, 180_000);
    assert.match(seen.text, /LAB: modules loaded/);

    // reads are pending on the console and on a channel nothing in the guest ever writes to (so that
    // read cannot settle by itself): the connection still serves calls, each alone, meanwhile
    const pending = reader.read();
    pending.catch(() => {}); // awaited below; a failure meanwhile must not surface as an unhandled rejection
    await using channel = await dom.openChannel("org.denolibvirt.test.0");
    assert.equal(channel.label, `channel "org.denolibvirt.test.0" of domain "${name}"`);
    const channelReader = channel.readable.getReader();
    let channelSettled = false;
    const channelRead = channelReader.read().finally(() => channelSettled = true);
    for (let i = 0; i < 20; i++) {
      assert.equal((await dom.state()).state, "running");
      await conn.hostname();
    }
    const agent = await waitFor("the guest agent to answer guest-ping", async () => {
      try {
        return await qemuAgentCommand<Record<string, never>>(dom, { execute: "guest-ping" }, {
          timeoutSeconds: 5,
        });
      } catch (error) {
        if (error instanceof AgentUnresponsiveError) return undefined;
        throw error;
      }
    }, 60_000);
    assert.deepEqual(agent, {});
    const info = await qemuAgentCommand<{ version: string; supported_commands: { name: string }[] }>(dom, {
      execute: "guest-info",
    });
    assert.match(info.version, /^\d+\.\d+/);
    assert.ok(info.supported_commands.some((c) => c.name === "guest-ping"));
    const status = await qemuMonitorCommand<{ status: string; running: boolean }>(dom, {
      execute: "query-status",
    });
    assert.deepEqual([status.status, status.running], ["running", true]);
    assert.match(await qemuMonitorCommand<string>(dom, "info status", { hmp: true }), /VM status: running/);
    assert.equal(channelSettled, false);

    // the channel also takes writes while its read is pending; cancelling the read aborts it
    const writer = channel.writable.getWriter();
    await writer.write(new TextEncoder().encode("hello from the host\n"));
    await channelReader.cancel();
    assert.deepEqual(await channelRead, { done: true, value: undefined });
    assert.equal(channel.state, "aborted");
    await writer.abort().catch(() => {});

    // the power button: the guest prints it on the console (the pending read may have got output already)
    const shutdown = shutdownDomain(dom, { mode: "acpi", timeoutMs: 120_000 });
    const first = await pending;
    assert.ok(!first.done);
    seen.text += new TextDecoder().decode(first.value);
    await readUntil(reader, /LAB: (acpi power button|shutting down)/, seen);
    await shutdown;
    // the guest is gone: the console ends (EOF finishes the stream) or fails, it never hangs
    for (;;) {
      const next = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (next.done) break;
    }
  } finally {
    await destroyGuests(lab().uri, [name]);
  }
});
