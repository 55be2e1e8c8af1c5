// The integration lab as the tests see it: lab.json (written by lab.sh up), guest XML, console logs,
// waiting. Guests are transient and named with a per-run prefix, so a failed test leaves nothing a
// `lab.sh down` would not remove anyway.
import { existsSync } from "node:fs";

export interface LabNetwork {
  name: string;
  bridge: string;
  prefix: string;
  gateway: string;
}

export interface Lab {
  netns: string;
  uri: string;
  networks: { nat: LabNetwork; isolated: LabNetwork };
  imagePool: { name: string; path: string };
  guest: { dir: string; kernel: string; initrd: string; xmlScript: string };
  logs: string;
  labScript: string;
  secondHost: { netns: string; uri: string; network: LabNetwork };
}

const LAB_JSON = "/run/deno_libvirt_lab/lab.json";

/** True when the lab is up (lab.json written by lab.sh up): for `ignore:` on tests that need it. */
export function labUp(): boolean {
  return existsSync(LAB_JSON);
}

/** Reads lab.json; a clear error when the lab is not up. */
export function lab(): Lab {
  if (!existsSync(LAB_JSON)) {
    throw new Error(
      `Cannot run this integration test: ${LAB_JSON} is missing; bring the lab up with "tests/integration/lab/lab.sh up"`,
    );
  }
  return JSON.parse(Deno.readTextFileSync(LAB_JSON));
}

/** The network namespace this process runs in ("" for the root namespace). */
export async function currentNamespace(): Promise<string> {
  const out = await new Deno.Command("ip", {
    args: ["netns", "identify", String(Deno.pid)],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** Throws unless the tests run inside the lab namespace, where the guests' bridges and host 2 are. */
export async function requireLabNamespace(): Promise<void> {
  const here = await currentNamespace();
  if (here !== lab().netns) {
    throw new Error(
      `Cannot run this integration test from network namespace "${
        here || "root"
      }": run the suite inside the lab ` +
        `namespace, e.g. "tests/integration/lab/lab.sh exec deno task test"`,
    );
  }
}

/** A locally administered MAC in QEMU's range, fresh per call (a reused MAC finds a stale lease). */
export function randomMac(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(3));
  return `52:54:00:${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
}

/** A unique guest name for this run. */
export function guestName(base: string): string {
  return `itest-${base}-${crypto.randomUUID().slice(0, 6)}`;
}

/** The lab guest's domain XML (tests/integration/lab/guest_xml.sh). */
export async function guestXml(
  name: string,
  mac: string,
  network: string,
  options: { memoryMiB?: number; agent?: boolean } = {},
): Promise<string> {
  const l = lab();
  const out = await new Deno.Command("bash", {
    args: [
      l.guest.xmlScript,
      name,
      mac,
      network,
      String(options.memoryMiB ?? 96),
      options.agent === false ? "0" : "1",
    ],
    env: { GUEST_DIR: l.guest.dir, LAB_LOGS: l.logs },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`guest_xml.sh failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** What the guest printed on its serial console about its DHCP lease, if it has one yet. */
export async function consoleLease(
  name: string,
): Promise<{ ifc: string; ip: string; mac: string } | undefined> {
  let text = "";
  try {
    text = await Deno.readTextFile(`${lab().logs}/${name}.console`);
  } catch {
    return undefined;
  }
  const match = [...text.matchAll(/LAB: dhcp bound ifc=(\S+) ip=(\S+) mac=(\S+)/g)].at(-1);
  return match ? { ifc: match[1], ip: match[2], mac: match[3].toLowerCase() } : undefined;
}

/** The kernel neighbour table of this namespace (/proc/net/arp): IP -> MAC. */
export async function neighbours(): Promise<Map<string, string>> {
  const rows = (await Deno.readTextFile("/proc/net/arp")).trim().split("\n").slice(1);
  return new Map(
    rows.map((r) => r.split(/\s+/)).filter((c) => c[3] !== "00:00:00:00:00:00").map((c) => [c[0], c[3]]),
  );
}

/** Polls `probe` until it returns a value, or throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  while (performance.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}`,
  );
}

/**
 * Destroys transient test guests by name on a fresh connection: the test's own connection may be
 * the thing that broke. Missing guests are fine.
 */
export async function destroyGuests(uri: string, names: string[]): Promise<void> {
  const { Connection, destroyDomain, isNotFound, lookupDomain } = await import("../../mod.ts");
  await using conn = await Connection.open(uri);
  for (const name of names) {
    try {
      using dom = await lookupDomain(conn, name);
      await destroyDomain(dom);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}
