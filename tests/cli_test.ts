// The scripts' shared preamble (scripts/_cli.ts), run as users run the scripts: child processes with
// the README's permission flags. Each case checks stdout, stderr and the exit code.
import assert from "node:assert/strict";
import { denoChildArgs, REPO_ROOT, runDeno } from "./_helpers.ts";

const vmIp = `${REPO_ROOT}scripts/vm_ip.ts`;
const range = `${REPO_ROOT}scripts/range.ts`;
const demo = `${REPO_ROOT}examples/range_test_driver.yaml`;

Deno.test("cli: a bad --exclude is one usage error, up front, as JSON with --json", async () => {
  const text = await runDeno(denoChildArgs("run", "--allow-ffi", vmIp, "--all", "--exclude", "10.0.0/99"));
  assert.equal(text.code, 2);
  assert.equal(text.stderr.match(/--exclude "10\.0\.0\/99"/g)?.length, 1, text.stderr);
  assert.match(text.stderr, /usage: vm_ip\.ts/);
  const json = await runDeno(
    denoChildArgs("run", "--allow-ffi", vmIp, "--all", "--exclude", "10.0.0/99", "--json"),
  );
  assert.equal(json.code, 2);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.error.name, "UsageError");
  assert.match(doc.error.message, /--exclude/);
  assert.doesNotMatch(json.stderr, /usage:/);
});

Deno.test("cli: a parse error is JSON too when --json is among the arguments", async () => {
  const r = await runDeno(denoChildArgs("run", "--allow-ffi", vmIp, "--json", "--bogus"));
  assert.equal(r.code, 2);
  assert.equal(JSON.parse(r.stdout).error.message, "Unknown option '--bogus'");
});

Deno.test("cli: failures that are not usage errors come without the usage text", async () => {
  const r = await runDeno(
    denoChildArgs("run", "--allow-ffi", vmIp, "--all", "--uri", "qemu+tcp://127.0.0.1:1/system"),
  );
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stderr + r.stdout, /usage:/);
});

Deno.test("cli: vm_ip takes LIBVIRT_DEFAULT_URI the way libvirt does, and says which URI it used", async () => {
  const env = { LIBVIRT_DEFAULT_URI: "test:///default" };
  const granted = await runDeno(
    denoChildArgs("run", "--allow-ffi", "--allow-env=DENO_LIBVIRT_PATH,LIBVIRT_DEFAULT_URI", vmIp, "test"),
    { env },
  );
  assert.equal(granted.code, 0, granted.stderr);
  assert.match(granted.stderr, /using test:\/\/\/default \(from LIBVIRT_DEFAULT_URI\)/);
  assert.match(granted.stdout, /test\s+test:\/\/\/default/);
  // --uri wins over the variable, and is not announced (the user said it).
  const explicit = await runDeno(
    denoChildArgs("run", "--allow-ffi", "--allow-env", vmIp, "test", "--uri", "test:///default"),
    { env: { LIBVIRT_DEFAULT_URI: "qemu+tcp://127.0.0.1:1/system" } },
  );
  assert.equal(explicit.code, 0, explicit.stderr);
  assert.doesNotMatch(explicit.stderr, /using/);
  // Without --allow-env the script cannot read the variable, but libvirt can: asked for its default
  // (as virsh without -c), libvirt reads it itself; no prompt, and the script names what it reached.
  const byLibvirt = await runDeno(denoChildArgs("run", "--no-prompt", "--allow-ffi", vmIp, "test"), { env });
  assert.equal(byLibvirt.code, 0, byLibvirt.stderr);
  assert.match(byLibvirt.stderr, /using test:\/\/\/default \(no --uri: libvirt's default/);
  assert.match(byLibvirt.stdout, /test\s+test:\/\/\/default/);
  // libvirt's default that does not open: exit 2, saying what to pass
  const none = await runDeno(denoChildArgs("run", "--no-prompt", "--allow-ffi", vmIp, "test"), {
    env: { LIBVIRT_DEFAULT_URI: "nosuchdriver:///x" },
  });
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /no --uri, and libvirt's default did not open \(.+\): pass --uri URI/);
});

Deno.test("cli: vm_ip says once that test:/// starts fresh in every process, when a domain is not found there", async () => {
  const missing = await runDeno(
    denoChildArgs("run", "--no-prompt", "--allow-ffi", vmIp, "web-1", "web-2", "--uri", "test:///default"),
  );
  assert.equal(missing.code, 2, missing.stderr);
  assert.equal(missing.stderr.match(/in-process test driver: it starts fresh in every process/g)?.length, 1);
  const found = await runDeno(
    denoChildArgs("run", "--no-prompt", "--allow-ffi", vmIp, "test", "--uri", "test:///default"),
  );
  assert.equal(found.code, 0, found.stderr);
  assert.doesNotMatch(found.stderr, /in-process/);
});

Deno.test("cli: range.ts answers --json with JSON, description errors included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = `${dir}/bad.yaml`;
    await Deno.writeTextFile(bad, "name: x\nhosts: []\n");
    const r = await runDeno(
      denoChildArgs("run", "--allow-ffi", "--allow-read", range, "status", bad, "--json"),
    );
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.error.name, "RangeDescriptionError");
    assert.ok(doc.error.issues.some((i: { path: string }) => i.path === "hosts"), r.stdout);
    assert.equal(r.stderr, "");
    const missing = await runDeno(
      denoChildArgs("run", "--allow-ffi", "--allow-read", range, "status", `${dir}/nope.yaml`, "--json"),
    );
    assert.equal(missing.code, 2);
    assert.match(JSON.parse(missing.stdout).error.message, /cannot read/);
    const command = await runDeno(
      denoChildArgs("run", "--allow-ffi", "--allow-read", range, "statu", bad, "--json"),
    );
    assert.equal(command.code, 2);
    assert.equal(JSON.parse(command.stdout).error.name, "UsageError");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: range.ts says that test:/// state does not outlive a command", async () => {
  const status = await runDeno(denoChildArgs("run", "--allow-ffi", "--allow-read", range, "status", demo));
  assert.match(status.stderr, /test:\/\/\/default is libvirt's in-process test driver/);
  assert.match(status.stderr, /test\+unix:\/\/\/default/);
  const plan = await runDeno(denoChildArgs("run", "--allow-ffi", "--allow-read", range, "plan", demo));
  assert.equal(plan.code, 0, plan.stderr);
  assert.doesNotMatch(plan.stderr, /in-process test driver/);
});

const demoScript = `${REPO_ROOT}scripts/demo.ts`;
const rangeDemo = `${REPO_ROOT}scripts/range_demo.ts`;

Deno.test("cli: demo.ts and range_demo.ts share the preamble: --help, usage errors naming the argument, --json", async () => {
  const flags = ["--allow-ffi", "--allow-env=DENO_LIBVIRT_PATH", "--allow-read"];
  for (const script of [demoScript, rangeDemo]) {
    const name = script.split("/").pop()!;
    const help = await runDeno(denoChildArgs("run", ...flags, script, "--help"));
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^usage: ${name.replace(".", "\\.")}`));
    const bogus = await runDeno(denoChildArgs("run", ...flags, script, "--bogus"));
    assert.equal(bogus.code, 2, bogus.stderr);
    assert.match(bogus.stderr, /Unknown option '--bogus'/);
    assert.match(bogus.stderr, /usage: /);
    assert.doesNotMatch(bogus.stderr, /TypeError|Uncaught/);
    const json = await runDeno(denoChildArgs("run", ...flags, script, "--bogus", "--json"));
    assert.equal(json.code, 2);
    assert.deepEqual(JSON.parse(json.stdout).error, {
      name: "UsageError",
      message: "Unknown option '--bogus'",
    });
  }
  // range_demo: at most one description; a file it cannot read is an error of its own, JSON with --json
  const two = await runDeno(denoChildArgs("run", ...flags, rangeDemo, "a.yaml", "b.yaml", "--json"));
  assert.equal(two.code, 2);
  assert.match(JSON.parse(two.stdout).error.message, /unexpected "b\.yaml"/);
  const missing = await runDeno(denoChildArgs("run", ...flags, rangeDemo, "/nonexistent/r.yaml", "--json"));
  assert.equal(missing.code, 2);
  assert.match(JSON.parse(missing.stdout).error.message, /cannot read "\/nonexistent\/r\.yaml"/);
  // demo: a failure after a good command line comes without the usage text, as JSON with --json
  const down = await runDeno(
    denoChildArgs("run", ...flags, demoScript, "--uri", "qemu+tcp://127.0.0.1:1/system", "--json"),
  );
  assert.equal(down.code, 1);
  assert.equal(JSON.parse(down.stdout).error.name, "LibvirtError");
  const ok = await runDeno(denoChildArgs("run", ...flags, demoScript, "--json"));
  assert.equal(ok.code, 0, ok.stderr);
  const doc = JSON.parse(ok.stdout);
  assert.equal(doc.uri, "test:///default");
  assert.equal(doc.remainingReferences, 0);
});

Deno.test("cli: range.ts rejects an option its command does not take, naming the commands that take it", async () => {
  const flags = ["--allow-ffi", "--allow-read"];
  const r = await runDeno(denoChildArgs("run", ...flags, range, "down", demo, "--to", "h2"));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /down takes no --to \(only migrate takes it\)/);
  assert.match(r.stderr, /usage: range\.ts/);
  const json = await runDeno(
    denoChildArgs("run", ...flags, range, "status", demo, "--format", "ini", "--json"),
  );
  assert.equal(json.code, 2);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.error.name, "UsageError");
  assert.match(doc.error.message, /status takes no --format \(only the commands inventory, graph take it\)/);
  // options every command takes stay accepted
  const plan = await runDeno(
    denoChildArgs("run", ...flags, range, "plan", demo, "--timeout", "5", "--concurrency", "2"),
  );
  assert.equal(plan.code, 0, plan.stderr);
});

Deno.test("cli: range.ts reports a failed operation in the shared error shape, done and notDone beside it", async () => {
  // a fresh test:/// process has none of the guests: every revert fails, a RangeOperationError
  const r = await runDeno(
    denoChildArgs("run", "--allow-ffi", "--allow-read", range, "reset", demo, "--json"),
  );
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.error.name, "RangeOperationError");
  assert.match(doc.error.message, /^Cannot reset range "demo"/);
  assert.deepEqual(doc.done, []);
  assert.equal(doc.notDone.length, 24);
});

Deno.test("cli: vm_ip --help prints the usage without loading libvirt (as before its bundle)", async () => {
  // glibc's dynamic linker names every library it maps when LD_DEBUG=files: libvirt must not be one
  const r = await runDeno(denoChildArgs("run", "--allow-ffi", vmIp, "--help"), {
    env: { LD_DEBUG: "files" },
  });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /usage: vm_ip\.ts/);
  assert.match(r.stderr, /file=/, "LD_DEBUG=files printed nothing: not glibc's dynamic linker?");
  assert.doesNotMatch(r.stderr, /file=\S*libvirt\.so/);
});
