// Users import the library by URL, where deno.json's import map does not apply. Serve this checkout
// over HTTP on loopback and run scripts from a folder outside it, with no config file.
import assert from "node:assert/strict";
import { extname, join, normalize } from "node:path";
import { DENO_LOCK, REPO_ROOT, runDeno } from "./_helpers.ts";

const types: Record<string, string> = {
  ".ts": "application/typescript",
  ".js": "application/javascript", // the generated modules' runtime twins (lib/objects/_generated/*.js)
  ".json": "application/json",
};

async function withServedRepo(run: (base: string) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    async (req) => {
      const path = normalize(decodeURIComponent(new URL(req.url).pathname));
      try {
        const body = await Deno.readFile(join(REPO_ROOT, path));
        return new Response(body, { headers: { "content-type": types[extname(path)] ?? "text/plain" } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  try {
    await run(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    controller.abort();
    await server.finished;
  }
}

Deno.test("mod.ts imported over HTTP from outside the repository opens libvirt and exits", async () => {
  await withServedRepo(async (base) => {
    const dir = await Deno.makeTempDir({ prefix: "deno_libvirt_url_" });
    await Deno.copyFile(DENO_LOCK, join(dir, "deno.lock"));
    try {
      await Deno.writeTextFile(
        join(dir, "user_script.ts"),
        `import { ConnectionPool, listAllDomains } from "${base}/mod.ts";
await using pool = new ConnectionPool("test:///default");
const names = await pool.use(async (c) => (await listAllDomains(c)).map((d) => (d.free(), d.name)));
console.log(JSON.stringify(names));
`,
      );
      const host = new URL(base).host;
      const { code, stdout, stderr } = await runDeno(
        [
          "run",
          "--no-config",
          // a copy of the project's lockfile pins the npm packages .ci/run cached (the served modules
          // are recorded in the copy, not in deno.lock); without it, resolving them needs the registry
          `--lock=${join(dir, "deno.lock")}`,
          `--reload=${base}`,
          `--allow-import=${host}`,
          `--allow-read`,
          "--allow-ffi",
          "user_script.ts",
        ],
        { cwd: dir },
      );
      assert.equal(code, 0, stderr);
      assert.equal(stdout.trim(), '["test"]');
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("scripts/demo.ts runs by URL", async () => {
  await withServedRepo(async (base) => {
    const dir = await Deno.makeTempDir({ prefix: "deno_libvirt_url_" });
    await Deno.copyFile(DENO_LOCK, join(dir, "deno.lock"));
    try {
      const host = new URL(base).host;
      const { code, stdout, stderr } = await runDeno(
        [
          "run",
          "--no-config",
          // a copy of the project's lockfile pins the npm packages .ci/run cached (the served modules
          // are recorded in the copy, not in deno.lock); without it, resolving them needs the registry
          `--lock=${join(dir, "deno.lock")}`,
          `--reload=${base}`,
          `--allow-import=${host}`,
          "--allow-read",
          "--allow-ffi",
          `${base}/scripts/demo.ts`,
        ],
        { cwd: dir },
      );
      assert.equal(code, 0, stderr);
      assert.match(stdout, /test:\/\/\/default: TEST hypervisor/);
      assert.match(stdout, /0 libvirt references left/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("scripts/range_demo.ts runs by URL: its description travels with it, no file read", async () => {
  await withServedRepo(async (base) => {
    const dir = await Deno.makeTempDir({ prefix: "deno_libvirt_url_" });
    await Deno.copyFile(DENO_LOCK, join(dir, "deno.lock"));
    try {
      const host = new URL(base).host;
      const { code, stdout, stderr } = await runDeno(
        [
          "run",
          "--no-config",
          `--lock=${join(dir, "deno.lock")}`,
          `--reload=${base}`,
          `--allow-import=${host}`,
          "--allow-ffi", // and nothing else: no --allow-read, no examples/ beside the working directory
          `${base}/scripts/range_demo.ts`,
        ],
        { cwd: dir },
      );
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^up: 24 guests/m);
      assert.match(stdout, /^down: \d+ things removed/m);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

/** Runs `script` (a path in the repository) by URL from an empty folder, with no config file. */
async function runByUrl(
  script: string,
  flags: string[],
  args: string[],
  setup?: (dir: string) => Promise<void>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let result: { code: number; stdout: string; stderr: string } | undefined;
  await withServedRepo(async (base) => {
    const dir = await Deno.makeTempDir({ prefix: "deno_libvirt_url_" });
    await Deno.copyFile(DENO_LOCK, join(dir, "deno.lock"));
    try {
      await setup?.(dir);
      result = await runDeno(
        [
          "run",
          "--no-config",
          `--lock=${join(dir, "deno.lock")}`,
          `--reload=${base}`,
          `--allow-import=${new URL(base).host}`,
          ...flags,
          `${base}/${script}`,
          ...args,
        ],
        { cwd: dir },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  return result!;
}

Deno.test("scripts/vm_ip.ts runs by URL, with --allow-ffi alone", async () => {
  const { code, stdout, stderr } = await runByUrl("scripts/vm_ip.ts", ["--allow-ffi"], [
    "--uri",
    "test:///default",
    "test",
    "--json",
  ]);
  assert.equal(code, 0, stderr);
  const doc = JSON.parse(stdout);
  assert.match(JSON.stringify(doc), /192\.168\.122\.3/);
});

Deno.test("scripts/range.ts status runs by URL on a description in the working folder", async () => {
  const { code, stdout, stderr } = await runByUrl(
    "scripts/range.ts",
    ["--allow-ffi", "--allow-read"],
    ["status", "range.yaml", "--json"],
    (dir) => Deno.copyFile(join(REPO_ROOT, "examples/range_test_driver.yaml"), join(dir, "range.yaml")),
  );
  // a fresh test:/// process has none of the guests: each is absent, and status exits 1 for them
  assert.equal(code, 1, stderr);
  const doc = JSON.parse(stdout);
  assert.equal(doc.range, "demo");
  assert.equal(doc.guests.length, 24);
  assert.ok(doc.guests.every((g: { state: string }) => g.state === "absent"), stdout);
});
