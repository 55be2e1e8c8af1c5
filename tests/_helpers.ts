// Shared test fixtures: the daemon URI, private test-driver node files, subprocess runs.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { DomainEvent } from "../mod.ts";

/** The test driver inside libvirtd (started by tests/integration/lab/lab.sh up, or by .ci/run). */
export const DAEMON_URI = "test+unix:///default";
export const DAEMON_SOCKET = "/run/libvirt/libvirt-sock";
export const REPO_ROOT = new URL("../", import.meta.url).pathname;
export const LAB_SCRIPT = `${REPO_ROOT}tests/integration/lab/lab.sh`;

/** Throws a clear error when libvirtd is not running, instead of letting every test fail obscurely. */
export function requireDaemon(): void {
  if (!existsSync(DAEMON_SOCKET)) {
    throw new Error(
      `Cannot run this test: libvirtd is not listening on ${DAEMON_SOCKET}; start it with "${LAB_SCRIPT} up" (as root)`,
    );
  }
}

/** Domain XML for the test driver. */
export function testDomainXml(name: string, options: { memoryMiB?: number; mac?: string } = {}): string {
  const mac = options.mac
    ? `<interface type='network'><source network='default'/><mac address='${options.mac}'/></interface>`
    : "";
  return `<domain type='test'><name>${name}</name><memory unit='MiB'>${options.memoryMiB ?? 64}</memory>` +
    `<os><type>hvm</type></os><devices>${mac}</devices></domain>`;
}

/**
 * Writes a test-driver node file with `count` running domains named `${prefix}-001`...; a
 * `test:///path` URI on it gives each connection private state.
 */
export async function writeNodeFile(
  count: number,
  options: { prefix?: string; auth?: { user: string; password: string } } = {},
): Promise<string> {
  const prefix = options.prefix ?? "node";
  const domains = Array.from({ length: count }, (_, i) => {
    const n = String(i + 1).padStart(3, "0");
    const hex = (i + 1).toString(16).padStart(4, "0");
    return `<domain type='test'><name>${prefix}-${n}</name>` +
      `<uuid>0badcafe-0000-4000-8000-00000000${hex}</uuid><memory unit='MiB'>64</memory>` +
      `<os><type>hvm</type></os><devices><interface type='network'><source network='default'/>` +
      `<mac address='52:54:00:00:${hex.slice(0, 2)}:${hex.slice(2)}'/></interface></devices></domain>`;
  }).join("\n");
  const auth = options.auth
    ? `<auth><user password='${options.auth.password}'>${options.auth.user}</user></auth>`
    : "";
  const xml = `<node><cpu><mhz>2000</mhz><model>test</model></cpu><memory>8388608</memory>${auth}
<network><name>default</name><bridge name='virbr0'/><ip address='192.168.122.1' netmask='255.255.255.0'>
<dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>
${domains}</node>`;
  const path = await Deno.makeTempFile({ prefix: "deno_libvirt_node_", suffix: ".xml" });
  await Deno.writeTextFile(path, xml);
  return path;
}

/** This project's deno.json and lockfile: every child `deno` a test starts resolves through them. */
export const DENO_CONFIG = `${REPO_ROOT}deno.json`;
export const DENO_LOCK = `${REPO_ROOT}deno.lock`;

/**
 * The arguments for a child `deno <subcommand>`: the project's config and lockfile (frozen: a child
 * must not resolve anything the lockfile does not pin) and `--cached-only`, because inside the lab's
 * network namespace there is no network and .ci/run caches everything beforehand. A script outside
 * the repository (a temp dir) would otherwise run with no config and no lock, and resolve npm
 * packages through the registry.
 *
 * `deno doc` and `deno info` take no `--cached-only` (they never download what the lockfile pins into
 * an empty cache either: they read the module graph), so they get the config and the frozen lockfile.
 *
 * @example `runDeno(denoChildArgs("run", "--allow-ffi", script))`
 */
export function denoChildArgs(
  subcommand: "run" | "test" | "eval" | "bench" | "doc" | "info",
  ...rest: string[]
): string[] {
  const cache = subcommand === "doc" || subcommand === "info" ? [] : ["--cached-only"];
  return [subcommand, `--config=${DENO_CONFIG}`, `--lock=${DENO_LOCK}`, "--frozen", ...cache, ...rest];
}

/**
 * The environment for a child that clears its own: `extra` plus DENO_DIR (when set), so that the child
 * uses the cache .ci/run filled rather than ~/.cache/deno.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const dir = Deno.env.get("DENO_DIR");
  return { ...(dir === undefined ? {} : { DENO_DIR: dir }), ...extra };
}

/**
 * Runs the deno binary that runs the tests; returns exit code and outputs. `args` come from
 * {@link denoChildArgs}, or say explicitly that they run without the project's config
 * (`--no-config`, the by-URL import tests): a child that would silently pick up no config and no
 * lockfile is refused.
 */
export async function runDeno(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; clearEnv?: boolean; stdin?: "null" | "inherit" } =
    {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const configured = args.includes("--cached-only") ||
    (["doc", "info"].includes(args[0]) && args.includes(`--config=${DENO_CONFIG}`));
  if (!configured && !args.includes("--no-config")) {
    throw new TypeError(
      `Cannot run deno ${
        args.join(" ")
      }: build the arguments with denoChildArgs() (project config, lockfile, --cached-only)`,
    );
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    env: options.clearEnv ? childEnv(options.env) : options.env,
    cwd: options.cwd,
    clearEnv: options.clearEnv,
    stdin: options.stdin,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** The stream's next event, or a rejection "no event within N ms" (a stream that ends fails too). */
export async function nextEvent<E = DomainEvent>(
  iterator: AsyncIterator<E>,
  timeoutMs = 2_000,
): Promise<E> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const result = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs)
      ),
    ]);
    assert.ok(!result.done, "the stream ended");
    return result.value;
  } finally {
    clearTimeout(timer);
  }
}
