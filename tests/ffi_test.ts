// The FFI layer's process-wide behaviour: loading, the library path override, permissions, silence.
// Loading happens once per process, so each case runs in a subprocess of its own.
import assert from "node:assert/strict";
import { cString } from "../lib/ffi/c.ts";
import { formatVersion, libvirt, MINIMUM_LIBVIRT_VERSION } from "../lib/ffi/library.ts";
import { childEnv, denoChildArgs, runDeno } from "./_helpers.ts";

const fixture = new URL("./fixtures/open_default.ts", import.meta.url).pathname;
const baseEnv = {
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  HOME: Deno.env.get("HOME") ?? "/root",
  NO_COLOR: "1",
};

Deno.test("libvirt() loads libvirt.so.0 once and checks its version", () => {
  const first = libvirt();
  assert.equal(libvirt(), first);
  assert.ok(first.version >= MINIMUM_LIBVIRT_VERSION);
  assert.equal(formatVersion(9_000_000), "9.0.0");
  assert.equal(formatVersion(10_002_013), "10.2.13");
});

Deno.test("cString refuses strings with a NUL that C would truncate", () => {
  assert.deepEqual([...cString("ab")], [97, 98, 0]);
  assert.throws(
    () => cString("web1\0; rm", "domain name"),
    /Cannot pass domain name "web1\\u0000; rm" to libvirt: it contains a NUL character/,
  );
});

Deno.test("a bad DENO_LIBVIRT_PATH is a clear LibvirtLoadError naming the path and the fix", async () => {
  const { code, stdout, stderr } = await runDeno(
    denoChildArgs(
      "run",
      "--allow-ffi",
      "--allow-env",
      "--allow-read",
      fixture,
    ),
    {
      env: { ...baseEnv, DENO_LIBVIRT_PATH: "/nonexistent/libvirt.so.0" },
      clearEnv: true,
    },
  );
  assert.equal(code, 0, stderr);
  assert.match(
    stdout,
    /^LibvirtLoadError: Cannot load libvirt: tried \/nonexistent\/libvirt\.so\.0 \(from DENO_LIBVIRT_PATH\): .*; check DENO_LIBVIRT_PATH/,
  );
  assert.equal(stderr, "");
});

Deno.test("a library that is not libvirt is refused with the same clear error", async () => {
  const { stdout, stderr } = await runDeno(
    denoChildArgs("run", "--allow-ffi", "--allow-env", "--allow-read", fixture),
    {
      env: { ...baseEnv, DENO_LIBVIRT_PATH: "libz.so.1" },
      clearEnv: true,
    },
  );
  assert.match(
    stdout,
    /^LibvirtLoadError: Cannot load libvirt: tried libz\.so\.1 \(from DENO_LIBVIRT_PATH\): .*undefined symbol/,
  );
  assert.equal(stderr, "");
});

Deno.test("a library that is not libvirt does not stay mapped after its refused load, retried or not", async () => {
  const { code, stdout, stderr } = await runDeno(
    denoChildArgs(
      "run",
      "--allow-all", // /proc/self/maps: Deno reads nothing under /proc without it
      new URL("./fixtures/load_not_libvirt.ts", import.meta.url).pathname,
    ),
    { env: { ...baseEnv, DENO_LIBVIRT_PATH: "libgdbm.so.6" }, clearEnv: true },
  );
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), { outcomes: ["LibvirtLoadError", "LibvirtLoadError"], mapped: false });
});

Deno.test("an unloadable libvirt.so.0 names what was tried and the Debian package to install", async () => {
  // Hide the real library from the subprocess alone: a private mount namespace (root, as in CI)
  // with /dev/null bound over the file libvirt.so.0 resolves to.
  const real = await Deno.realPath("/usr/lib/x86_64-linux-gnu/libvirt.so.0");
  const deno = Deno.execPath();
  const output = await new Deno.Command("unshare", {
    args: [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `mount --bind /dev/null ${real} && exec "$0" "$@"`,
      deno,
      ...denoChildArgs("run", "--allow-ffi", "--allow-env", "--allow-read", fixture),
    ],
    env: childEnv(baseEnv),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assert.equal(new TextDecoder().decode(output.stderr), "");
  assert.match(
    stdout,
    /^LibvirtLoadError: Cannot load libvirt: tried libvirt\.so\.0: .*; install it with "apt-get install libvirt0" \(Debian\/Ubuntu\)/,
  );
});

Deno.test("without --allow-env the default library is used and no permission prompt appears", async () => {
  const { code, stdout, stderr } = await runDeno(
    denoChildArgs(
      "run",
      "--allow-ffi",
      "--allow-read",
      "--no-prompt",
      fixture,
    ),
    {
      env: { ...baseEnv, DENO_LIBVIRT_PATH: "/nonexistent/libvirt.so.0" },
      clearEnv: true,
    },
  );
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), "opened TEST", "the override is ignored when env access is not granted");
  assert.equal(stderr, "");
});

Deno.test("without --allow-ffi the permission error is Deno's own, untouched", async () => {
  const { code, stderr, stdout } = await runDeno(
    denoChildArgs("run", "--no-prompt", "--allow-read", fixture),
    {
      env: baseEnv,
      clearEnv: true,
    },
  );
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^(NotCapable|PermissionDenied): .*ffi/i);
});

Deno.test("failed opens print nothing: libvirt's and libxml2's stderr printers are silenced", async () => {
  for (const uri of ["bogus:///x", "test:///nonexistent-file.xml", "qemu+tcp://127.0.0.1:1/system"]) {
    const { stdout, stderr } = await runDeno(
      denoChildArgs(
        "run",
        "--allow-ffi",
        "--allow-env",
        "--allow-read",
        fixture,
        uri,
      ),
      {
        env: baseEnv,
        clearEnv: true,
      },
    );
    assert.match(stdout, /^LibvirtError: Cannot open connection to /, uri);
    assert.equal(stderr, "", `stderr for ${uri}`);
  }
});
