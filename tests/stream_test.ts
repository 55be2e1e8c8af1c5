// Streams and libvirt-qemu on the in-process test driver: what it supports (screenshots, served
// by an fd stream through the event loop), and the clear errors for what it does not (consoles,
// channels, volume transfers, stream events on unattached streams, guest agent and monitor).
import assert from "node:assert/strict";
import {
  Connection,
  createVolume,
  downloadVolume,
  ErrorCode,
  isLibvirtError,
  lookupDomain,
  lookupStoragePool,
  newStream,
  NotFoundError,
  NotSupportedError,
  qemuAgentCommand,
  qemuMonitorCommand,
  qemuMonitorEvents,
  sendAll,
  type Stream,
  StreamEventType,
  StreamStatus,
  uploadVolume,
} from "../mod.ts";
import { fileSegments } from "../lib/ffi/sparse.ts";
import { denoChildArgs, runDeno } from "./_helpers.ts";

const SCREENSHOT = "/usr/share/libvirt/test-screenshot.png";

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(readable).arrayBuffer());
}

Deno.test("newStream: a local stream, disposed, leaves no reference behind", async () => {
  const conn = await Connection.open("test:///default");
  {
    await using stream = newStream(conn);
    assert.equal(stream.state, "open");
    assert.equal(stream.nonblocking, true);
    assert.equal(Deno.inspect(stream), 'Stream { "stream", open, nonblocking }');
    const blocking = newStream(conn, { nonblocking: false, label: "mine" });
    assert.equal(blocking.nonblocking, false);
    blocking.free();
    blocking.free(); // idempotent
    assert.equal(Deno.inspect(blocking), 'Stream { "mine", freed }');
    await assert.rejects(() => blocking.recv(new Uint8Array(1)), /Cannot receive from freed Stream \(mine\)/);
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("Domain.screenshot: the test driver's PNG arrives whole through stream.readable", async () => {
  const expected = await Deno.readFile(SCREENSHOT);
  const conn = await Connection.open("test:///default");
  {
    using dom = await lookupDomain(conn, "test");
    for (const nonblocking of [true, false]) {
      await using stream = newStream(conn, { nonblocking });
      assert.equal(await dom.screenshot(stream), "image/png");
      assert.equal(stream.label, 'screenshot of domain "test"');
      assert.deepEqual(await readAll(stream.readable), expected);
      assert.equal(stream.state, "finished"); // EOF finishes the stream
    }
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("Stream.recv by hand: bytes, WOULD_BLOCK answered by waitReady, then EOF (0)", async () => {
  const expected = await Deno.readFile(SCREENSHOT);
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  await using stream = newStream(conn);
  await dom.screenshot(stream);
  const parts: Uint8Array<ArrayBuffer>[] = [];
  const buffer = new Uint8Array(4096);
  for (;;) {
    const n = await stream.recv(buffer);
    if (n === StreamStatus.EOF) break;
    if (n === StreamStatus.WOULD_BLOCK) {
      await stream.waitReady(StreamEventType.READABLE);
      continue;
    }
    assert.ok(n > 0 && n <= buffer.length);
    parts.push(buffer.slice(0, n));
  }
  await stream.finish();
  assert.deepEqual(new Uint8Array(await new Blob(parts).arrayBuffer()), expected);
  // the callback the waits registered comes off with the dispose; a second removal is a no-op
  await stream.eventRemoveCallback();
});

Deno.test("Stream: other calls on the connection proceed between a stream's reads, with their own errors", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  await using stream = newStream(conn);
  await dom.screenshot(stream);
  const reader = stream.readable.getReader();
  const first = await reader.read();
  assert.ok(!first.done && first.value.length > 0);
  // mid-stream, a failing call gets exactly its own error, and a good one its answer
  await assert.rejects(() => lookupDomain(conn, "no-such-domain"), NotFoundError);
  assert.equal((await dom.info()).state, "running");
  let total = first.value.length;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
  }
  assert.equal(total, (await Deno.stat(SCREENSHOT)).size);
});

Deno.test("Stream.readable cancel aborts the transfer", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  await using stream = newStream(conn);
  await dom.screenshot(stream);
  const reader = stream.readable.getReader();
  await reader.read();
  await reader.cancel();
  assert.equal(stream.state, "aborted");
  await assert.rejects(
    () => sendAll(stream, new Uint8Array(1)),
    /Cannot write to screenshot of domain "test": the stream is aborted/,
  );
});

Deno.test("Domain.openConsole/openChannel: NotSupportedError on the test driver, the stream freed", async () => {
  const conn = await Connection.open("test:///default");
  {
    using dom = await lookupDomain(conn, "test");
    await assert.rejects(() => dom.openConsole(), (e: unknown) => {
      assert.ok(e instanceof NotSupportedError);
      assert.equal(e.code, ErrorCode.NO_SUPPORT);
      assert.match(e.message, /^Cannot open the console of domain "test": .*virDomainOpenConsole/);
      return true;
    });
    await assert.rejects(
      () => dom.openConsole("serial0", { force: true }),
      /^NotSupportedError: Cannot open the console "serial0" of domain "test"/,
    );
    await assert.rejects(() => dom.openChannel("org.qemu.guest_agent.0"), (e: unknown) => {
      assert.ok(e instanceof NotSupportedError);
      assert.match(
        e.message,
        /^Cannot open channel "org.qemu.guest_agent.0" of domain "test": .*virDomainOpenChannel/,
      );
      return true;
    });
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("StorageVolume.upload/download and uploadVolume/downloadVolume: NotSupportedError on the test driver", async () => {
  const conn = await Connection.open("test:///default");
  const name = `dlv-stream-${crypto.randomUUID().slice(0, 8)}.img`;
  const sink = await Deno.makeTempFile();
  try {
    using pool = await lookupStoragePool(conn, "default-pool");
    using vol = await createVolume(
      pool,
      `<volume><name>${name}</name><capacity unit='MiB'>1</capacity></volume>`,
    );
    try {
      {
        await using stream = newStream(conn);
        await assert.rejects(
          () => vol.upload(stream, 0, 10),
          (e: unknown) =>
            e instanceof NotSupportedError &&
            e.message.startsWith(`Cannot start an upload to storage volume "${name}": `),
        );
        await assert.rejects(() => vol.download(stream, 0, 0, { sparse: true }), NotSupportedError);
        await assert.rejects(() => vol.upload(stream, -1), /Invalid offset -1: pass a non-negative integer/);
      }
      await assert.rejects(() => uploadVolume(vol, new Uint8Array(10)), NotSupportedError);
      await assert.rejects(() => downloadVolume(vol, sink, { sparse: true }), NotSupportedError);
      await assert.rejects(
        () => uploadVolume(vol, 42 as unknown as Uint8Array),
        /Cannot upload: source must be a file path, a Uint8Array or a ReadableStream/,
      );
      const aborted = new AbortController();
      aborted.abort(new Error("stop"));
      await assert.rejects(() => uploadVolume(vol, new Uint8Array(1), { signal: aborted.signal }), /stop/);
    } finally {
      await vol.delete();
    }
  } finally {
    await Deno.remove(sink);
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("Stream calls on a stream attached to nothing: the driver's clear NotSupportedError", async () => {
  await using conn = await Connection.open("test:///default");
  await using stream = newStream(conn);
  await assert.rejects(
    () => stream.eventAddCallback(StreamEventType.READABLE, () => {}),
    (e: unknown) =>
      isLibvirtError(e, ErrorCode.NO_SUPPORT) &&
      /^Cannot watch stream: .*virStreamEventAddCallback/.test(e.message),
  );
  await assert.rejects(() => stream.recv(new Uint8Array(8)), /Cannot receive from stream: .*virStreamRecv/);
  await assert.rejects(() => stream.send(new Uint8Array(8)), NotSupportedError);
  await assert.rejects(() => stream.recvHole(), NotSupportedError);
  await assert.rejects(() => stream.sendHole(-1), RangeError);
});

Deno.test("connection close frees an open stream (aborting it)", async () => {
  const conn = await Connection.open("test:///default");
  const stream = newStream(conn);
  {
    using dom = await lookupDomain(conn, "test");
    await dom.screenshot(stream);
    await stream.readable.getReader().read(); // the stream now has an event callback in the worker
  }
  const report = await conn.close();
  assert.equal(report.freedHandles, 1);
  assert.equal(stream.freed, true);
  assert.equal(stream.state, "aborted");
});

Deno.test("qemuAgentCommand/qemuMonitorCommand: NotSupportedError on the test driver; bad input named", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  await assert.rejects(() => qemuAgentCommand(dom, { execute: "guest-ping" }), (e: unknown) => {
    assert.ok(e instanceof NotSupportedError);
    assert.match(
      e.message,
      /^Cannot run agent command "guest-ping" in domain "test": .*virDomainQemuAgentCommand/,
    );
    return true;
  });
  await assert.rejects(() => qemuMonitorCommand(dom, "info status", { hmp: true }), NotSupportedError);
  await assert.rejects(
    () => qemuAgentCommand(dom, { execute: "guest-ping" }, { timeoutSeconds: 0.5 }),
    /Invalid timeoutSeconds 0.5: pass a whole number of seconds >= 1, or "block" or "default"/,
  );
  // timeoutMs, the library's name for every timeout: checked before libvirt is asked, and not with
  // its deprecated twin (which of the two would win is nobody's guess)
  for (const bad of [0, -5, Number.NaN, Infinity]) {
    await assert.rejects(
      () => qemuAgentCommand(dom, { execute: "guest-ping" }, { timeoutMs: bad }),
      /Invalid timeoutMs .*: pass a positive number of milliseconds, or "block" or "default"/,
    );
  }
  await assert.rejects(
    () => qemuAgentCommand(dom, { execute: "guest-ping" }, { timeoutMs: 1000, timeoutSeconds: 1 }),
    /Cannot take both timeoutMs and timeoutSeconds: pass timeoutMs alone/,
  );
  // a valid timeoutMs reaches libvirt (which refuses the test driver's agent call as unsupported)
  await assert.rejects(
    () => qemuAgentCommand(dom, { execute: "guest-ping" }, { timeoutMs: 1500 }),
    (error: Error) => !/Invalid timeout/.test(error.message),
  );
  await assert.rejects(
    () => qemuAgentCommand(dom, {} as { execute: string }),
    /Cannot run qemuAgentCommand: the request needs a non-empty "execute" string/,
  );
});

Deno.test("libvirt-qemu.so.0 is loaded only on the first qemu call", async () => {
  const script = `
    import { Connection, lookupDomain, qemuAgentCommand } from ${
    JSON.stringify(new URL("../mod.ts", import.meta.url).href)
  };
    const loaded = () => Deno.readTextFileSync("/proc/self/maps").includes("libvirt-qemu.so");
    await using conn = await Connection.open("test:///default");
    using dom = await lookupDomain(conn, "test");
    const before = loaded();
    await qemuAgentCommand(dom, { execute: "guest-ping" }).catch(() => {});
    console.log(JSON.stringify({ before, after: loaded() }));`;
  const out = await runDeno(denoChildArgs("eval", "--ext=ts", script));
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout.trim()), { before: false, after: true });
});

Deno.test("fileSegments: the data and hole runs of a sparse file", async () => {
  const path = await Deno.makeTempFile();
  try {
    const MiB = 1 << 20;
    using file = await Deno.open(path, { write: true });
    await file.truncate(8 * MiB);
    await file.seek(2 * MiB, Deno.SeekMode.Start);
    await file.write(new Uint8Array(MiB).fill(7));
    file.close();
    const { size, segments } = fileSegments(path);
    assert.equal(size, 8 * MiB);
    assert.deepEqual(segments, [
      { kind: "hole", offset: 0, length: 2 * MiB },
      { kind: "data", offset: 2 * MiB, length: MiB },
      { kind: "hole", offset: 3 * MiB, length: 5 * MiB },
    ]);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("qemuMonitorEvents: the test driver's NotSupportedError, read by the worker from the connection", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  await assert.rejects(() => qemuMonitorEvents(conn, { domain: dom, event: "STOP" }), (e: unknown) => {
    assert.ok(e instanceof NotSupportedError);
    assert.match(
      e.message,
      /^Cannot subscribe to QEMU monitor events "STOP" on "test:\/\/\/default": .*not supported/,
    );
    return true;
  });
  await assert.rejects(() => qemuMonitorEvents(conn, { bufferSize: 0 }), /Invalid bufferSize 0/);
  // the connection is fine afterwards
  assert.equal((await dom.info()).state, "running");
});

Deno.test("newStream works while another stream's call is in flight on the connection", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  await using stream = newStream(conn);
  await dom.screenshot(stream);
  const inFlight = stream.recv(new Uint8Array(16));
  assert.equal(conn.busy, true);
  await using other = newStream(conn); // virStreamNew is local: it does not queue behind the recv
  assert.equal(other.state, "open");
  const n = await inFlight;
  assert.ok(n > 0 || n === StreamStatus.WOULD_BLOCK);
});

Deno.test("sendAll(stream, data): the loop is a function; the deprecated method delegates to it; a signal stops it", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  await using stream = newStream(conn);
  await dom.screenshot(stream);
  await stream.abort();
  // the @deprecated method and the function say the same
  for (const send of [() => stream.sendAll(new Uint8Array(1)), () => sendAll(stream, new Uint8Array(1))]) {
    await assert.rejects(send, /Cannot write to screenshot of domain "test": the stream is aborted/);
  }
  // a stream that would block for ever: the abort ends the readiness wait, no send after it
  const reason = new Error("stop sending");
  const controller = new AbortController();
  let sends = 0;
  const blocked = {
    state: "open",
    freed: false,
    label: "a blocked stream",
    send: () => (sends++, Promise.resolve(StreamStatus.WOULD_BLOCK)),
    waitReady: (events: number, options: { signal?: AbortSignal } = {}) => {
      assert.equal(events, StreamEventType.WRITABLE);
      return new Promise<void>((_, reject) =>
        options.signal?.addEventListener("abort", () => reject(options.signal!.reason))
      );
    },
  } as unknown as Stream;
  const pending = sendAll(blocked, new Uint8Array(10), { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 10));
  controller.abort(reason);
  await assert.rejects(pending, (e) => e === reason);
  assert.equal(sends, 1);
  await assert.rejects(
    sendAll(blocked, new Uint8Array(1), { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  assert.equal(sends, 1, "an aborted signal sends nothing");
});
