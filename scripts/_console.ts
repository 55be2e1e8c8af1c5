/**
 * `range.ts console FILE GUEST`: attach this terminal (or pipes) to a range guest's serial console.
 * On a terminal, stdin goes into raw mode (every key, Ctrl-C included, goes to the guest) and Ctrl-]
 * detaches; the terminal is restored on every way out (detach, the guest ending, an error, SIGTERM,
 * SIGHUP, a SIGINT sent from outside, Deno.exit). With piped stdin the input is sent as it comes, and the command detaches once
 * the input ended and the console has been quiet for `--linger` ms, or, with `--until`, when the
 * output matches (exit 1 when it did not within `--timeout` seconds).
 *
 * @module
 */
import { attachConsole, type AttachResult, isConsoleBusy } from "../lib/console.ts";
import { lookupDomain } from "../lib/domain.ts";
import { isNotSupported } from "../lib/errors.ts";
import type { PoolRegistry } from "../lib/pool.ts";
import type { Range } from "../lib/range/description.ts";

/** Options of {@link consoleCommand}. */
export interface ConsoleCommandOptions {
  /** Take the console over from another session (`VIR_DOMAIN_CONSOLE_FORCE`). */
  force: boolean;
  /** Detach when the output matches. */
  until?: RegExp;
  /** After the input ended, detach once the console was quiet this long, ms (without `until`). */
  lingerMs: number;
  /** With `until`: give up (exit 1) after this many ms. */
  timeoutMs: number;
}

const ESCAPE = 0x1d; // Ctrl-], as virsh console
const encoder = new TextEncoder();
const note = (text: string) => Deno.stderr.writeSync(encoder.encode(text));

/**
 * Runs the console command.
 *
 * @param range the range
 * @param registry pools to its hosts
 * @param guest the guest's domain name, or its name without the range prefix ("web-1")
 * @param options force, until, lingerMs
 * @returns the exit code: 0 detached, 1 the console cannot be attached or ended before --until, 2 usage
 */
export async function consoleCommand(
  range: Range,
  registry: PoolRegistry,
  guest: string,
  options: ConsoleCommandOptions,
): Promise<number> {
  const g = findGuest(range, guest);
  if (typeof g === "number") return g;
  const uri = range.description.hosts.find((h) => h.id === g.hostId)!.uri;
  return await registry.get(uri).use(async (conn) => {
    using dom = await lookupDomain(conn, g.name);
    let stream;
    try {
      stream = await dom.openConsole(undefined, { force: options.force, safe: true });
    } catch (error) {
      const why = isConsoleBusy(error)
        ? "another session has it (a `virsh console`, or a range up that keeps capturing); --force takes it over"
        : isNotSupported(error)
        ? "the driver has no console streams"
        : (error as Error).message;
      console.error(`range: cannot attach to the console of ${g.name}: ${why}`);
      return 1;
    }
    await using _stream = stream;
    let result: AttachResult;
    {
      using terminal = rawTerminal();
      if (terminal.raw) note(`Connected to ${g.name} on ${g.hostId}; escape character is ^]\r\n`);
      result = await attachConsole(stream, Deno.stdin.readable, Deno.stdout.writable, {
        escape: ESCAPE,
        lingerMs: options.lingerMs,
        ...(options.until ? { until: options.until, signal: AbortSignal.timeout(options.timeoutMs) } : {}),
      });
    }
    const what = {
      "escape": "detached (^])",
      "input-ended": "input ended",
      "until": "matched --until",
      "console-ended": "the console ended (the guest stopped, or another session took it over)",
      "aborted": `no --until match within ${options.timeoutMs / 1000} s`,
    }[result.reason];
    const raw = Deno.stdin.isTerminal();
    note(`${raw ? "\r\n" : "\n"}[range console ${g.name}: ${what}; sent ${result.sentBytes} bytes]\n`);
    return options.until && result.reason !== "until" ? 1 : 0;
  });
}

/** The range's guest named `guest` (with or without the range prefix), or the exit code after saying why not. */
function findGuest(range: Range, guest: string): Range["guests"][number] | number {
  const g = range.guests.find((x) => x.name === guest) ??
    range.guests.find((x) => x.name === `${range.name}-${guest}`);
  if (!g) {
    const names = range.guests.slice(0, 8).map((x) => x.name).join(", ");
    console.error(
      `range: no guest ${JSON.stringify(guest)} in range ${JSON.stringify(range.name)} (its guests: ${names}${
        range.guests.length > 8 ? ", ..." : ""
      })`,
    );
    return 2;
  }
  if (g.type === "test") {
    console.error(`range: cannot attach to ${g.name}: the test driver has no console streams`);
    return 1;
  }
  return g;
}

/**
 * On a terminal, puts stdin in raw mode until disposed, and restores it on every way out: disposal, the
 * isolate's unload (Deno.exit), and SIGTERM/SIGHUP/SIGINT sent from outside (raw mode keeps Ctrl-C from
 * making a SIGINT, but a `kill -INT` or a supervisor would end the process with the terminal still raw).
 * Elsewhere (piped stdin) it does nothing.
 */
function rawTerminal(): { raw: boolean; [Symbol.dispose](): void } {
  const raw = Deno.stdin.isTerminal();
  let restored = !raw;
  const restore = () => {
    if (restored) return;
    restored = true;
    try {
      Deno.stdin.setRaw(false);
    } catch {
      // stdin is gone: nothing to restore
    }
  };
  const onSignal = (signal: Deno.Signal) => () => {
    restore();
    note(`\r\n[range console: ${signal}]\n`);
    Deno.exit(signal === "SIGHUP" ? 129 : signal === "SIGINT" ? 130 : 143);
  };
  const signals: [Deno.Signal, () => void][] = raw
    ? [["SIGTERM", onSignal("SIGTERM")], ["SIGHUP", onSignal("SIGHUP")], ["SIGINT", onSignal("SIGINT")]]
    : [];
  const dispose = () => {
    restore();
    for (const [s, h] of signals) Deno.removeSignalListener(s, h);
    globalThis.removeEventListener("unload", restore);
  };
  if (raw) {
    globalThis.addEventListener("unload", restore);
    for (const [s, h] of signals) Deno.addSignalListener(s, h);
    try {
      Deno.stdin.setRaw(true);
    } catch (error) {
      dispose();
      throw error;
    }
  }
  return { raw, [Symbol.dispose]: dispose };
}
