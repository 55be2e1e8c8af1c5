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
  // Without --allow-env the variable is unreadable: no prompt, and the script says how to honour it.
  const unreadable = await runDeno(
    denoChildArgs("run", "--allow-ffi", vmIp, "nosuch-domain"),
    { env },
  );
  assert.match(
    unreadable.stderr,
    /no LIBVIRT_DEFAULT_URI readable: run with --allow-env=LIBVIRT_DEFAULT_URI/,
  );
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
