// waitForAddress(): discovery until an address qualifies, with backoff, woken early by lifecycle and
// guest-agent events; on timeout, an error that says per NIC and per source what was seen.
import type { Domain } from "../domain.ts";
import { domainEvents, type DomainEventStream } from "../events.ts";
import { eventLoopEnabled } from "../event_loop.ts";
import { discover, type DiscoverOptions } from "./discover.ts";
import type { DiscoveredAddress, DiscoveryResult, NicAddresses } from "./types.ts";

/** Options of {@link waitForAddress}. */
export interface WaitForAddressOptions extends Omit<DiscoverOptions, "cache" | "mode"> {
  /** Give up after this many ms. Default 60,000. */
  timeoutMs?: number;
  /** Only this NIC (its MAC); default: any NIC. */
  nic?: string;
  /** The least confidence that counts. Default 0.5 (an ARP-only sighting just qualifies; a plan does not). */
  minConfidence?: number;
  /** First poll interval, ms; grows by half each round up to `maxPollMs`. Default 100. */
  pollMs?: number;
  /** Longest poll interval, ms. Default 500: an address is seen within half a second of appearing. */
  maxPollMs?: number;
  /**
   * The guest's console (a `ConsoleCapture` from lib/console.ts, or anything with `tail()`): on
   * timeout its last lines are part of the explanation (a guest that never asked for an address often
   * says why there).
   */
  console?: { tail(): string };
}

/** What a wait resolves with: the discovery that qualified, and its chosen address. */
export interface AddressFound extends DiscoveryResult {
  /** The qualifying address (highest confidence of the wanted family on the wanted NIC). */
  address: DiscoveredAddress & { mac: string };
  /** How long the wait took, ms. */
  waitedMs: number;
  /** Discovery rounds run. */
  rounds: number;
}

/**
 * Raised when no address qualified in time. `name` is "TimeoutError" (isTimeout() recognises it);
 * the message explains, per NIC and per source, what was seen and why nothing qualified, and ends with
 * the console's last lines when the wait had a console (`consoleTail`).
 *
 * @example
 * ```ts
 * import { AddressTimeoutError, Connection, lookupDomain, waitForAddress } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * try {
 *   // a NIC the domain does not have: nothing can qualify
 *   await waitForAddress(dom, {
 *     nic: "52:54:00:00:00:99",
 *     timeoutMs: 50,
 *     console: { tail: () => "udhcpc: no lease, failing" },
 *   });
 * } catch (error) {
 *   if (!(error instanceof AddressTimeoutError)) throw error;
 *   console.log(error.consoleTail); // "udhcpc: no lease, failing"
 * }
 * ```
 */
export class AddressTimeoutError extends Error {
  /** The last discovery, for programs that want the details. */
  readonly last: DiscoveryResult | undefined;
  /** The console's last lines, when the wait had a console (`console` option). */
  readonly consoleTail: string | undefined;
  /**
   * Makes the error.
   *
   * @param message what was seen and why nothing qualified
   * @param last the last discovery, if one completed
   * @param consoleTail the console's last lines, if known
   */
  constructor(message: string, last: DiscoveryResult | undefined, consoleTail?: string) {
    super(message);
    this.name = "TimeoutError";
    this.last = last;
    this.consoleTail = consoleTail;
  }
}

function qualifying(
  result: DiscoveryResult,
  options: WaitForAddressOptions,
): (DiscoveredAddress & { mac: string }) | undefined {
  const min = options.minConfidence ?? 0.5;
  const nic = options.nic?.toLowerCase();
  const family = options.family ?? "any";
  const preferred = family === "ipv6" ? "ipv6" : "ipv4";
  const candidates = result.nics
    .filter((n) => nic === undefined || n.nic.mac === nic)
    .flatMap((n) => n.addresses.map((a) => ({ ...a, mac: n.nic.mac })))
    .filter((a) => a.confidence >= min && (family === "any" || a.family === family));
  candidates.sort((a, b) =>
    (a.family === preferred ? 0 : 1) - (b.family === preferred ? 0 : 1) || b.confidence - a.confidence
  );
  return candidates[0];
}

/**
 * @internal Explains, per NIC and per source, why nothing qualified (the body of
 * {@link AddressTimeoutError}'s message, without the console part).
 *
 * @param result the last discovery, if one completed
 * @param options the wait's options (NIC, family, minimum confidence)
 * @returns indented lines for people
 */
export function explainWait(result: DiscoveryResult | undefined, options: WaitForAddressOptions): string {
  if (!result) return "no discovery round completed";
  const min = options.minConfidence ?? 0.5;
  const nics: NicAddresses[] = options.nic
    ? result.nics.filter((n) => n.nic.mac === options.nic!.toLowerCase())
    : result.nics;
  if (nics.length === 0) {
    return options.nic
      ? `the domain has no NIC with MAC ${options.nic} (it has ${
        result.nics.map((n) => n.nic.mac).join(", ") || "none"
      })`
      : "the domain has no NIC";
  }
  const lines: string[] = [];
  for (const n of nics) {
    const where = [n.nic.type, n.nic.network ?? n.nic.bridge, n.nic.target].filter(Boolean).join(" ");
    lines.push(`  NIC ${n.nic.mac} (${where}):`);
    if (n.addresses.length === 0) {
      for (const clause of (n.why ?? "").split("; ")) lines.push(`    ${clause}`);
      continue;
    }
    for (const a of n.addresses) {
      const why = a.confidence < min
        ? `confidence ${a.confidence} < ${min}${a.flags.length ? ` (${a.explanation})` : ""}`
        : options.family && options.family !== "any" && a.family !== options.family
        ? `not ${options.family}`
        : "qualifies";
      lines.push(
        `    ${a.address} from ${a.sources.join("+")}${
          a.flags.length ? ` [${a.flags.join(", ")}]` : ""
        }: ${why}`,
      );
    }
    for (const r of result.sources.filter((r) => r.status !== "ok")) {
      lines.push(`    ${r.source}: ${r.status}${r.reason ? `: ${r.reason}` : ""}`);
    }
  }
  return lines.join("\n");
}

/**
 * Waits until the domain has an address that qualifies.
 *
 * @param domain the domain
 * @param options timeout, signal, NIC, family, minimum confidence, and discovery options
 * @returns the qualifying discovery with its address
 * @throws {AddressTimeoutError} after `timeoutMs`, explaining what each source saw per NIC (and the
 *   console's last lines, with `console`)
 * @throws the signal's reason on abort
 * @example
 * ```ts
 * import { Connection, lookupDomain, waitForAddress } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * const found = await waitForAddress(dom, { timeoutMs: 10_000, family: "ipv4" });
 * console.log(found.address.address, found.address.confidence, found.address.sources);
 * ```
 */
export async function waitForAddress(
  domain: Domain,
  options: WaitForAddressOptions = {},
): Promise<AddressFound> {
  options.signal?.throwIfAborted();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = performance.now();
  const deadline = started + timeoutMs;
  const pace = new Pace(options.pollMs ?? 100, options.maxPollMs ?? 500);
  const events = nudgeOnEvents(domain, pace);
  const { signal: _s, timeoutMs: _t, console: _c, ...discoverOptions } = options;
  let last: DiscoveryResult | undefined;
  let rounds = 0;
  try {
    while (true) {
      options.signal?.throwIfAborted();
      const remaining = deadline - performance.now();
      last = await discover(domain, {
        ...discoverOptions,
        sourceTimeoutMs: Math.max(1, Math.min(options.sourceTimeoutMs ?? 5_000, remaining)),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      rounds++;
      const address = qualifying(last, options);
      if (address) {
        return { ...last, address, waitedMs: Math.round(performance.now() - started), rounds };
      }
      const left = deadline - performance.now();
      if (left <= 0) break;
      await pace.pause(left, options.signal);
    }
  } finally {
    await events?.close();
  }
  throw timeoutError(domain, options, timeoutMs, rounds, last);
}

/**
 * The wait between discovery rounds: it grows by half each round up to `max`; an event ends the current
 * pause at once and brings the interval back to `first`.
 */
class Pace {
  readonly #first: number;
  readonly #max: number;
  #delay: number;
  #wake: (() => void) | undefined;

  constructor(first: number, max: number) {
    this.#first = first;
    this.#max = max;
    this.#delay = first;
  }

  /** Something happened: look again now, and poll quickly again. */
  nudge(): void {
    this.#delay = this.#first;
    this.#wake?.();
  }

  /** Waits the current interval (at most `left` ms), or until a nudge; rejects with the signal's reason. */
  async pause(left: number, signal: AbortSignal | undefined): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        this.#wake = undefined;
        signal?.removeEventListener("abort", abort);
        clearTimeout(timer);
        resolve();
      };
      const abort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(done, Math.min(this.#delay, left));
      this.#wake = done;
      signal?.addEventListener("abort", abort, { once: true });
    });
    this.#delay = Math.min(Math.round(this.#delay * 1.5), this.#max);
  }
}

/**
 * Nudges `pace` on the domain's lifecycle and guest-agent events, the moments an address may have
 * appeared. Without the event loop (or on a driver without these events) the wait polls alone.
 *
 * @returns the event stream to close when the wait ends, if any
 */
function nudgeOnEvents(domain: Domain, pace: Pace): DomainEventStream | undefined {
  if (!eventLoopEnabled()) return undefined;
  const events = domainEvents(domain.connection.uri, {
    kinds: ["lifecycle", "agent-lifecycle"],
    domain: domain.uuid,
    keepAlive: false,
  });
  (async () => {
    try {
      for await (const _ of events) pace.nudge();
    } catch {
      // no events on this driver: polling alone
    }
  })();
  return events;
}

/** The error of a wait that found nothing: what was wanted, what each source saw, the console's tail. */
function timeoutError(
  domain: Domain,
  options: WaitForAddressOptions,
  timeoutMs: number,
  rounds: number,
  last: DiscoveryResult | undefined,
): AddressTimeoutError {
  const wanted = [
    options.family && options.family !== "any" ? options.family : "an",
    "address",
    options.nic ? `on NIC ${options.nic.toLowerCase()}` : "",
    `with confidence >= ${options.minConfidence ?? 0.5}`,
  ].filter(Boolean).join(" ");
  let tail: string | undefined;
  try {
    tail = options.console?.tail();
  } catch (error) {
    tail = `(cannot read the console: ${(error as Error).message})`;
  }
  const consoleLines = tail === undefined
    ? ""
    : `\n  console, last lines:\n${
      (tail || "(nothing printed)").split("\n").map((l) => `    | ${l}`).join("\n")
    }`;
  return new AddressTimeoutError(
    `Timed out after ${timeoutMs} ms (${rounds} rounds) waiting for ${wanted} of domain ${
      JSON.stringify(domain.name)
    }:\n` +
      explainWait(last, options) + consoleLines,
    last,
    tail,
  );
}
