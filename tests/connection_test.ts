import assert from "node:assert/strict";
import {
  AuthFailedError,
  Connection,
  ErrorCode,
  isLibvirtError,
  LibvirtError,
  listAllDomains,
  lookupDomain,
  NotFoundError,
} from "../mod.ts";
import { childEnv, DAEMON_URI, denoChildArgs, requireDaemon, runDeno, writeNodeFile } from "./_helpers.ts";

Deno.test("Connection.open reads host facts from the embedded test hypervisor", async () => {
  const conn = await Connection.open("test:///default");
  assert.equal(conn.uri, "test:///default");
  assert.equal(conn.readOnly, false);
  assert.ok(conn.isAlive());
  assert.equal(await conn.hypervisorType(), "TEST");
  assert.equal(await conn.canonicalUri(), "test:///default");
  const version = await conn.libVersion();
  assert.ok(version.major >= 6, `libvirt ${version.text}`);
  assert.equal(version.text, `${version.major}.${version.minor}.${version.release}`);
  assert.ok((await conn.hostname()).length > 0);
  assert.match(await conn.capabilities(), /<capabilities>/);
  assert.equal(Deno.inspect(conn), 'Connection { uri: "test:///default", read-write }');
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
  assert.ok(conn.closed);
  assert.ok(!conn.isAlive());
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 }, "close is idempotent");
  await assert.rejects(
    () => conn.hostname(),
    /Cannot get the hostname of "test:\/\/\/default": the connection is closed/,
  );
});

Deno.test("Connection over libvirtd: versions, keepalive, security flags", async () => {
  requireDaemon();
  await using conn = await Connection.open(DAEMON_URI);
  assert.ok(conn.isAlive());
  assert.ok(conn.isSecure(), "a local UNIX socket is secure");
  assert.ok(!conn.isEncrypted());
  assert.equal(await conn.hypervisorType(), "TEST");
  assert.ok((await conn.libVersion()).major >= 6);
  await conn.ping();
});

Deno.test("Connection.open(null): libvirt's default URI, read by libvirt itself (no --allow-env), named after the open", async () => {
  // a child whose environment names the default and whose permissions do not include reading it
  const script = `
    import { Connection } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
    const a = await Connection.open(null, { eventLoop: false });
    const b = Connection.openSync("");
    console.log(JSON.stringify({ a: a.uri, b: b.uri, env: Deno.permissions.querySync({ name: "env" }).state }));
    await a.close();
    b.closeSync();
    try {
      await Connection.open(7 as unknown as string);
    } catch (error) {
      console.log(String(error));
    }`;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, script);
  const out = await runDeno(denoChildArgs("run", "--no-prompt", "--allow-ffi", "--allow-read", file), {
    env: childEnv({ LIBVIRT_DEFAULT_URI: "test:///default" }),
    clearEnv: true,
  }).finally(() => Deno.remove(file));
  assert.equal(out.code, 0, out.stderr);
  const [first, second] = out.stdout.trim().split("\n");
  assert.deepEqual(JSON.parse(first), { a: "test:///default", b: "test:///default", env: "prompt" }); // not granted
  assert.match(second, /uri must be a string \(or null for libvirt's default URI\), got 7/);
});

Deno.test("Connection.open fails clearly for an unknown URI scheme", async () => {
  await assert.rejects(() => Connection.open("bogus:///nothing"), (e: unknown) => {
    assert.ok(e instanceof LibvirtError);
    assert.equal(e.code, ErrorCode.NO_CONNECT);
    assert.equal(
      e.message,
      'Cannot open connection to "bogus:///nothing": no connection driver available for bogus:///nothing',
    );
    return true;
  });
});

Deno.test("Connection.open fails clearly for a refused socket", async () => {
  await assert.rejects(() => Connection.open("qemu+tcp://127.0.0.1:1/system"), (e: unknown) => {
    assert.ok(isLibvirtError(e, ErrorCode.SYSTEM_ERROR));
    assert.match(
      e.message,
      /^Cannot open connection to "qemu\+tcp:\/\/127\.0\.0\.1:1\/system": .*Connection refused/,
    );
    return true;
  });
  await assert.rejects(
    () => Connection.open("test+unix:///default?socket=/nonexistent/libvirt-sock"),
    /Cannot open connection to .*Failed to connect socket to '\/nonexistent\/libvirt-sock': No such file or directory/,
  );
});

Deno.test("Connection.open rejects a URI containing a NUL before calling libvirt", async () => {
  await assert.rejects(() => Connection.open("test:///default\0x"), TypeError);
});

Deno.test("failed opens under concurrency each report their own reason", async () => {
  const bad = Array.from({ length: 20 }, (_, i) => `test:///nonexistent-${i}.xml`);
  const results = await Promise.allSettled(bad.map((uri) => Connection.open(uri)));
  results.forEach((result, i) => {
    assert.equal(result.status, "rejected");
    const reason = (result as PromiseRejectedResult).reason as LibvirtError;
    assert.match(
      reason.message,
      new RegExp(`^Cannot open connection to "test:///nonexistent-${i}\\.xml": .*nonexistent-${i}\\.xml`),
    );
  });
});

Deno.test("Connection.open answers the test driver's auth prompts, and fails clearly without them", async () => {
  const node = await writeNodeFile(1, { auth: { user: "trainer", password: "s3cret" } });
  try {
    const uri = `test://${node}`;
    await using conn = await Connection.open(uri, { auth: { username: "trainer", password: "s3cret" } });
    assert.equal((await listAllDomains(conn)).map((d) => (d.free(), d.name)).length, 1);

    const seen: string[] = [];
    const viaCallback = await Connection.open(uri, {
      auth: {
        callback: (credentials) =>
          credentials.map((c) => {
            seen.push(c.kind);
            return c.kind === "authname" || c.kind === "username" ? "trainer" : "s3cret";
          }),
      },
    });
    await viaCallback.close();
    assert.ok(seen.includes("passphrase"), `asked for ${seen}`);

    await assert.rejects(
      () => Connection.open(uri, { auth: { username: "trainer", password: "wrong" } }),
      (e: unknown) => e instanceof AuthFailedError && /Cannot open connection to/.test(e.message),
    );
    await assert.rejects(
      () => Connection.open(uri, { auth: { callback: () => null } }),
      (e: unknown) => e instanceof AuthFailedError,
      "a callback returning null cancels",
    );
    await assert.rejects(
      () =>
        Connection.open(uri, {
          auth: {
            callback: () => {
              throw new Error("no tty");
            },
          },
        }),
      (e: unknown) => e instanceof AuthFailedError,
      "a throwing callback cancels instead of crashing",
    );
  } finally {
    await Deno.remove(node);
  }
});

Deno.test("Connection.open refuses a NUL inside a username or password, as inside a URI", async () => {
  const node = await writeNodeFile(1, { auth: { user: "trainer", password: "s3cret" } });
  try {
    const uri = `test://${node}`;
    // C would cut "s3cret\0anything" at the NUL, and the open would succeed with "s3cret"
    for (
      const [auth, field] of [
        [{ username: "trainer", password: "s3cret\0anything" }, "password"],
        [{ username: "trainer\0root", password: "s3cret" }, "username"],
      ] as const
    ) {
      await assert.rejects(() => Connection.open(uri, { auth }), (e: unknown) => {
        assert.ok(e instanceof TypeError, String(e));
        assert.equal(
          e.message,
          `Cannot open connection to ${
            JSON.stringify(uri)
          }: auth.${field} contains a NUL character, which libvirt would cut it at`,
        );
        assert.ok(!e.message.includes("s3cret"), "the secret is not echoed");
        return true;
      });
    }
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      () => Connection.open(uri, { auth: { username: 42 as any, password: "s3cret" } }),
      /auth\.username must be a string, got 42/,
    );
    // the same for answers from a callback: refused, nothing handed to libvirt
    await assert.rejects(
      () =>
        Connection.open(uri, {
          auth: { callback: (cs) => cs.map((c) => c.kind === "passphrase" ? "s3cret\0x" : "trainer") },
        }),
      (e: unknown) =>
        e instanceof AuthFailedError &&
        /authentication cancelled: the answer for the passphrase credential contains a NUL character/.test(
          e.message,
        ),
    );
    await using ok = await Connection.open(uri, { auth: { username: "trainer", password: "s3cret" } });
    assert.ok(ok.isAlive(), "the same credentials without the NUL still work");
  } finally {
    await Deno.remove(node);
  }
});

Deno.test("read-only connections refuse changes with a clear error", async () => {
  requireDaemon();
  await using conn = await Connection.open(DAEMON_URI, { readOnly: true });
  assert.ok(conn.readOnly);
  using dom = await lookupDomain(conn, "test");
  assert.equal((await dom.info()).state, "running");
  const { defineDomain } = await import("../lib/domain.ts");
  await assert.rejects(
    () =>
      defineDomain(
        conn,
        "<domain type='test'><name>ro</name><memory>1024</memory><os><type>hvm</type></os></domain>",
      ),
    (e: unknown) =>
      isLibvirtError(e, ErrorCode.OPERATION_DENIED) &&
      /Cannot define domain "ro": .*read only/.test(e.message),
  );
});

Deno.test("Connection.close frees handles the caller forgot and reports them", async () => {
  const conn = await Connection.open("test:///default");
  const leaked = await lookupDomain(conn, "test");
  const report = await conn.close();
  assert.deepEqual(report, { remainingReferences: 0, freedHandles: 1 });
  assert.ok(leaked.freed);
  assert.throws(() => leaked.uuid, /Cannot read the UUID of freed Domain "test"/);
  assert.equal(leaked.name, "test", "the name stays readable after the free");
});

Deno.test("Connection.close waits for the call in flight", async () => {
  const conn = await Connection.open("test:///default");
  const listing = listAllDomains(conn);
  const closing = conn.close();
  const domains = await listing;
  assert.equal(domains.length, 1);
  for (const d of domains) d.free();
  assert.equal((await closing).remainingReferences, 0);
});

Deno.test("Connection sync calls refuse to run while an async call is in flight", async () => {
  await using conn = await Connection.open("test:///default");
  const { listAllDomainsSync } = await import("../lib/domain.ts");
  const pending = listAllDomains(conn);
  assert.throws(() => listAllDomainsSync(conn), /an asynchronous call is in flight on this connection/);
  for (const d of await pending) d.free();
  for (const d of listAllDomainsSync(conn)) d.free();
});

Deno.test("Connection.openSync works for the in-process driver and reports failures", async () => {
  const conn = Connection.openSync("test:///default");
  assert.equal(await conn.hypervisorType(), "TEST");
  await conn.close();
  assert.throws(() => Connection.openSync("test:///nonexistent-sync.xml"), (e: unknown) => {
    return e instanceof LibvirtError && /nonexistent-sync\.xml/.test(e.message);
  });
});

Deno.test("lookupDomain finds by name, UUID and id, and NotFoundError otherwise", async () => {
  await using conn = await Connection.open("test:///default");
  using byName = await lookupDomain(conn, "test");
  using byUuid = await lookupDomain(conn, byName.uuid);
  using byId = await lookupDomain(conn, byName.id!);
  assert.equal(byUuid.name, "test");
  assert.equal(byId.name, "test");
  assert.match(byName.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(Deno.inspect(byName), 'Domain { name: "test" }');
  await assert.rejects(() => lookupDomain(conn, "00000000-0000-0000-0000-000000000000"), NotFoundError);
});

Deno.test("a handle's call queued behind a close holds nothing: the close frees the handle and reports no leak, the call is refused", async () => {
  const conn = await Connection.open("test:///default");
  const dom = await lookupDomain(conn, "test");
  const first = conn.hostname(); // holds the connection's lock
  const closing = conn.close(); // queues behind it
  const queued = dom.info().then(() => undefined, (error: Error) => error); // queues behind the close
  await first;
  const report = await closing;
  assert.equal(report.freedHandles, 1);
  assert.equal(report.remainingReferences, 0, "the queued call took no reference of its own");
  const refused = await queued;
  assert.ok(refused instanceof TypeError, String(refused));
  assert.match(refused.message, /freed Domain "test"|the connection is closed/);
});
