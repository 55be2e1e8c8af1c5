// qemu+ssh and qemu+libssh to the lab's second host (its sshd on 10.77.9.2:2222, key authentication
// only): the URI options an unattended script needs (keyfile, no_tty, no_verify, known_hosts,
// known_hosts_verify, sshauth), a refused key and an untrusted host key as AuthFailedError /
// HostKeyVerificationError, no ssh process left behind, nothing written to /root/.ssh, and the pool's
// keepalive and reconnect over an ssh child that hangs or dies.
//
// Every URI here says no_tty=1 (ssh runs with BatchMode=yes: it fails instead of asking for a
// passphrase or a yes/no on a host key) and gets its ssh through a wrapper (command=) whose config
// points at a known_hosts of the test's own, so neither root's ~/.ssh nor a prompt is ever involved.
import assert from "node:assert/strict";
import {
  AuthFailedError,
  Connection,
  ConnectionLostError,
  ConnectionPool,
  ErrorCode,
  ErrorDomain,
  HostKeyVerificationError,
  isAuthFailed,
  listAllNetworks,
} from "../../mod.ts";
import { type LabSsh, labSsh, noSshChildrenLeft, requireLabNamespace, sshChildren, waitFor } from "./_lab.ts";

/** A scratch directory with an ssh wrapper whose known_hosts is `knownHosts` (the test's own). */
async function sshClient(knownHosts: string) {
  const dir = await Deno.makeTempDir({ prefix: "m3ssh-" });
  const khFile = `${dir}/known_hosts`;
  await Deno.writeTextFile(khFile, knownHosts);
  await Deno.writeTextFile(
    `${dir}/ssh_config`,
    [
      "Host *",
      `  UserKnownHostsFile ${khFile}`,
      "  GlobalKnownHostsFile /dev/null",
      "  StrictHostKeyChecking yes",
      "  IdentitiesOnly yes",
      "  ConnectTimeout 10",
      "  LogLevel ERROR",
      "",
    ].join("\n"),
  );
  // no BatchMode here: no_tty=1 in the URI has to provide it
  await Deno.writeTextFile(`${dir}/ssh`, `#!/bin/sh\nexec ssh -F '${dir}/ssh_config' "$@"\n`, {
    mode: 0o755,
  });
  return {
    dir,
    knownHosts: khFile,
    command: `${dir}/ssh`,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A key pair sshd does not know. */
async function strangerKey(dir: string): Promise<string> {
  const file = `${dir}/stranger_ed25519`;
  const out = await new Deno.Command("ssh-keygen", {
    args: ["-q", "-t", "ed25519", "-N", "", "-C", "m3ssh stranger", "-f", file],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return file;
}

function sshUri(s: LabSsh, params: Record<string, string>): string {
  const query = Object.entries({ keyfile: s.keyFile, no_tty: "1", ...params }).map(([k, v]) => `${k}=${v}`);
  return `qemu+ssh://${s.user}@${s.address}:${s.port}/system?${query.join("&")}`;
}

function libsshUri(s: LabSsh, params: Record<string, string>): string {
  const query = Object.entries({ keyfile: s.keyFile, sshauth: "privkey", ...params }).map(([k, v]) =>
    `${k}=${v}`
  );
  return `qemu+libssh://${s.user}@${s.address}:${s.port}/system?${query.join("&")}`;
}

/** sshd's host key as a known_hosts line for its address and port. */
function knownHostsLine(s: LabSsh, key = Deno.readTextFileSync(s.hostKey)): string {
  const [type, blob] = key.trim().split(/\s+/);
  return `[${s.address}]:${s.port} ${type} ${blob}\n`;
}

async function hostOf(uri: string): Promise<string[]> {
  await using conn = await Connection.open(uri);
  return (await listAllNetworks(conn)).map((n) => (n.free(), n.name));
}

/** root's ~/.ssh as it is: nothing here may create or change it. */
function rootSshState(): string {
  try {
    return [...Deno.readDirSync("/root/.ssh")].map((e) => {
      const st = Deno.statSync(`/root/.ssh/${e.name}`);
      return `${e.name}:${st.size}:${st.mtime?.getTime()}`;
    }).sort().join(",");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "(absent)";
    throw error;
  }
}

const rootSshBefore = rootSshState();

Deno.test("lab ssh: the lab's qemu+ssh and qemu+libssh URIs reach the second host, and closing leaves no ssh process", async () => {
  await requireLabNamespace();
  const s = labSsh();
  await noSshChildrenLeft();
  {
    await using conn = await Connection.open(s.uri);
    assert.equal(sshChildren().length, 1, "one ssh child per qemu+ssh connection");
    assert.equal(await conn.hypervisorType(), "QEMU");
    const networks = (await listAllNetworks(conn)).map((n) => (n.free(), n.name));
    assert.ok(networks.includes("dlvh2"), `host 2's network over ssh: ${networks}`);
    assert.ok(!networks.includes("dlvnat"), "not host 1's daemon");
  }
  await noSshChildrenLeft();
  const overLibssh = await hostOf(s.libsshUri);
  assert.ok(overLibssh.includes("dlvh2") && !overLibssh.includes("dlvnat"), `${overLibssh}`);
  await noSshChildrenLeft();
  assert.equal(rootSshState(), rootSshBefore, "/root/.ssh untouched");
});

Deno.test("lab ssh: an unknown host key fails clearly with no_verify=0, passes with no_verify=1, and the file it recorded then works", async () => {
  await requireLabNamespace();
  const s = labSsh();
  await using client = await sshClient("");
  const strict = sshUri(s, { command: client.command });
  const error = await Connection.open(strict).then(
    (c) => (c.close(), assert.fail("opened with an empty known_hosts")),
    (e: unknown) => e,
  );
  assert.ok(error instanceof HostKeyVerificationError, String(error));
  assert.ok(isAuthFailed(error), "a HostKeyVerificationError is an AuthFailedError");
  assert.equal(error.changed, false);
  // libvirt's own fields stay as libvirt reported them
  assert.equal(error.code, ErrorCode.SYSTEM_ERROR);
  assert.equal(error.domain, ErrorDomain.RPC);
  assert.match(error.libvirtMessage, /Host key verification failed/);
  assert.match(error.message, /does not know the host key of 10\.77\.9\.2:2222/);
  assert.match(error.message, /no_verify=1/);
  assert.match(error.message, /ssh-keyscan -p 2222 10\.77\.9\.2/);

  // no_verify=1: StrictHostKeyChecking=no accepts the unknown key and records it in known_hosts
  assert.ok((await hostOf(sshUri(s, { command: client.command, no_verify: "1" }))).includes("dlvh2"));
  const recorded = await Deno.readTextFile(client.knownHosts);
  assert.equal(
    recorded.trim().split(/\s+/).slice(0, 3).join(" "),
    knownHostsLine(s).trim(),
    "sshd's key recorded",
  );
  // ...and from then on the strict URI works against that file
  assert.ok((await hostOf(strict)).includes("dlvh2"));
  await noSshChildrenLeft();
  assert.equal(rootSshState(), rootSshBefore, "/root/.ssh untouched");
});

Deno.test("lab ssh: a changed host key is a HostKeyVerificationError with changed set; qemu+ssh's no_verify=1 lets it through", async () => {
  await requireLabNamespace();
  const s = labSsh();
  await using scratch = await sshClient("");
  const otherKey = await strangerKey(scratch.dir);
  await using client = await sshClient(knownHostsLine(s, await Deno.readTextFile(`${otherKey}.pub`)));
  const error = await Connection.open(sshUri(s, { command: client.command })).then(
    (c) => (c.close(), assert.fail("opened with a wrong key in known_hosts")),
    (e: unknown) => e,
  );
  assert.ok(error instanceof HostKeyVerificationError, String(error));
  assert.equal(error.changed, true);
  assert.match(error.message, /differs from the one in/);
  assert.match(error.message, /ssh-keygen -R "\[10\.77\.9\.2\]:2222"/);
  // What libvirt's no_verify=1 really does with OpenSSH 9.2: StrictHostKeyChecking=no also accepts a
  // CHANGED key for a key login (ssh only disables password logins then). Documented in
  // docs/design.md; this pins it so the docs stay true.
  assert.ok((await hostOf(sshUri(s, { command: client.command, no_verify: "1" }))).includes("dlvh2"));
  await noSshChildrenLeft();
});

Deno.test("lab ssh: qemu+libssh verifies against known_hosts=; no_verify does not apply, known_hosts_verify=auto records an unknown key", async () => {
  await requireLabNamespace();
  const s = labSsh();
  // the lab's file: verified (known_hosts_verify=normal is the default)
  assert.ok((await hostOf(libsshUri(s, { known_hosts: s.knownHosts }))).includes("dlvh2"));

  await using client = await sshClient("");
  for (const extra of [{}, { no_verify: "1" }] as Record<string, string>[]) {
    const error = await Connection.open(libsshUri(s, { known_hosts: client.knownHosts, ...extra })).then(
      (c) => (c.close(), assert.fail("opened with an empty known_hosts")),
      (e: unknown) => e,
    );
    assert.ok(error instanceof HostKeyVerificationError, `${JSON.stringify(extra)}: ${error}`);
    assert.equal(error.changed, false);
    assert.equal(error.domain, ErrorDomain.LIBSSH);
    assert.match(error.message, /known_hosts_verify=auto/);
    assert.match(error.message, new RegExp(`known_hosts="${client.knownHosts}"`));
  }
  assert.ok((await hostOf(libsshUri(s, { known_hosts: client.knownHosts, known_hosts_verify: "auto" })))
    .includes("dlvh2"));
  const recorded = await Deno.readTextFile(client.knownHosts);
  assert.ok(recorded.includes(knownHostsLine(s).trim().split(" ")[2]), `recorded: ${recorded}`);
  assert.ok((await hostOf(libsshUri(s, { known_hosts: client.knownHosts }))).includes("dlvh2"));

  // a changed key is refused even with auto
  const otherKey = await strangerKey(client.dir);
  await Deno.writeTextFile(client.knownHosts, knownHostsLine(s, await Deno.readTextFile(`${otherKey}.pub`)));
  const changed = await Connection.open(
    libsshUri(s, { known_hosts: client.knownHosts, known_hosts_verify: "auto" }),
  ).then((c) => (c.close(), assert.fail("opened with a wrong key in known_hosts")), (e: unknown) => e);
  assert.ok(changed instanceof HostKeyVerificationError && changed.changed, String(changed));
  assert.equal(rootSshState(), rootSshBefore, "/root/.ssh untouched");
});

Deno.test("lab ssh: a refused key is an AuthFailedError that says what to check, over qemu+ssh and qemu+libssh", async () => {
  await requireLabNamespace();
  const s = labSsh();
  await using client = await sshClient(knownHostsLine(s));
  const stranger = await strangerKey(client.dir);
  const cases = [
    { uri: sshUri(s, { keyfile: stranger, command: client.command }), code: ErrorCode.SYSTEM_ERROR },
    { uri: libsshUri(s, { keyfile: stranger, known_hosts: client.knownHosts }), code: ErrorCode.LIBSSH },
  ];
  for (const { uri, code } of cases) {
    const error = await Connection.open(uri).then(
      (c) => (c.close(), assert.fail(`${uri} opened with a key sshd does not know`)),
      (e: unknown) => e,
    );
    assert.ok(error instanceof AuthFailedError, `${uri}: ${error}`);
    assert.ok(!(error instanceof HostKeyVerificationError), "the host key was fine");
    assert.equal(error.code, code, error.codeName);
    assert.match(error.message, /refused the login of "root"/);
    assert.match(error.message, new RegExp(`keyfile="${stranger}"`));
    assert.match(error.message, /authorized_keys/);
  }
  // a key file that is not there
  const missing = await Connection.open(sshUri(s, { keyfile: `${client.dir}/nope`, command: client.command }))
    .then((c) => (c.close(), assert.fail("opened without a key")), (e: unknown) => e);
  assert.ok(missing instanceof AuthFailedError, String(missing));
  assert.match(missing.message, /cannot be read: check the keyfile= path/);
  await noSshChildrenLeft();
});

Deno.test("lab ssh: the pool's keepalive notices a hung ssh child and its reconnect replaces a dead one", async () => {
  await requireLabNamespace();
  const s = labSsh();
  const touched: number[] = [];
  try {
    await using pool = new ConnectionPool(s.uri, {
      max: 1,
      keepAlive: { interval: 1, count: 2 },
      reconnect: { timeoutMs: 30_000 },
    });
    assert.equal(await pool.use((c) => c.hostname(), { idempotent: true }), Deno.hostname());

    // 1. the ssh child hangs (SIGSTOP): no byte flows, only keepalive can tell; the call in flight
    //    fails over to a fresh connection once keepalive gives up on the hung one (~3 s)
    const [hung] = sshChildren();
    assert.ok(hung, "the pool's connection runs over an ssh child");
    touched.push(hung.pid);
    Deno.kill(hung.pid, "SIGSTOP");
    const networks = await pool.use(
      async (c) => (await listAllNetworks(c)).map((n) => (n.free(), n.name)),
      { idempotent: true },
    );
    assert.ok(networks.includes("dlvh2"));
    assert.equal(pool.stats().reconnects, 1, JSON.stringify(pool.stats()));
    // libvirt closed the hung connection and killed its stopped ssh (SIGKILL works on a stopped one)
    await waitFor(
      "the hung ssh child to be gone",
      () => Promise.resolve(sshChildren().some((c) => c.pid === hung.pid) ? undefined : true),
      15_000,
    );

    // 2. the ssh child dies (SIGKILL) while the connection is idle: the event loop sees the socket
    //    close, and the next call gets a new connection (a new ssh child)
    const [second] = sshChildren();
    assert.ok(second && second.pid !== hung.pid);
    touched.push(second.pid);
    Deno.kill(second.pid, "SIGKILL");
    assert.equal(await pool.use((c) => c.hypervisorType(), { idempotent: true }), "QEMU");
    assert.equal(pool.stats().reconnects, 2, JSON.stringify(pool.stats()));
    const fresh = sshChildren().filter((c) => !touched.includes(c.pid));
    assert.equal(fresh.length, 1, `a new ssh child: ${JSON.stringify(sshChildren())}`);
    const report = await pool.close();
    assert.equal(report.remainingReferences, 0);
  } finally {
    // never leave an ssh child of ours stopped; only pids still our ssh children (a reaped pid may
    // already belong to someone else)
    const ours = new Set(sshChildren().map((c) => c.pid));
    for (const pid of touched.filter((p) => ours.has(p))) Deno.kill(pid, "SIGKILL");
  }
  await noSshChildrenLeft();
});

Deno.test('lab ssh: calls on a connection whose ssh child died fail as ConnectionLostError (hypervisorType too, never "remote")', async () => {
  await requireLabNamespace();
  const conn = await Connection.open(labSsh().uri);
  try {
    const [child] = sshChildren();
    assert.ok(child);
    Deno.kill(child.pid, "SIGKILL"); // our own ssh child, by pid
    // at once, before the event loop saw the socket close: libvirt's virConnectGetType then answers
    // its driver's name, "remote", instead of failing
    await assert.rejects(() => conn.hypervisorType(), ConnectionLostError);
    await assert.rejects(() => conn.hostname(), ConnectionLostError);
    assert.equal(conn.isAlive(), false);
  } finally {
    await conn.close();
  }
  await noSshChildrenLeft();
});

Deno.test("lab ssh: with an auth callback, qemu+libssh asks to accept an unknown host key (fingerprint in the prompt)", async () => {
  await requireLabNamespace();
  const s = labSsh();
  await using client = await sshClient("");
  const uri = libsshUri(s, { known_hosts: client.knownHosts });
  // credentials but no callback: the question cannot be answered, and the error says what to do
  const error = await Connection.open(uri, { auth: { password: "unused" } }).then(
    (c) => (c.close(), assert.fail("opened without accepting the host key")),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AuthFailedError, String(error));
  assert.equal(error.code, ErrorCode.AUTH_CANCELLED);
  assert.match(error.message, /Accept SSH host key with hash '[0-9a-f:]+' for host '10\.77\.9\.2:2222'/);
  assert.match(error.message, /answer "y" from an auth\.callback after checking the hash/);
  assert.equal(await Deno.readTextFile(client.knownHosts), "", "nothing recorded");

  const prompts: string[] = [];
  const networks = await (async () => {
    await using conn = await Connection.open(uri, {
      auth: {
        callback: (credentials) =>
          credentials.map((c) => {
            prompts.push(c.prompt);
            return c.kind === "echoprompt" && /Accept SSH host key/.test(c.prompt) ? "y" : undefined;
          }),
      },
    });
    return (await listAllNetworks(conn)).map((n) => (n.free(), n.name));
  })();
  assert.ok(networks.includes("dlvh2"));
  assert.equal(prompts.length, 1, JSON.stringify(prompts));
  assert.ok((await Deno.readTextFile(client.knownHosts)).includes(knownHostsLine(s).trim().split(" ")[2]));
});
