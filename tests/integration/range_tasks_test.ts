// Guest tasks on the lab's real TCG guests, through the guest agent only (no network): accounts exist
// and their passwords verify against /etc/shadow (crypt(3) on this host with the hash's salt), files
// land with their content and mode, programs run and their output is reported, a package without a
// package manager is skipped with the reason; a second up keeps everything; a failing program is a
// GuestTaskError naming guest, task and output.
import assert from "node:assert/strict";
import { guestExec, guestFileRead, lookupDomain, PoolRegistry } from "../../mod.ts";
import { cyrisToRange } from "../../lib/range/cyris.ts";
import { type Range, validateRange } from "../../lib/range/description.ts";
import { downRange } from "../../lib/range/down.ts";
import { GuestTaskError } from "../../lib/range/tasks.ts";
import { RangeOperationError } from "../../lib/range/types.ts";
import { upRange } from "../../lib/range/up.ts";
import { lab, requireLabNamespace } from "./_lab.ts";

function describe(name: string, tasks: unknown[]): Range {
  const l = lab();
  return validateRange({
    name,
    hosts: [{ id: "h1", uri: l.uri }],
    storage: { pool: l.imagePool.name },
    guests: [{
      id: "pc",
      type: "qemu",
      memory: 96,
      agent: true,
      diskMiB: 16,
      kernel: { kernel: l.guest.kernel, initrd: l.guest.initrd, cmdline: "console=ttyS0 quiet loglevel=3" },
      tasks,
    }],
  });
}

/** crypt(3) on this host: python3's crypt module (deprecated, present in Debian 12's 3.11). */
async function crypt(password: string, salt: string): Promise<string> {
  const out = await new Deno.Command("python3", {
    args: [
      "-W",
      "ignore",
      "-c",
      "import crypt,sys; print(crypt.crypt(sys.argv[1], sys.argv[2]))",
      password,
      salt,
    ],
    stdout: "piped",
  }).output();
  assert.ok(out.success, "python3 crypt");
  return new TextDecoder().decode(out.stdout).trim();
}

async function passwordWorks(shadow: string, account: string, password: string): Promise<boolean> {
  const hash = shadow.split("\n").find((l) => l.startsWith(`${account}:`))?.split(":")[1];
  assert.ok(hash && hash.startsWith("$"), `${account} has a crypt hash in /etc/shadow: ${hash}`);
  const salt = hash.slice(0, hash.lastIndexOf("$"));
  return await crypt(password, salt) === hash;
}

/** The files the copy and program tasks use, in `src`: a kit (a flag file, a setup script) and a motd. */
async function writeKit(src: string): Promise<void> {
  await Deno.mkdir(`${src}/kit/bin`, { recursive: true });
  await Deno.writeTextFile(`${src}/kit/flag.txt`, "flag{tasks}\n", { mode: 0o600 });
  await Deno.chmod(`${src}/kit/flag.txt`, 0o600);
  await Deno.writeTextFile(`${src}/kit/bin/setup.sh`, 'echo "setup ran with $# args: $*"\nid -u daniel\n');
  await Deno.chmod(`${src}/kit/bin/setup.sh`, 0o755);
  await Deno.writeTextFile(`${src}/motd`, "welcome trainee\n");
}

/** Inside the range's guest, through its agent: the accounts' passwords verify, the renamed account is
 * gone under its old name, and the copied files have their content and mode. */
async function checkInGuest(pools: PoolRegistry, range: Range): Promise<void> {
  await pools.get(range.guests[0].uri).use(async (conn) => {
    using dom = await lookupDomain(conn, range.guests[0].name);
    const shadow = new TextDecoder().decode(await guestFileRead(dom, "/etc/shadow"));
    assert.ok(await passwordWorks(shadow, "daniel", "theAnswer"), "daniel's password");
    assert.ok(!(await passwordWorks(shadow, "daniel", "wrong")), "a wrong password does not verify");
    assert.ok(await passwordWorks(shadow, "root", "r00t-pw"), "root's new password");
    assert.ok(await passwordWorks(shadow, "newuser", "second pass"), "the renamed account's password");
    const passwd = new TextDecoder().decode(await guestFileRead(dom, "/etc/passwd"));
    assert.match(passwd, /^daniel:x:\d+:\d+:Daniel R:\/home\/daniel:\/bin\/sh$/m);
    assert.doesNotMatch(passwd, /^olduser:/m);
    const files = await guestExec(dom, "/bin/sh", [
      "-c",
      'for f in /opt/kit/flag.txt /opt/kit/bin/setup.sh /etc/issue.d/motd; do echo "$(stat -c %a "$f") $(cat "$f" | head -1)"; done',
    ]);
    assert.equal(files.exitCode, 0, files.stderr);
    assert.deepEqual(files.stdout.trim().split("\n"), [
      "600 flag{tasks}",
      '755 echo "setup ran with $# args: $*"',
      "640 welcome trainee",
    ]);
  });
}

Deno.test("lab: guest tasks create accounts, copy files, run programs; a second up keeps them", async () => {
  await requireLabNamespace();
  const name = `c1t${crypto.randomUUID().slice(0, 5)}`;
  const src = await Deno.makeTempDir({ prefix: "c1-cyris-" });
  const pools = new PoolRegistry({ max: 2, acquireTimeoutMs: 600_000 });
  try {
    await writeKit(src);
    const range = describe(name, [
      { type: "addAccount", account: "daniel", password: "theAnswer", fullName: "Daniel R" },
      { type: "modifyAccount", account: "root", newPassword: "r00t-pw" },
      { type: "addAccount", account: "olduser", password: "first" },
      { type: "modifyAccount", account: "olduser", newAccount: "newuser", newPassword: "second pass" },
      { type: "copyContent", src: `${src}/kit`, dst: "/opt" },
      { type: "copyContent", src: `${src}/motd`, dst: "/etc/issue.d", mode: "0640" },
      {
        type: "executeProgram",
        program: "/opt/kit/bin/setup.sh",
        interpreter: "sh",
        args: "one 'two words'",
      },
      { type: "installPackage", name: "nmap" },
    ]);
    const first = await upRange(range, pools, { waitForAddresses: false, agentTimeoutMs: 180_000 });
    const byIndex = first.tasks.map((r) => `${r.index} ${r.status}`);
    assert.deepEqual(byIndex, [
      "0 done",
      "1 done",
      "2 done",
      "3 done",
      "4 done",
      "5 done",
      "6 done",
      "7 skipped",
    ], JSON.stringify(first.tasks, null, 1));
    assert.match(first.tasks[6].output!, /setup ran with 2 args: one two words\n1000/);
    assert.equal(first.tasks[6].exitCode, 0);
    assert.match(first.tasks[7].reason!, /no package manager \(looked for apt-get, dnf, yum, apk, zypper/);
    console.log(`tasks: ${first.timingsMs.tasks} ms for ${first.tasks.length} tasks`);

    await checkInGuest(pools, range);

    const second = await upRange(range, pools, { waitForAddresses: false });
    assert.deepEqual(second.created, []);
    assert.deepEqual(
      second.tasks.map((r) => `${r.index} ${r.status}`),
      ["0 kept", "1 kept", "2 kept", "3 kept", "4 kept", "5 kept", "6 kept", "7 skipped"],
      JSON.stringify(second.tasks, null, 1),
    );
    assert.match(second.tasks[0].reason!, /exists with this password/);
    assert.match(second.tasks[3].reason!, /already renamed to newuser, the password is set already/);
    console.log(`second up: tasks ${second.timingsMs.tasks} ms, whole up ${second.tookMs} ms`);
    assert.match(second.tasks[6].reason!, /earlier up/);
  } finally {
    await downRange(describe(name, []), pools).catch(() => {});
    await pools.closeAll();
    await Deno.remove(src, { recursive: true }).catch(() => {});
  }
});

Deno.test("lab: a failing program is a GuestTaskError naming guest, task and output", async () => {
  await requireLabNamespace();
  const name = `c1f${crypto.randomUUID().slice(0, 5)}`;
  const pools = new PoolRegistry({ max: 2, acquireTimeoutMs: 600_000 });
  const range = describe(name, [
    { type: "addAccount", account: "eve", password: "x" },
    { type: "executeProgram", program: "/bin/sh", args: "-c 'echo half-way; echo broken >&2; exit 7'" },
    { type: "addAccount", account: "never", password: "y" },
  ]);
  try {
    const error = await upRange(range, pools, { waitForAddresses: false, agentTimeoutMs: 180_000 }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(error instanceof RangeOperationError, String(error));
    const cause = error.errors[0];
    assert.ok(cause instanceof GuestTaskError, String(cause));
    assert.equal(cause.guest, `${name}-pc-1`);
    assert.equal(cause.index, 1);
    assert.equal(cause.exitCode, 7);
    assert.match(cause.output, /half-way\nbroken/);
    assert.match(
      error.message,
      /task 2 \(executeProgram \/bin\/sh -c .*\) on guest "c1f.*-pc-1".*exit code 7/s,
    );
    assert.ok(error.notDone.includes(`tasks of "${name}-pc-1"`));
    await pools.get(range.guests[0].uri).use(async (conn) => {
      using dom = await lookupDomain(conn, range.guests[0].name);
      const ids = await guestExec(dom, "/bin/sh", ["-c", "id -u eve; id -u never"]);
      assert.match(ids.stdout, /^\d+\n$/, "eve exists, the task after the failure did not run");
    });
  } finally {
    await downRange(range, pools).catch(() => {});
    await pools.closeAll();
  }
});

Deno.test("lab: a CyRIS description's tasks are carried out by range up", async () => {
  await requireLabNamespace();
  const l = lab();
  const id = Math.floor(Math.random() * 90_000) + 10_000;
  const src = await Deno.makeTempDir({ prefix: "c1-cyris-" });
  await Deno.writeTextFile(`${src}/flag.txt`, "flag{cyris}\n");
  const cyris = `
- host_settings:
  - id: host_1
    mgmt_addr: localhost
    virbr_addr: 192.168.122.1
    account: cyuser
- guest_settings:
  - id: desktop
    basevm_host: host_1
    basevm_config_file: /images/desktop.xml
    basevm_type: kvm
    tasks:
    - add_account:
      - account: daniel
        passwd: theAnswer
    - modify_account:
      - account: daniel
        new_account: trainee
        new_passwd: trainee-pw
    - copy_content:
      - src: ${src}/flag.txt
        dst: /root
    - execute_program:
      - program: /bin/cat
        args: /root/flag.txt
    - install_package:
      - package_manager: yum
        name: nmap
- clone_settings:
  - range_id: ${id}
    hosts:
    - host_id: host_1
      instance_number: 1
      guests:
      - guest_id: desktop
        number: 1
        entry_point: yes
`;
  const translated = cyrisToRange(cyris, { uris: { host_1: l.uri }, pool: l.imagePool.name, memoryMiB: 96 });
  // the lab boots its guests from a kernel, not from the base image CyRIS names
  const description = structuredClone(translated.description);
  description.baseImages = [];
  for (const g of description.guests) {
    delete g.baseImage;
    Object.assign(g, {
      type: "qemu",
      diskMiB: 16,
      kernel: { kernel: l.guest.kernel, initrd: l.guest.initrd, cmdline: "console=ttyS0 quiet loglevel=3" },
    });
  }
  const range = validateRange(description);
  const pools = new PoolRegistry({ max: 2, acquireTimeoutMs: 600_000 });
  try {
    const up = await upRange(range, pools, { waitForAddresses: false, agentTimeoutMs: 180_000 });
    assert.deepEqual(up.tasks.map((t) => `${t.task}: ${t.status}`), [
      "addAccount daniel: done",
      "modifyAccount daniel -> trainee (new password): done",
      `copyContent ${src}/flag.txt -> /root: done`,
      "executeProgram /bin/cat /root/flag.txt: done",
      "installPackage nmap: skipped",
    ]);
    assert.equal(up.tasks[3].output, "flag{cyris}");
    await pools.get(range.guests[0].uri).use(async (conn) => {
      using dom = await lookupDomain(conn, range.guests[0].name);
      const shadow = new TextDecoder().decode(await guestFileRead(dom, "/etc/shadow"));
      assert.ok(await passwordWorks(shadow, "trainee", "trainee-pw"));
    });
  } finally {
    await downRange(range, pools).catch(() => {});
    await pools.closeAll();
    await Deno.remove(src, { recursive: true }).catch(() => {});
  }
});
