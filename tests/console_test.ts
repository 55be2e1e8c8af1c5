// Console capture and attach without a real console: the log's bounds and rotation, the tail, waiting
// on output, closing, attach's escape/linger/until, and what the test driver (which has no console
// streams) answers: a NotSupportedError for captureConsole, a skip with its reason in range up and
// in range.ts console. The real consoles are tests/integration/console_test.ts.
import assert from "node:assert/strict";
import {
  attachConsole,
  captureConsole,
  captureStream,
  cleanConsoleText,
  Connection,
  isConsoleBusy,
  lookupDomain,
  NotSupportedError,
  waitForAddress,
} from "../mod.ts";
import { checkConsoleLogOptions } from "../lib/console/limits.ts";
import { validateRange } from "../lib/range/description.ts";
import { RangeConsoles } from "../lib/range/consoles.ts";
import { downRange } from "../lib/range/down.ts";
import { upRange } from "../lib/range/up.ts";
import { PoolRegistry } from "../lib/pool.ts";
import { denoChildArgs, runDeno } from "./_helpers.ts";

const encode = (s: string) => new TextEncoder().encode(s);
const ls = async (dir: string) => (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);

/** A console whose output the test pushes; `cancelled` resolves when the capture cancels it. */
function pushed() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled!: () => void;
  const wasCancelled = new Promise<void>((r) => cancelled = r);
  const readable = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    cancel: () => cancelled(),
  });
  return {
    readable,
    writable: new WritableStream<Uint8Array>(),
    controller,
    wasCancelled,
    label: "fake console",
  };
}

Deno.test("captureStream: appends to the log with start and end lines, keeps a cleaned tail", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dlv_console_" });
  try {
    const path = `${dir}/sub/guest.log`;
    await Deno.writeTextFile(`${dir}/keep`, "");
    const source = pushed();
    const capture = await captureStream(source, { path, note: "from boot" });
    assert.equal(capture.state, "capturing");
    source.controller.enqueue(encode("\x1b[1mLAB: modules loaded\x1b[0m\r\n"));
    source.controller.enqueue(encode("LAB: ready host=x\r\n"));
    source.controller.close();
    const reason = await capture.ended;
    assert.match(reason, /the console ended/);
    assert.equal(capture.state, "ended");
    assert.equal(capture.endReason, reason);
    assert.equal(capture.tail(), "LAB: modules loaded\nLAB: ready host=x");
    assert.equal(capture.tail({ lines: 1 }), "LAB: ready host=x");
    const text = await Deno.readTextFile(path);
    assert.match(text, /^\n\[capture of the fake console started \d{4}-\d\d-\d\dT[^\]]*: from boot\]\n/);
    assert.ok(
      text.includes("\x1b[1mLAB: modules loaded\x1b[0m\r\nLAB: ready host=x\r\n"),
      "raw bytes in the log",
    );
    assert.match(text, /\[capture ended [^:]+:\d\d:\d\d\.\d+Z: the console ended/);
    assert.equal(capture.bytes, encode("\x1b[1mLAB: modules loaded\x1b[0m\r\nLAB: ready host=x\r\n").length);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/sub`)).mode! & 0o777, 0o700);

    // a second capture appends
    const again = await captureStream({
      readable: ReadableStream.from([encode("second\n")]),
      writable: new WritableStream(),
    }, {
      path,
    });
    await again.ended;
    const both = await Deno.readTextFile(path);
    assert.ok(both.startsWith(text) && both.includes("second\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("captureStream: the log never grows past maxBytes; rotations keeps that many older files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dlv_console_" });
  try {
    const path = `${dir}/g.log`;
    const lines = Array.from(
      { length: 600 },
      (_, i) => encode(`line ${String(i).padStart(4, "0")} ${"x".repeat(40)}\n`),
    );
    const total = lines.reduce((n, l) => n + l.length, 0);
    const capture = await captureStream({
      readable: ReadableStream.from(lines),
      writable: new WritableStream(),
    }, {
      path,
      maxBytes: 4096,
      rotations: 2,
      tailBytes: 1024,
    });
    await capture.ended;
    assert.equal(capture.bytes, total);
    const names = (await ls(dir)).sort();
    assert.deepEqual(names, ["g.log", "g.log.1", "g.log.2"]);
    for (const n of names) assert.ok((await Deno.stat(`${dir}/${n}`)).size <= 4096, `${n} within the bound`);
    // the files in age order are one contiguous piece of what was written, ending with the newest
    const joined = (await Promise.all(["g.log.2", "g.log.1", "g.log"].map((n) =>
      Deno.readTextFile(`${dir}/${n}`)
    ))).join("");
    assert.equal((await Deno.stat(`${dir}/g.log.1`)).size, 4096);
    assert.equal((await Deno.stat(`${dir}/g.log.2`)).size, 4096);
    assert.ok(joined.includes("line 0599"));
    assert.match(joined, /\[capture ended [^\]]+\]\n$/);
    const all = lines.map((l) =>
      new TextDecoder().decode(l)
    ).join("");
    const body = joined.slice(0, joined.lastIndexOf("\n[capture ended"));
    assert.ok(all.endsWith(body), "no byte lost or reordered inside the kept window");
    // the tail holds at most tailBytes
    assert.ok(encode(capture.tail({ lines: 1000 })).length <= 1024);
    assert.equal(capture.tail({ lines: 1 }), `line 0599 ${"x".repeat(40)}`);

    // rotations: 0 keeps only the current file
    const single = `${dir}/one.log`;
    const c2 = await captureStream({ readable: ReadableStream.from(lines), writable: new WritableStream() }, {
      path: single,
      maxBytes: 4096,
      rotations: 0,
    });
    await c2.ended;
    assert.deepEqual((await ls(dir)).filter((n) => n.startsWith("one")), [
      "one.log",
    ]);
    assert.ok((await Deno.stat(single)).size <= 4096);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ConsoleCapture.waitFor: output already seen, output arriving later, the end first, a timeout, an abort", async () => {
  const source = pushed();
  const capture = await captureStream(source);
  source.controller.enqueue(encode("booting\r\n"));
  const later = capture.waitFor(/LAB: dhcp bound ifc=(\S+) ip=(\S+)/);
  const literal = capture.waitFor("a.b");
  source.controller.enqueue(encode("LAB: dhcp bound ifc=eth0 ip=10.0.0.5 mac=x\n"));
  const m = await later;
  assert.deepEqual([m[1], m[2]], ["eth0", "10.0.0.5"]);
  assert.match((await capture.waitFor("booting"))[0], /booting/); // already in the tail
  await assert.rejects(() => capture.waitFor("never", { timeoutMs: 1 }), (e: unknown) => {
    assert.equal((e as DOMException).name, "TimeoutError");
    assert.match((e as Error).message, /never[\s\S]*LAB: dhcp bound/);
    return true;
  });
  const controller = new AbortController();
  const aborted = capture.waitFor("never", { signal: controller.signal });
  controller.abort(new Error("stop"));
  await assert.rejects(aborted, /stop/);
  source.controller.enqueue(encode("axb\n")); // "a.b" is literal: no match
  source.controller.close();
  await assert.rejects(
    literal,
    /Cannot wait for \/a\\\.b\/ on the fake console: the capture ended \(the console ended/,
  );
  await assert.rejects(() => capture.waitFor("more"), /the capture ended/);
});

Deno.test("ConsoleCapture.close: cancels the console read, ends with reason closed, idempotent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dlv_console_" });
  try {
    const source = pushed();
    const capture = await captureStream(source, { path: `${dir}/c.log` });
    source.controller.enqueue(encode("hello\n"));
    await capture.waitFor("hello");
    const pending = capture.waitFor("never");
    await capture.close();
    await source.wasCancelled;
    await assert.rejects(pending, /the capture ended \(closed\)/);
    assert.equal(capture.state, "closed");
    assert.equal(await capture.ended, "closed");
    await capture.close();
    assert.match(await Deno.readTextFile(`${dir}/c.log`), /hello\n\n\[capture ended [^\]]+: closed\]\n$/);
    assert.match(Deno.inspect(capture), /^ConsoleCapture \{ "fake console", closed, 6 bytes, ".*c\.log" \}$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkConsoleLogOptions: bad bounds name the option and the allowed range", () => {
  assert.throws(
    () => checkConsoleLogOptions({ maxBytes: 100 }),
    /Invalid maxBytes 100: pass a whole number from 4096/,
  );
  assert.throws(
    () => checkConsoleLogOptions({ rotations: -1 }, "consoles."),
    /Invalid consoles\.rotations -1/,
  );
  assert.throws(() => checkConsoleLogOptions({ tailBytes: 1.5 }), /Invalid tailBytes 1\.5/);
  checkConsoleLogOptions({ maxBytes: 4096, rotations: 0, tailBytes: 256 });
});

Deno.test("cleanConsoleText: escape sequences and controls go, line ends become LF", () => {
  assert.equal(
    cleanConsoleText("\x1b[2J\x1b[H~ # \x1b]0;title\x07ls\r\r\nbin\rx\x00\x07\ty\n"),
    "~ # ls\nbin\nx\ty\n",
  );
});

Deno.test("captureConsole: test:///default has no console streams (NotSupportedError), nothing written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dlv_console_" });
  try {
    await using conn = await Connection.open("test:///default");
    using dom = await lookupDomain(conn, "test");
    await assert.rejects(() => captureConsole(dom, { path: `${dir}/test.log` }), (e: unknown) => {
      assert.ok(e instanceof NotSupportedError);
      assert.match(e.message, /^Cannot open the console of domain "test"/);
      assert.equal(isConsoleBusy(e), false);
      return true;
    });
    assert.deepEqual(await ls(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A fake console that echoes what it is sent, and `ends()` on demand. */
function echoing() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const sent: string[] = [];
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => {
      const text = new TextDecoder().decode(chunk);
      sent.push(text);
      if (text.includes("echo ")) controller.enqueue(encode(`${text.replace("echo ", "")}~ # `));
    },
  });
  return { readable, writable, sent, end: () => controller.close() };
}

function collector() {
  const chunks: string[] = [];
  return {
    chunks,
    writable: new WritableStream<Uint8Array>({ write: (c) => void chunks.push(new TextDecoder().decode(c)) }),
  };
}

Deno.test("attachConsole: the escape byte detaches and is not sent; the console stays usable", async () => {
  const guest = echoing();
  const out = collector();
  const result = await attachConsole(
    guest,
    ReadableStream.from([encode("echo one\n"), encode("ab\x1dnot sent")]),
    out.writable,
  );
  assert.equal(result.reason, "escape");
  assert.deepEqual(guest.sent, ["echo one\n", "ab"]);
  assert.equal(result.sentBytes, 11);
  // attach again on the same console: it was left open
  const again = await attachConsole(guest, ReadableStream.from([encode("echo two\n")]), out.writable, {
    until: /two/,
  });
  assert.equal(again.reason, "until");
  assert.ok(out.chunks.join("").includes("two"));
});

Deno.test("attachConsole: piped input that ends detaches once the console is quiet; --until; the console ending", async () => {
  const guest = echoing();
  const out = collector();
  const ended = await attachConsole(guest, ReadableStream.from([encode("echo hi\n")]), out.writable, {
    lingerMs: 0,
  });
  assert.equal(ended.reason, "input-ended");
  assert.deepEqual(guest.sent, ["echo hi\n"]);

  const matched = await attachConsole(guest, ReadableStream.from([encode("echo C3-42\n")]), out.writable, {
    until: /C3-42/,
    lingerMs: 60_000, // never reached: the match detaches
  });
  assert.equal(matched.reason, "until");

  const noEscape = await attachConsole(guest, ReadableStream.from([encode("\x1d")]), out.writable, {
    escape: null,
    lingerMs: 0,
  });
  assert.equal(noEscape.reason, "input-ended");
  assert.equal(guest.sent.at(-1), "\x1d");

  const input = new ReadableStream<Uint8Array>(); // never ends
  const gone = attachConsole(guest, input, out.writable);
  guest.end();
  assert.equal((await gone).reason, "console-ended");
  assert.equal(out.chunks.join(""), "hi\n~ # C3-42\n~ # ");

  await assert.rejects(
    () => attachConsole(guest, input, out.writable, { escape: 300 }),
    /Invalid escape 300/,
  );
});

Deno.test("waitForAddress: the console option puts its tail in the timeout's explanation", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  await assert.rejects(
    () =>
      waitForAddress(dom, {
        nic: "52:54:00:00:00:99", // no such NIC: nothing can ever qualify
        timeoutMs: 50,
        console: { tail: () => "LAB: modules loaded host=x\nLAB: dhcp no lease" },
      }),
    (e: unknown) => {
      assert.equal((e as Error).name, "TimeoutError");
      assert.match(
        (e as Error).message,
        /no NIC with MAC 52:54:00:00:00:99[\s\S]*\n {2}console, last lines:\n {4}\| LAB: modules loaded host=x\n {4}\| LAB: dhcp no lease$/,
      );
      assert.equal(
        (e as { consoleTail?: string }).consoleTail,
        "LAB: modules loaded host=x\nLAB: dhcp no lease",
      );
      return true;
    },
  );
});

function testRange(name: string) {
  return validateRange({
    name,
    hosts: [{ id: "local", uri: "test:///default" }],
    storage: { pool: "default-pool" },
    guests: [{ id: "pc", memory: 64, count: 2 }],
  });
}

Deno.test("upRange consoles: on the test driver every guest is skipped with the reason, nothing is written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dlv_console_" });
  const range = testRange(`c${crypto.randomUUID().slice(0, 8)}`);
  await using pools = new PoolRegistry();
  try {
    const up = await upRange(range, pools, { consoles: { dir: `${dir}/logs` }, waitForAddresses: false });
    assert.deepEqual(up.consoles.map((c) => [c.name, c.status, c.reason]), [
      [`${range.name}-pc-1`, "skipped", "the test driver has no console streams: nothing to capture"],
      [`${range.name}-pc-2`, "skipped", "the test driver has no console streams: nothing to capture"],
    ]);
    assert.equal(up.consoleCapture, undefined);
    assert.deepEqual(await ls(dir), [], "no log folder for a range with nothing to log");
    const off = await upRange(range, pools, { consoles: false, waitForAddresses: false });
    assert.deepEqual(off.consoles, []);
    // bad bounds: refused before anything is done, naming the option
    await assert.rejects(
      () => upRange(range, pools, { consoles: { maxBytes: 10 } }),
      /Invalid consoles\.maxBytes 10: pass a whole number from 4096/,
    );
    const kept = await upRange(range, pools, { consoles: { keepOpen: true }, waitForAddresses: false });
    await using handle = kept.consoleCapture!;
    assert.ok(handle instanceof RangeConsoles);
    assert.equal(handle.dir, `range-consoles/${range.name}`);
    assert.match(
      handle.tail(`${range.name}-pc-1`),
      /^\(console not captured: the test driver has no console streams/,
    );
  } finally {
    await downRange(range, pools);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RangeConsoles.start: a driver without console streams skips the capture, the guest still starts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dlv_console_" });
  const range = testRange(`c${crypto.randomUUID().slice(0, 8)}`);
  let opened = 0;
  try {
    await using consoles = new RangeConsoles(range, {
      dir,
      open: (uri) => (opened++, Connection.open(uri)),
    });
    await using conn = await Connection.open("test:///default");
    using dom = await lookupDomain(conn, "test"); // runs already: attach, no pause
    const guest = { ...range.guests[0], name: "test", type: "qemu" as const };
    const result = await consoles.start(dom, guest);
    assert.equal(result.changed, false);
    assert.equal(opened, 1);
    assert.deepEqual(consoles.summary(), [{
      name: "test",
      host: "local",
      status: "skipped",
      fromBoot: false,
      bytes: 0,
      reason: "the driver has no console streams",
    }]);
    assert.equal(consoles.get("test"), undefined);
    assert.equal(consoles.logPath("test"), `${dir}/test.log`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.throws(() => new RangeConsoles(range, { dir: "" }), /Invalid consoles\.dir "": pass a folder path/);
});

Deno.test("range.ts: up reports skipped consoles once; console: an unknown guest is a usage error, a test-driver guest cannot be attached", async () => {
  const run = (...args: string[]) =>
    runDeno(denoChildArgs("run", "--allow-ffi", "--allow-read", "--allow-env", "scripts/range.ts", ...args), {
      stdin: "null",
    });
  // up on the test driver: one line for all 24 skipped guests; --no-consoles: none
  const up = await run("up", "examples/range_test_driver.yaml", "--no-wait");
  assert.equal(up.code, 0, up.stderr);
  assert.deepEqual(up.stdout.split("\n").filter((l) => l.startsWith("consoles:")), [
    "consoles: 24 not logged: the test driver has no console streams: nothing to capture",
  ]);
  const off = await run("up", "examples/range_test_driver.yaml", "--no-wait", "--no-consoles");
  assert.equal(off.code, 0, off.stderr);
  assert.doesNotMatch(off.stdout, /consoles:/);
  const unknown = await run("console", "examples/range_test_driver.yaml", "nope");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no guest "nope" in range "demo" \(its guests: demo-web-1, /);
  const test = await run("console", "examples/range_test_driver.yaml", "web-1");
  assert.equal(test.code, 1);
  assert.match(test.stderr, /cannot attach to demo-web-1: the test driver has no console streams/);
  const missing = await run("console", "examples/range_test_driver.yaml");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /name the guest whose console to attach to/);
});

Deno.test("RangeConsoles.start: without write permission for the folder the capture is skipped, never prompted", async () => {
  // a child with read but no write permission (stdin null: a prompt would fail, not hang)
  const script = `
    import { Connection, lookupDomain } from "${new URL("../mod.ts", import.meta.url)}";
    import { RangeConsoles, validateRange } from "${new URL("../lib/range/mod.ts", import.meta.url)}";
    const range = validateRange({
      name: "perm", hosts: [{ id: "local", uri: "test:///default" }], storage: { pool: "default-pool" },
      guests: [{ id: "pc", memory: 64 }],
    });
    await using consoles = new RangeConsoles(range, { dir: "/nonexistent/perm-logs" });
    await using conn = await Connection.open("test:///default");
    using dom = await lookupDomain(conn, "test");
    const result = await consoles.start(dom, { ...range.guests[0], name: "test", type: "qemu" });
    console.log(JSON.stringify({ changed: result.changed, summary: consoles.summary() }));
  `;
  const dir = await Deno.makeTempDir({ prefix: "dlv_console_" });
  try {
    await Deno.writeTextFile(`${dir}/perm.ts`, script);
    // the project's config, lockfile and --cached-only: a script in a temp dir would otherwise run with
    // no config and resolve npm packages through the registry (there is no network in the lab)
    const out = await runDeno(
      denoChildArgs("run", "--allow-ffi", "--allow-read", "--allow-env", `${dir}/perm.ts`),
      { stdin: "null" },
    );
    assert.equal(out.code, 0, out.stderr);
    const { changed, summary } = JSON.parse(out.stdout);
    assert.equal(changed, false);
    assert.deepEqual(summary, [{
      name: "test",
      host: "local",
      status: "skipped",
      fromBoot: false,
      bytes: 0,
      reason:
        'no write permission for "/nonexistent/perm-logs" (run with --allow-write=/nonexistent/perm-logs, ' +
        "or pass consoles: false)",
    }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("captureStream: a log that is a symlink or no regular file is refused; an existing log becomes 0600", async () => {
  // guests' output is the range's trainees' text: appended through a link planted in a shared log
  // folder, it would land in any file the capturing process (often root) can write
  const dir = await Deno.makeTempDir({ prefix: "dlv_console_" });
  try {
    const victim = `${dir}/victim`;
    await Deno.writeTextFile(victim, "untouched\n");
    await Deno.symlink(victim, `${dir}/g.log`);
    const source = () => ({
      readable: ReadableStream.from([encode("evil\n")]),
      writable: new WritableStream(),
    });
    await assert.rejects(
      () => captureStream(source(), { path: `${dir}/g.log` }),
      /Cannot log to ".*g\.log": it is a symbolic link/,
    );
    assert.equal(await Deno.readTextFile(victim), "untouched\n");
    await Deno.mkdir(`${dir}/d.log`);
    await assert.rejects(
      () => captureStream(source(), { path: `${dir}/d.log` }),
      /Cannot log to ".*d\.log": it is not a regular file/,
    );
    // a log left readable by others (an older run, a copy) is made private before anything is added
    await Deno.writeTextFile(`${dir}/old.log`, "before\n", { mode: 0o644 });
    await Deno.chmod(`${dir}/old.log`, 0o644);
    const capture = await captureStream(source(), { path: `${dir}/old.log` });
    await capture.ended;
    assert.equal((await Deno.stat(`${dir}/old.log`)).mode! & 0o777, 0o600);
    assert.match(await Deno.readTextFile(`${dir}/old.log`), /^before\n[\s\S]*evil\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("captureStream: a log removed while capturing is started anew at the next rotation, the capture goes on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dlv_console_" });
  try {
    const path = `${dir}/g.log`;
    const source = pushed();
    const capture = await captureStream(source, { path, maxBytes: 4096, rotations: 1 });
    source.controller.enqueue(encode("first\n"));
    await capture.waitFor("first");
    await Deno.remove(path); // someone clears the logs
    source.controller.enqueue(encode(`${"x".repeat(5000)}\n`));
    source.controller.enqueue(encode("after\n"));
    await capture.waitFor("after");
    source.controller.close();
    assert.match(await capture.ended, /the console ended/);
    assert.match(await Deno.readTextFile(path), /after\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ConsoleCapture.waitFor: an already aborted signal rejects the promise, it does not throw", async () => {
  const source = pushed();
  await using capture = await captureStream(source);
  let waiting: Promise<RegExpMatchArray> | undefined;
  assert.doesNotThrow(() => {
    waiting = capture.waitFor("never", { signal: AbortSignal.abort(new Error("stopped before")) });
  });
  await assert.rejects(waiting!, /stopped before/);
});

Deno.test("RangeConsoles.close: a start still in flight opens no connection afterwards (none is left open)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dlv_console_" });
  const range = testRange(`c${crypto.randomUUID().slice(0, 8)}`);
  const opened: Connection[] = [];
  try {
    const consoles = new RangeConsoles(range, {
      dir,
      open: async (uri) => {
        const conn = await Connection.open(uri);
        opened.push(conn);
        return conn;
      },
    });
    await using conn = await Connection.open("test:///default");
    using dom = await lookupDomain(conn, "test"); // runs already: attach, no pause
    const guest = { ...range.guests[0], name: "test", type: "qemu" as const };
    const starting = consoles.start(dom, guest); // its start call is in flight when close() runs
    await consoles.close();
    const result = await starting;
    assert.equal(result.changed, false);
    const open = opened.filter((c) => !c.closed);
    for (const c of open) await c.close();
    assert.equal(open.length, 0, "a connection opened after close() was left open");
    assert.equal(consoles.summary()[0]?.status, "skipped");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ConsoleCapture.waitFor: a character or escape sequence split between two chunks still matches", async () => {
  const source = pushed();
  await using capture = await captureStream(source);
  const word = capture.waitFor("Grüße");
  const bytes = encode("Grüße\n");
  source.controller.enqueue(bytes.subarray(0, 3)); // "Gr" and the first byte of "ü"
  source.controller.enqueue(bytes.subarray(3));
  await word;
  const coloured = capture.waitFor(/^ready$/m);
  source.controller.enqueue(encode("\x1b[1"));
  source.controller.enqueue(encode("mready\x1b[0m\n"));
  await coloured;
  assert.equal(capture.tail(), "Grüße\nready");
});
