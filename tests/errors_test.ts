import assert from "node:assert/strict";
import {
  AgentUnresponsiveError,
  AuthFailedError,
  Connection,
  ConnectionLostError,
  defineDomain,
  destroyDomain,
  ErrorCode,
  ErrorDomain,
  isAgentUnresponsive,
  isAuthFailed,
  isConnectionLost,
  isLibvirtError,
  isNotFound,
  isNotSupported,
  isOperationInvalid,
  isTimeout,
  LibvirtError,
  libvirtErrorFrom,
  lookupDomain,
  NotFoundError,
  NotSupportedError,
  OperationInvalidError,
  OperationTimeoutError,
  undefineDomain,
} from "../mod.ts";
import { ConnectionPool } from "../lib/pool.ts";
import { phrase } from "../lib/_handle.ts";
import { holdConnection } from "../lib/ffi/marshal.ts";
import { DAEMON_URI, requireDaemon, testDomainXml } from "./_helpers.ts";

const details = (code: number) => ({ code, domain: ErrorDomain.TEST, level: 2, message: "libvirt says so" });

Deno.test("libvirtErrorFrom picks the class scripts branch on", () => {
  const cases: [number, new (...a: never[]) => LibvirtError, (e: unknown) => boolean][] = [
    [ErrorCode.NO_DOMAIN, NotFoundError, isNotFound],
    [ErrorCode.NO_NETWORK, NotFoundError, isNotFound],
    [ErrorCode.NO_STORAGE_VOL, NotFoundError, isNotFound],
    [ErrorCode.NO_DOMAIN_SNAPSHOT, NotFoundError, isNotFound],
    [ErrorCode.OPERATION_INVALID, OperationInvalidError, isOperationInvalid],
    [ErrorCode.NO_SUPPORT, NotSupportedError, isNotSupported],
    [ErrorCode.OPERATION_UNSUPPORTED, NotSupportedError, isNotSupported],
    [ErrorCode.ARGUMENT_UNSUPPORTED, NotSupportedError, isNotSupported],
    [ErrorCode.AGENT_UNRESPONSIVE, AgentUnresponsiveError, isAgentUnresponsive],
    [ErrorCode.OPERATION_TIMEOUT, OperationTimeoutError, isTimeout],
    [ErrorCode.AUTH_FAILED, AuthFailedError, isAuthFailed],
    [ErrorCode.AUTH_CANCELLED, AuthFailedError, isAuthFailed],
    [ErrorCode.INTERNAL_ERROR, LibvirtError, (e) => isLibvirtError(e, ErrorCode.INTERNAL_ERROR)],
  ];
  for (const [code, cls, predicate] of cases) {
    const error = libvirtErrorFrom('start domain "web1"', details(code));
    assert.ok(error instanceof cls, `code ${code} -> ${cls.name}, got ${error.constructor.name}`);
    assert.equal(error.name, cls.name);
    assert.ok(predicate(error), `predicate for code ${code}`);
    assert.equal(error.message, 'Cannot start domain "web1": libvirt says so');
    assert.equal(error.code, code);
    assert.equal(error.operation, 'start domain "web1"');
  }
});

Deno.test("libvirtErrorFrom reports a lost connection only when the connection is dead", () => {
  const rpc = {
    code: ErrorCode.SYSTEM_ERROR,
    domain: ErrorDomain.RPC,
    level: 2,
    message: "Cannot recv data",
  };
  assert.ok(libvirtErrorFrom("list domains", rpc, false) instanceof ConnectionLostError);
  assert.ok(!(libvirtErrorFrom("list domains", rpc, true) instanceof ConnectionLostError));
  assert.ok(isConnectionLost(libvirtErrorFrom("list domains", rpc, false)));
  const lost = new ConnectionLostError('start domain "a"', rpc, { outcomeUnknown: true });
  assert.equal(lost.outcomeUnknown, true);
  assert.match(lost.message, /may or may not have taken effect/);
});

Deno.test("LibvirtError names its code and subsystem", () => {
  const error = libvirtErrorFrom("x", {
    code: ErrorCode.NO_DOMAIN,
    domain: ErrorDomain.QEMU,
    level: 2,
    message: "m",
  });
  assert.equal(error.codeName, "NO_DOMAIN");
  assert.equal(error.domainName, "QEMU");
  assert.equal(libvirtErrorFrom("x", details(9999)).codeName, "UNKNOWN_9999");
  assert.ok(isLibvirtError(error));
  assert.ok(isLibvirtError(error, ErrorCode.NO_NETWORK, ErrorCode.NO_DOMAIN));
  assert.ok(!isLibvirtError(error, ErrorCode.NO_NETWORK));
  assert.ok(!isLibvirtError(new Error("plain"), ErrorCode.NO_DOMAIN));
  assert.ok(isTimeout(new DOMException("late", "TimeoutError")));
});

Deno.test("errors of real calls carry libvirt's code, subsystem and the operation", async () => {
  await using conn = await Connection.open("test:///default");
  await assert.rejects(() => lookupDomain(conn, "no-such-domain"), (e: unknown) => {
    assert.ok(e instanceof NotFoundError);
    assert.equal(e.code, ErrorCode.NO_DOMAIN);
    assert.equal(e.domain, ErrorDomain.TEST);
    assert.equal(e.message, 'Cannot look up domain "no-such-domain": Domain not found');
    return true;
  });
  using inactive = await defineDomain(conn, testDomainXml("errors-inactive"));
  try {
    await assert.rejects(() => destroyDomain(inactive), (e: unknown) => {
      assert.ok(e instanceof OperationInvalidError);
      assert.match(
        e.message,
        /^Cannot destroy domain "errors-inactive": Requested operation is not valid: .*not running/,
      );
      return true;
    });
  } finally {
    await undefineDomain(inactive);
  }
});

/**
 * The property the pool exists for: with many connections and calls in flight on Deno's thread
 * pool, every error is the error of its own call. Failing defines carry a per-call token that the
 * daemon puts in its message; failing lookups must say NO_DOMAIN; successes must succeed.
 */
async function attributionRun(uri: string, calls: number, max: number): Promise<number> {
  await using pool = new ConnectionPool(uri, { max });
  let mismatches = 0;
  const work = Array.from({ length: calls }, (_, i) =>
    pool.use(async (conn) => {
      switch (i % 3) {
        case 0: {
          const token = `bogus-os-${i}`;
          const xml = `<domain type='test'><name>attr-${i}</name><memory unit='MiB'>8</memory>` +
            `<os><type>${token}</type></os></domain>`;
          try {
            (await defineDomain(conn, xml)).free();
            mismatches++;
          } catch (e) {
            if (!(e instanceof LibvirtError) || !e.libvirtMessage.includes(`'${token}'`)) mismatches++;
            else if (
              e.code !== ErrorCode.CONFIG_UNSUPPORTED || !e.message.includes(`"attr-${i}"`)
            ) mismatches++;
          }
          break;
        }
        case 1:
          try {
            (await lookupDomain(conn, `missing-${i}`)).free();
            mismatches++;
          } catch (e) {
            if (!isNotFound(e) || !e.message.startsWith(`Cannot look up domain "missing-${i}": `)) {
              mismatches++;
            }
          }
          break;
        default: {
          using dom = await lookupDomain(conn, "test");
          const info = await dom.info();
          if (info.state !== "running") mismatches++;
        }
      }
    }));
  await Promise.all(work);
  const report = await pool.close();
  assert.equal(report.remainingReferences, 0);
  return mismatches;
}

Deno.test("error attribution: 1,500 calls, 1,000 failing, over 8 concurrent leases on libvirtd: zero mismatches", async () => {
  requireDaemon();
  assert.equal(await attributionRun(DAEMON_URI, 1500, 8), 0);
});

Deno.test("error attribution: in-process test driver on Deno's thread pool: zero mismatches", async () => {
  assert.equal(await attributionRun("test:///default", 1500, 8), 0);
});

Deno.test("phrase and a closed connection's hold: an object's words are put in as written, `$` patterns too", () => {
  assert.equal(
    phrase("pass {} as argument dom of virX", `freed Domain "a$&b$'c"`),
    `pass freed Domain "a$&b$'c" as argument dom of virX`,
  );
  assert.equal(phrase("start", `domain "$$"`), `start domain "$$"`);
  assert.throws(
    () =>
      holdConnection({ handle: null, uri: "test:///$&" }, "pass {} as argument dconn of virDomainMigrate3"),
    /^TypeError: Cannot pass a closed Connection to "test:\/\/\/\$&" as argument dconn of virDomainMigrate3: pass an open Connection$/,
  );
});
