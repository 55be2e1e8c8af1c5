/**
 * What scripts/vm_ip.ts runs: the command line, the discovery, the output. `deno task gen` bundles this
 * module and everything it loads into scripts/_generated/vm_ip.js, which scripts/vm_ip.ts imports: one
 * module instead of ~70, which a one-shot query paid ~0.2 ms each for (docs/benchmarks.md, "Session
 * h11-vmip"). It exports {@link main}, which scripts/vm_ip.ts calls. `deno task gen:check` fails when
 * the bundle is out of date. Run this module itself (`deno run --allow-ffi scripts/_vm_ip.ts ...`) to try
 * a change before bundling it.
 *
 * @module
 */
// Only what checks the command line is imported statically; the discovery modules load with import()
// once it is checked, while libvirt loads on another thread (started by scripts/vm_ip.ts, or by main()).
import {
  type Cli,
  describeUri,
  inProcessTestNote,
  isInProcessTestUri,
  type ResolvedUri,
  resolveUri,
  startCli,
} from "./_cli.ts";
import { preloadLibvirt } from "../lib/ffi/library.ts";
import { parseCidr } from "../lib/ip/addresses.ts";
import { isLocalUri } from "../lib/ip/sources/arp.ts";
import type { DiscoverManyOptions, DiscoveryEntry } from "../lib/ip/batch.ts";
import type { AddressFound, AddressTimeoutError } from "../lib/ip/wait.ts";
import type { DiscoveryResult, SourceName } from "../lib/ip/types.ts";

const usage = `usage: vm_ip.ts [NAME...] [--all] [--uri URI]... [--wait] [--timeout SECONDS]
                [--source lease,agent,network-lease,arp,plan] [--family ipv4|ipv6|any]
                [--exclude CIDR]... [--min-confidence 0..1] [--fast] [--concurrency N] [--json]

  NAME             domain names or UUIDs (on every --uri); --all: every running domain
  --uri URI        hypervisor, repeatable (default: libvirt's own, as virsh without -c:
                   $LIBVIRT_DEFAULT_URI, else uri_default in libvirt.conf, else the first that answers)
  --wait           wait until each domain has an address (polls with backoff, wakes on events)
  --timeout S      give up waiting after S seconds (default 60)
  --source LIST    only these sources
  --exclude CIDR   drop addresses in this range (docker bridges, ...), repeatable
  --json           one JSON document instead of the table (errors too)
exit: 0 all found, 1 some without an address, 2 usage or connection error`;

const sourceNames: SourceName[] = ["lease", "agent", "network-lease", "arp", "plan"];

/** The command line, checked (a usage error has exited with 2): what the query and the output need. */
interface Request {
  cli: Cli;
  /** Whether to wait for addresses (--wait). */
  wait: boolean;
  /** The domains asked for; undefined with --all. */
  domains: string[] | undefined;
  /** The hosts' URIs (--uri), or undefined: libvirt's default. */
  uris: string[] | undefined;
  /** discoverMany's options, but for the hosts. */
  options: DiscoverManyOptions;
  /** The lowest confidence an address may have to count. */
  minConfidence: number;
}

/** Parses and checks the command line; a usage error exits with 2. */
function parseRequest(): Request {
  const cli: Cli = startCli({
    name: "vm_ip",
    usage,
    allowPositionals: true,
    options: {
      all: { type: "boolean", default: false },
      uri: { type: "string", multiple: true },
      wait: { type: "boolean", default: false },
      timeout: { type: "string", default: "60" },
      source: { type: "string" },
      family: { type: "string", default: "any" },
      exclude: { type: "string", multiple: true },
      "min-confidence": { type: "string", default: "0.5" },
      fast: { type: "boolean", default: false },
      concurrency: { type: "string", default: "16" },
    },
  });
  const { values, positionals } = cli;
  const fail = cli.usageError;
  if (!values.all && positionals.length === 0) fail("name at least one domain, or pass --all");
  if (values.all && positionals.length > 0) fail("pass domain names or --all, not both");
  const timeoutSeconds = Number(values.timeout);
  if (!(timeoutSeconds > 0)) fail(`--timeout must be a positive number of seconds, got ${values.timeout}`);
  const family = values.family as string;
  if (!["ipv4", "ipv6", "any"].includes(family)) fail(`--family must be ipv4, ipv6 or any, got ${family}`);
  const minConfidence = Number(values["min-confidence"]);
  if (!(minConfidence >= 0 && minConfidence <= 1)) fail(`--min-confidence must be within 0..1`);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) fail(`--concurrency must be a whole number >= 1`);
  const sources = values.source ? String(values.source).split(",").map((s) => s.trim()) : undefined;
  for (const s of sources ?? []) {
    if (!sourceNames.includes(s as SourceName)) {
      fail(`unknown source ${JSON.stringify(s)}; use ${sourceNames.join(", ")}`);
    }
  }
  const exclude = values.exclude as string[] | undefined;
  // Checked once, here: a bad range would otherwise fail every domain's discovery, once per domain.
  for (const cidr of exclude ?? []) {
    try {
      parseCidr(cidr);
    } catch (error) {
      fail(`--exclude ${JSON.stringify(cidr)}: ${(error as Error).message}`);
    }
  }
  return {
    cli,
    wait: values.wait as boolean,
    domains: values.all ? undefined : positionals,
    uris: values.uri as string[] | undefined,
    minConfidence,
    options: {
      wait: values.wait as boolean,
      timeoutMs: timeoutSeconds * 1000,
      family: family as "ipv4" | "ipv6" | "any",
      minConfidence,
      concurrency,
      ...(exclude ? { exclude } : {}),
      ...(sources ? { sources: sources as SourceName[] } : {}),
      ...(values.fast ? { mode: "fast" as const } : {}),
    },
  };
}

/** What the query found, and how to read it. */
interface Answer {
  uris: string[];
  entries: DiscoveryEntry[];
  isNotFound: (error: unknown) => boolean;
  timedOut: (error: unknown) => error is AddressTimeoutError;
}

/** Loads the discovery modules while libvirt loads, then asks every host; a host error exits 2. */
async function query(request: Request, preloaded: Promise<void>): Promise<Answer> {
  const cli: Cli = request.cli; // typed where it is declared: TypeScript then knows fail() returns never
  let resolved: ResolvedUri | undefined;
  try {
    resolved = request.uris ? undefined : await resolveUri(undefined);
  } catch (error) {
    // libvirt not loadable, or no --allow-ffi: said as they are, not as a missing --uri
    if (
      !(error instanceof Error) || error.name === "LibvirtLoadError" ||
      error instanceof Deno.errors.NotCapable
    ) {
      cli.fail(error, 2);
    }
    cli.fail(new Error(`no --uri, and libvirt's default did not open (${error.message}): pass --uri URI`), 2);
  }
  const uris = request.uris ?? [resolved!.uri];
  if (resolved && !cli.json) cli.note(describeUri(resolved));

  // Only --wait can time out: lib/ip/wait.ts (and the events module it needs) loads only then. A module
  // that fails to load (run by URL, offline) fails once the preload is done, not in the middle of it.
  const [{ discoverMany }, { isNotFound }, { setEventLoopEnabled }, waitModule] = await Promise.all([
    import("../lib/ip/batch.ts"),
    import("../lib/errors.ts"),
    import("../lib/event_loop.ts"),
    request.wait ? import("../lib/ip/wait.ts") : undefined,
  ]).catch(async (error) => {
    await preloaded;
    throw error;
  });

  // The event-loop policy of a one-shot query: the loop's worker costs more to start (25-100 ms) than
  // the query takes; it carries keepalive and events, which a one-shot query on a local socket or an
  // in-process driver needs neither of. --wait listens to events, and remote URIs keep keepalive.
  if (!request.wait && uris.every(isLocalUri)) setEventLoopEnabled(false);

  const timeoutClass = waitModule?.AddressTimeoutError;
  const timedOut = (error: unknown): error is AddressTimeoutError =>
    timeoutClass !== undefined && error instanceof timeoutClass;
  try {
    const hosts = uris.map((uri) => ({ uri, ...(request.domains ? { domains: request.domains } : {}) }));
    return { uris, entries: await discoverMany(hosts, request.options), isNotFound, timedOut };
  } catch (error) {
    // Not a usage error: the command line was fine, the hosts or domains were not.
    cli.fail(error, 2, { uris });
  }
}

/** Prints the answer (a table, or JSON with --json) and returns the exit code. */
function report(request: Request, answer: Answer): number {
  const { cli, minConfidence } = request;
  const { uris, entries, isNotFound, timedOut } = answer;
  // A name asked on several hosts exists on one of them: "not found" elsewhere is no error then.
  const foundSomewhere = new Set(entries.filter((e) => !isNotFound(e.error)).map((e) => e.domain));
  const relevant = entries.filter((e) =>
    !(isNotFound(e.error) && foundSomewhere.has(e.domain) && uris.length > 1)
  );

  const addressOf = (e: DiscoveryEntry) => {
    const r = e.result as (DiscoveryResult & Partial<AddressFound>) | undefined;
    const best = r?.address ?? r?.best;
    return best && best.confidence >= minConfidence ? best : undefined;
  };
  // A domain not found on libvirt's in-process test driver: an earlier process's `range up` (or define)
  // left nothing here, since that driver starts fresh in every process. Said once, on stderr.
  const testNote = relevant.some((e) => isNotFound(e.error) && isInProcessTestUri(e.uri))
    ? inProcessTestNote(uris, "vm_ip.ts")
    : undefined;
  if (testNote) cli.note(testNote);
  let exit = 0;
  for (const e of relevant) {
    if (e.error && !timedOut(e.error)) exit = 2;
    else if (!addressOf(e) && exit === 0) exit = 1;
  }

  if (cli.json) {
    console.log(JSON.stringify(
      relevant.map((e) => ({
        uri: e.uri,
        domain: e.result?.domain.name ?? e.domain,
        uuid: e.result?.domain.uuid,
        address: addressOf(e)?.address ?? null,
        nics: e.result?.nics ?? (timedOut(e.error) ? e.error.last?.nics : undefined),
        sources: e.result?.sources,
        tookMs: e.result?.tookMs,
        error: e.error ? { name: e.error.name, message: e.error.message } : undefined,
      })),
      null,
      2,
    ));
  } else printTable(relevant);
  return exit;
}

/** The table: one row per NIC (a failed domain: one row), then a note per domain or NIC without one. */
function printTable(relevant: DiscoveryEntry[]): void {
  const rows: string[][] = [["DOMAIN", "HOST", "MAC", "ADDRESS", "CONF", "SOURCES"]];
  const notes: string[] = [];
  for (const e of relevant) {
    const name = e.result?.domain.name ?? e.domain;
    if (e.error) {
      rows.push([name, e.uri, "-", "-", "-", "-"]);
      notes.push(`${name}: ${e.error.message}`);
      continue;
    }
    for (const nic of e.result!.nics) {
      const a = nic.addresses[0];
      rows.push([
        name,
        e.uri,
        nic.nic.mac,
        a?.address ?? "-",
        a ? a.confidence.toFixed(2) : "-",
        a?.sources.join("+") ?? "-",
      ]);
      if (!a) notes.push(`${name} ${nic.nic.mac}: ${nic.why}`);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
  for (const n of notes) console.log(`\n${n}`);
}

/**
 * Runs the command (Deno.args) and exits with its code: what scripts/vm_ip.ts calls once it has loaded
 * this module's bundle.
 *
 * @param preloaded libvirt's link, started by the caller before this module loaded (scripts/vm_ip.ts
 * starts it from its first statement: lib/ffi/_preload.ts); by default it starts here
 */
export async function main(preloaded?: Promise<void>): Promise<never> {
  // In functions, not at the module's top level: V8 compiles a top level that runs loops as one
  // function (docs/benchmarks.md, "Session h11-vmip"). --help (looked for before parsing, as startCli
  // looks for --json) needs no libvirt, and maps none; a usage error exits once the linking is done.
  const help = Deno.args.includes("--help") || Deno.args.includes("-h");
  preloaded ??= help ? Promise.resolve() : preloadLibvirt();
  const request = parseRequest();
  Deno.exit(report(request, await query(request, preloaded)));
}

// Run as a module of its own (`deno run --allow-ffi scripts/_vm_ip.ts ...`, to try a change before
// bundling it), not only through its bundle: there Deno.mainModule is scripts/vm_ip.ts.
if (Deno.mainModule.endsWith("/scripts/_vm_ip.ts")) await main();
