// The worked examples in examples/ (issue 12) run as a user runs them: a child `deno run` with the
// README's flag (`--allow-ffi` only), through the package's public paths. Each must exit 0, print its
// key lines and nothing on stderr, so that an API change that breaks an example fails here.
// streams.ts needs a real libvirtd (the test driver has no volume streams): its transfer runs only
// inside the integration lab's namespace, e.g.
//   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec deno test --allow-all tests/examples_test.ts
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Connection, createDomain, destroyDomain, isNotFound, lookupStoragePool } from "../mod.ts";
import { denoChildArgs, REPO_ROOT, runDeno } from "./_helpers.ts";
import { currentNamespace, guestXml, lab, labUp, randomMac } from "./integration/_lab.ts";

async function runExample(file: string, ...args: string[]): Promise<string> {
  const path = `${REPO_ROOT}examples/${file}`;
  const { code, stdout, stderr } = await runDeno(denoChildArgs("run", "--allow-ffi", path, ...args));
  assert.equal(code, 0, `${file} exited ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  assert.equal(stderr, "", `${file} printed on stderr:\n${stderr}`);
  return stdout;
}

function expectLines(file: string, stdout: string, expected: (string | RegExp)[]): void {
  for (const line of expected) {
    const found = typeof line === "string" ? stdout.includes(line) : line.test(stdout);
    assert.ok(found, `${file} did not print ${line}; it printed:\n${stdout}`);
  }
}

Deno.test("examples/range_lifecycle.ts: plan, up, status, inventories, snapshot, reset, down, nothing left", async () => {
  const out = await runExample("range_lifecycle.ts");
  expectLines("range_lifecycle.ts", out, [
    "plan: 7 to create, 1 to keep, 0 conflicts",
    /\[domain\] created ex-web-1 \(\d\/3, \d+ ms\)/,
    /^up: 7 things created, 3 guests started in \d+ ms$/m,
    "status: 3/3 running",
    /^ {2}ex-db-1 +running +\d+\.\d+\.\d+\.\d+ \(confidence [\d.]+\)$/m,
    "inventory (JSON): groups of the range: web, db, databases, net_ex_lan, host_local",
    '"_meta": {',
    /^\[web\]\nex-web-1 ansible_host=/m,
    /^\[ex:children\]$/m,
    'snapshot "clean": 3 guests',
    "reset: 3 guests reverted",
    /^down: 7 things removed in \d+ ms$/m,
    "left behind: nothing (a new plan would create all 7 objects again)",
  ]);
});

Deno.test("examples/range_lifecycle.ts: Ctrl-C during up aborts, and down still leaves nothing", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: denoChildArgs("run", "--allow-ffi", `${REPO_ROOT}examples/range_lifecycle.ts`),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let out = "";
  let interrupted = false;
  for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
    out += text;
    // the first thing up made exists: interrupt it as a user at the terminal would
    if (!interrupted && out.includes("[network] created ex-lan")) {
      child.kill("SIGINT");
      interrupted = true;
    }
  }
  const { code } = await child.status;
  const err = await stderr;
  assert.ok(interrupted, `up never reported its network:\n${out}\n${err}`);
  // the signal lands wherever the script is by then: during up (the usual case) or a later step
  if (code === 130) {
    assert.match(
      err,
      /failed part-way; made: \d+, not done: \d+\nerror: Cannot \w+ range "ex": .*interrupted \(Ctrl-C\)/,
    );
  } else {
    assert.equal(code, 0, `exit ${code}\n${out}\n${err}`);
  }
  assert.match(out, /^down: \d+ things removed in \d+ ms$/m);
  assert.match(out, /^left behind: nothing \(a new plan would create all 7 objects again\)$/m, out);
});

Deno.test("examples/events.ts: typed domain and network events, waitForState, streams closed", async () => {
  const out = await runExample("events.ts");
  const name = out.match(/^domain {2}(ex-events-[0-9a-f]{6}): defined \(added\)/m)?.[1];
  assert.ok(name, `no "defined (added)" event:\n${out}`);
  expectLines("events.ts", out, [
    `domain  ${name}: started (booted)`,
    `domain  ${name}: stopped (destroyed)`,
    `domain  ${name}: undefined (removed)`,
    `network ${name}-net: defined`,
    `network ${name}-net: started`,
    `network ${name}-net: stopped`,
    `network ${name}-net: undefined`,
    "waited: running",
    "waited: shutoff",
    "events: 4 domain, 4 network; streams closed",
  ]);
});

Deno.test("examples/cyris_import.ts: notes, YAML, the typo at the CyRIS line, tasks skipped with the reason", async () => {
  const out = await runExample("cyris_import.ts");
  // where the typo is in the CyRIS text: its first line is the rest of the line that opens it
  const source = (await Deno.readTextFile(`${REPO_ROOT}examples/cyris_import.ts`)).split("\n");
  const opening = source.findIndex((l) => l.startsWith("const CYRIS = `"));
  const typo = source.findIndex((l, i) => i > opening && l.includes("instance_number: 2"));
  assert.ok(opening >= 0 && typo > opening, "the example's CyRIS text changed: update this test");
  const column = source[typo].indexOf("instance_number") + 1;
  expectLines("cyris_import.ts", out, [
    /^notes \(\d+\):$/m,
    /virbr_addr "192\.168\.122\.1" is not used/,
    /entry_point "yes"/,
    /^translated range description:\nname: cyris42$/m,
    "  - name: cyris42-i2-servers",
    "guests: cyris42-i1-desktop-1, cyris42-i1-desktop-2, cyris42-i1-firewall-1, " +
    "cyris42-i2-desktop-1, cyris42-i2-desktop-2, cyris42-i2-firewall-1",
    `strict import: line ${typo - opening + 1}, column ${column}: ` +
    `[2].clone_settings[0].hosts[0].instance_numbr: unknown field: did you mean "instance_number"?`,
    /^up: \d+ things created, 6 guests started$/m,
    "task cyris42-i2-desktop-2 #0 addAccount daniel skipped: the test driver has no guest agent",
    /^down: \d+ things removed$/m,
  ]);
  // 4 desktops x 3 tasks, each reported; the firewalls have none
  assert.equal(out.match(/^ {2}task .* skipped: /gm)?.length, 12, out);
  const created = Number(out.match(/^up: (\d+) things created/m)![1]);
  assert.equal(Number(out.match(/^down: (\d+) things removed/m)![1]), created, "down removed what up made");
});

Deno.test("examples/stats.ts: CPU, memory, block and network numbers of the running test domains", async () => {
  const out = await runExample("stats.ts");
  expectLines("stats.ts", out, [
    "test: running (unknown)",
    /^ex-stats-[0-9a-f]{6}: running \(booted\)$/m,
    /^ {2}groups: state \(2 parameters\)$/m,
    /^ {2}cpu: [\d.]+ s on 2 vCPU\(s\) \(virDomainGetInfo\)$/m,
    "  memory: 256 MiB of 256 MiB (virDomainGetInfo)",
    /^ {2}block vda: \d+ reads \(\d+ bytes\), \d+ writes \(\d+ bytes\) \(virDomainBlockStats\)$/m,
    /^ {2}net 52:54:00:7e:00:01: rx \d+ bytes \(\d+ packets\), tx \d+ bytes \(virDomainInterfaceStats\)$/m,
    // libvirt lists the domains in no fixed order
    /^one domain \(domainStats\): (test|ex-stats-[0-9a-f]{6}) state running$/m,
    "2 running domains",
  ]);
});

Deno.test("examples/streams.ts on test:///default: libvirt's NotSupportedError, said plainly", async () => {
  const out = await runExample("streams.ts", "test:///default", "itest-examples");
  expectLines("streams.ts", out, [
    /^the test driver has no volume streams: .*not supported by the connection driver: virStorageVolUpload$/m,
  ]);
});

const inLab = labUp() && await currentNamespace() === lab().netns;
if (!inLab) {
  console.log(
    "examples_test: skipping the streams.ts transfer on qemu:///system: it needs the integration lab " +
      '(run "flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec deno test --allow-all tests/examples_test.ts")',
  );
}

Deno.test({
  name:
    "examples/streams.ts on the lab's qemu:///system: sparse upload, download, same SHA-256, nothing left",
  ignore: !inLab,
  async fn() {
    const out = await runExample("streams.ts", lab().uri, "itest-examples");
    expectLines("streams.ts", out, [
      "upload: 100% (16.0 MiB)",
      /^uploaded 16 MiB in \d+ ms: 4 MiB data, 12 MiB holes$/m,
      "download: 100% (16.0 MiB)",
      /^downloaded 16 MiB in \d+ ms$/m,
      /^sha256 match: [0-9a-f]{64}$/m,
    ]);
    const [, name, dir] = out.match(/^pool (itest-examples-streams-[0-9a-f]{6}) at (\S+)$/m) ?? [];
    assert.ok(name, out);
    assert.match(out, new RegExp(`^removed pool ${name}$`, "m"));
    assert.ok(!existsSync(dir), `${dir} was left behind`);
    await using conn = await Connection.open(lab().uri);
    await assert.rejects(() => lookupStoragePool(conn, name), (e: unknown) => isNotFound(e));
  },
});

Deno.test({
  name: "examples/stats.ts on the lab's qemu:///system: a running QEMU guest's numbers from the bulk call",
  ignore: !inLab,
  async fn() {
    const name = `itest-examples-stats-${crypto.randomUUID().slice(0, 6)}`;
    await using conn = await Connection.open(lab().uri);
    using dom = await createDomain(conn, await guestXml(name, randomMac(), lab().networks.nat.name));
    try {
      const out = await runExample("stats.ts", lab().uri);
      expectLines("stats.ts", out, [
        `${name}: running (booted)`,
        /^ {2}groups: state, cpu, balloon, vcpu, interface/m,
        /^ {2}cpu: [\d.]+ s \(user [\d.]+ s\)$/m,
        /^ {2}memory: \d+ MiB of \d+ MiB$/m,
        "  block: no disks", // the lab guest boots a kernel and an initrd
        /^ {2}net \S+: rx \d+ bytes \(\d+ packets\), tx \d+ bytes$/m,
        /^\d+ running domains$/m,
      ]);
      assert.doesNotMatch(
        out,
        /virDomainGetInfo|virDomainInterfaceStats/,
        "QEMU's bulk call has these groups",
      );
    } finally {
      await destroyDomain(dom); // transient: gone with the destroy
    }
  },
});
