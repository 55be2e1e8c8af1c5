// The pool against a real daemon that goes away: libvirtd is restarted (by pid, through the lab
// script) while pooled calls run. Needs root and the lab's libvirtd (tests/integration/lab/lab.sh up).
import assert from "node:assert/strict";
import { Connection, ConnectionLostError, ConnectionPool, lookupDomain } from "../../mod.ts";
import { DAEMON_URI, LAB_SCRIPT, requireDaemon } from "../_helpers.ts";

async function restartDaemon(): Promise<void> {
  const { code, stderr } = await new Deno.Command("bash", {
    args: [LAB_SCRIPT, "restart"],
    stdout: "null",
    stderr: "piped",
  })
    .output();
  assert.equal(code, 0, `lab.sh restart failed: ${new TextDecoder().decode(stderr)}`);
}

Deno.test("pool: a loop of reads survives a libvirtd restart, with the reconnect in the statistics", async () => {
  requireDaemon();
  await using pool = new ConnectionPool(DAEMON_URI, { max: 4, reconnect: { timeoutMs: 30_000 } });
  let wrong = 0;
  let done = 0;
  let restarted = false;
  const loop = async (worker: number) => {
    for (let i = 0; i < 150; i++) {
      const info = await pool.use(async (conn) => {
        using dom = await lookupDomain(conn, "test");
        return { name: dom.name, info: await dom.info() };
      }, { idempotent: true });
      if (info.name !== "test" || info.info.state !== "running" || info.info.vcpus !== 2) wrong++;
      done++;
      if (worker === 0 && i === 40) {
        await restartDaemon();
        restarted = true;
      }
    }
  };
  await Promise.all([0, 1, 2, 3].map(loop));
  assert.ok(restarted);
  assert.equal(done, 600, "every call of the loop completed");
  assert.equal(wrong, 0, "no call returned a wrong result");
  const stats = pool.stats();
  assert.ok(stats.reconnects >= 1, `reconnects: ${JSON.stringify(stats)}`);
  assert.ok(stats.opened > 4 - 1, "replacement connections were opened");
  const report = await pool.close();
  assert.equal(report.remainingReferences, 0);
});

Deno.test("connection: the event loop notices a restarted daemon without a call, and calls fail as ConnectionLostError", async () => {
  requireDaemon();
  const conn = await Connection.open(DAEMON_URI);
  assert.ok(conn.isAlive());
  await restartDaemon();
  const deadline = performance.now() + 5_000;
  while (conn.isAlive() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(conn.isAlive(), false, "the event loop saw the socket close");
  await assert.rejects(() => conn.hostname(), ConnectionLostError);
  await conn.close();
});

Deno.test("pool: a non-idempotent call on a connection that broke reports that its outcome is unknown", async () => {
  requireDaemon();
  await using pool = new ConnectionPool(DAEMON_URI, { max: 1, healthCheckIdleMs: 60_000 });
  await assert.rejects(
    () =>
      pool.use(async (conn) => {
        await restartDaemon(); // the daemon goes away under the leased connection
        return await lookupDomain(conn, "test");
      }),
    (e: unknown) =>
      e instanceof ConnectionLostError && e.outcomeUnknown &&
      /Cannot look up domain "test": /.test(e.message),
  );
  // ...and the pool heals: the next call gets a fresh connection
  assert.equal(await pool.use((c) => c.hypervisorType(), { idempotent: true }), "TEST");
  assert.equal(pool.stats().reconnects, 1);
});
