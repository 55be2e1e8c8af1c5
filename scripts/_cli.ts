// The preamble every script shares: arguments checked once, up front; usage errors with the usage text,
// other failures without it; `--json` answered with JSON, errors included; the hypervisor URI taken the
// way libvirt takes it, and said; a word when libvirt's in-process test driver is used across commands.
// No node: imports (they load Deno's Node layer, ~18 ms of a one-shot script's start).

import { type ArgOption, parseArgs } from "./_args.ts";

/** A mistake in the command line: reported with the usage text, exit code 2. */
export class UsageError extends Error {
  /** @param message what is wrong and how to fix it */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What a script declares about itself. */
export interface CliSpec {
  /** The name in messages: `range`, `vm_ip`. */
  name: string;
  /** The usage text, printed for `--help` and after usage errors. */
  usage: string;
  /** The options (`--json` and `--help` are added when missing). */
  options: Record<string, ArgOption>;
  /** Whether positionals are allowed. */
  allowPositionals?: boolean;
  /** The arguments (default `Deno.args`). */
  args?: string[];
}

/** A parsed command line, and how the script reports what happens next. */
export interface Cli {
  /** The option values, defaults filled in. */
  values: Record<string, unknown>;
  /** The positionals. */
  positionals: string[];
  /** True with `--json`: results and errors go to stdout as JSON. */
  json: boolean;
  /** Reports a usage error (with the usage text) and exits with 2. */
  usageError(message: string): never;
  /**
   * Reports a failure (without the usage text: the command line was fine) and exits with `code`.
   * With `--json` the error is a JSON document on stdout: `{"error": {"name", "message", ...extra}}`.
   */
  fail(error: unknown, code?: number, extra?: Record<string, unknown>): never;
  /** A note on stderr (never on stdout, which `--json` keeps for the document). */
  note(message: string): void;
}

/**
 * Parses the command line once. `--help` prints the usage and exits 0; a parse error is a usage error.
 *
 * @param spec the script's name, usage text and options
 * @returns the values, positionals and the reporting functions
 */
export function startCli(spec: CliSpec): Cli {
  const options: Record<string, ArgOption> = {
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
    ...spec.options,
  };
  // --json is looked for before parsing, so that even a parse error comes back as JSON.
  const args = spec.args ?? Deno.args;
  let json = args.includes("--json");
  const cli: Cli = {
    values: {},
    positionals: [],
    get json() {
      return json;
    },
    usageError(message: string): never {
      if (json) writeJson({ error: { name: "UsageError", message } });
      else console.error(`${spec.name}: ${message}\n\n${spec.usage}`);
      Deno.exit(2);
    },
    fail(error: unknown, code = 1, extra: Record<string, unknown> = {}): never {
      if (error instanceof UsageError) cli.usageError(error.message);
      const e = error instanceof Error ? error : new Error(String(error));
      if (json) writeJson({ error: { name: e.name, message: e.message, ...extra } });
      else console.error(`${spec.name}: ${e.message}`);
      Deno.exit(code);
    },
    note(message: string): void {
      console.error(`${spec.name}: ${message}`);
    },
  };
  try {
    const parsed = parseArgs({ args, options, allowPositionals: spec.allowPositionals });
    cli.values = parsed.values;
    cli.positionals = parsed.positionals;
    json = parsed.values.json === true;
  } catch (error) {
    cli.usageError((error as Error).message);
  }
  if (cli.values.help) {
    console.log(spec.usage);
    Deno.exit(0);
  }
  return cli;
}

function writeJson(document: unknown): void {
  console.log(JSON.stringify(document, null, 2));
}

/** Where a script's hypervisor URI came from. */
export type UriSource = "--uri" | "LIBVIRT_DEFAULT_URI" | "default";

/** A URI and where it came from, so that the script can say which it used. */
export interface ResolvedUri {
  /** The URI. */
  uri: string;
  /** `--uri`, the `LIBVIRT_DEFAULT_URI` variable (read by this script), or libvirt's default. */
  source: UriSource;
}

/**
 * The URI a script connects to, in libvirt's order: the command line, else what libvirt itself picks
 * when given none, as `virsh` without `-c` does: `LIBVIRT_DEFAULT_URI`, else `uri_default` in
 * libvirt.conf, else the first hypervisor that answers. libvirt is asked by an open of its default
 * (`Connection.open(null)`: libvirt's C getenv reads the variable, so no `--allow-env` and no prompt);
 * the answer is the URI that open reached. With `--allow-env=LIBVIRT_DEFAULT_URI` the script reads the
 * variable itself and says so.
 *
 * @param flag the `--uri` value, if any
 * @returns the URI and its source
 * @throws {LibvirtError} when there is no `--uri` and libvirt finds no default hypervisor
 */
export async function resolveUri(flag: string | undefined): Promise<ResolvedUri> {
  if (flag !== undefined && flag !== "") return { uri: flag, source: "--uri" };
  const granted =
    Deno.permissions.querySync({ name: "env", variable: "LIBVIRT_DEFAULT_URI" }).state === "granted";
  const fromEnv = granted ? Deno.env.get("LIBVIRT_DEFAULT_URI") : undefined;
  if (fromEnv) return { uri: fromEnv, source: "LIBVIRT_DEFAULT_URI" };
  // loaded here, not at the top: a script's usage errors need none of the object layer
  const { Connection } = await import("../lib/connection.ts");
  const probe = await Connection.open(null, { eventLoop: false });
  try {
    return { uri: probe.uri, source: "default" };
  } finally {
    await probe.close();
  }
}

/** The words a script prints about a URI it was not given explicitly. */
export function describeUri(resolved: ResolvedUri): string {
  switch (resolved.source) {
    case "--uri":
      return `using ${resolved.uri}`;
    case "LIBVIRT_DEFAULT_URI":
      return `using ${resolved.uri} (from LIBVIRT_DEFAULT_URI)`;
    case "default":
      return `using ${resolved.uri} (no --uri: libvirt's default, from LIBVIRT_DEFAULT_URI, uri_default in ` +
        "libvirt.conf, or the first hypervisor that answered)";
  }
}

/** True for libvirt's in-process test driver (`test:///default`, `test:///path.xml`): its state dies with the process. */
export function isInProcessTestUri(uri: string): boolean {
  return uri.startsWith("test:///");
}

/**
 * The word for a command that reads state an earlier command made, on an in-process test URI: libvirt's
 * `test:///` driver lives inside this process, so an earlier process's `up` left nothing here.
 *
 * @param uris the URIs the command uses
 * @param command the command (for the message)
 * @returns the note, or undefined when no URI is an in-process test URI
 */
export function inProcessTestNote(uris: readonly string[], command: string): string | undefined {
  const test = [...new Set(uris.filter(isInProcessTestUri))];
  if (test.length === 0) return undefined;
  return `note: ${test.join(", ")} is libvirt's in-process test driver: it starts fresh in every process, ` +
    `so \`${command}\` cannot see what an earlier command created. For state across commands use ` +
    `test+unix:///default (a libvirtd's test driver) or a real hypervisor.`;
}
