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

/** The second host's sshd (lab.sh sshd-up): qemu+ssh:// and qemu+libssh:// to host 2. */
export interface LabSsh {
  /** qemu+ssh://root@10.77.9.2:2222/system?keyfile=...&no_tty=1&command=<the ssh wrapper> */
  uri: string;
  /** qemu+libssh://...?keyfile=...&known_hosts=...&known_hosts_verify=normal&sshauth=privkey */
  libsshUri: string;
  address: string;
  port: number;
  user: string;
  /** The lab's client private key (its public half is the only line of sshd's authorized_keys). */
  keyFile: string;
  /** A known_hosts file holding sshd's host key, as `[address]:port ssh-ed25519 ...`. */
  knownHosts: string;
  /** The ssh wrapper qemu+ssh runs (command=): `ssh -F <sshConfig>`, so the lab's known_hosts is used. */
  sshCommand: string;
  sshConfig: string;
  /** sshd's public host key (`ssh-ed25519 AAAA... comment`). */
  hostKey: string;
  pidFile: string;
  log: string;
}

export interface Lab {
  netns: string;
  uri: string;
  networks: { nat: LabNetwork; isolated: LabNetwork };
  imagePool: { name: string; path: string };
  guest: { dir: string; kernel: string; initrd: string; xmlScript: string };
  logs: string;
  labScript: string;
  secondHost: { netns: string; uri: string; network: LabNetwork; ssh?: LabSsh };
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

/** The second host's sshd; a clear error when lab.json has none (a lab brought up before sshd-up). */
export function labSsh(): LabSsh {
  const ssh = lab().secondHost.ssh;
  if (!ssh) {
    throw new Error(
      `Cannot run this qemu+ssh test: ${LAB_JSON} has no secondHost.ssh; add the second host's sshd to ` +
        `the running lab with "tests/integration/lab/lab.sh sshd-up"`,
    );
  }
  return ssh;
}

/**
 * The transports the two-host tests run over, each test once per transport: the URI is read when the
 * test runs, so a lab without sshd fails only the qemu+ssh variants, with labSsh's message.
 */
export const secondHostTransports: readonly { name: string; uri: () => string }[] = [
  { name: "qemu+tcp", uri: () => lab().secondHost.uri },
  { name: "qemu+ssh", uri: () => labSsh().uri },
];

/**
 * The ssh processes this process started (libvirt's qemu+ssh transport forks one per connection),
 * zombies included: after every connection closed, there must be none.
 */
export function sshChildren(): { pid: number; state: string }[] {
  const found: { pid: number; state: string }[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (comm === "ssh" && Number(ppid) === Deno.pid) found.push({ pid: Number(entry.name), state });
  }
  return found;
}

/**
 * Waits until this process has no ssh child left (running or zombie). libvirt ends and reaps a closed
 * qemu+ssh connection's ssh when its event loop drops the socket, a few ms after close() resolved.
 */
export async function noSshChildrenLeft(timeoutMs = 10_000): Promise<void> {
  await waitFor(
    "this process's ssh children to end",
    () => Promise.resolve(sshChildren().length === 0 ? true : undefined),
    timeoutMs,
    10,
  ).catch((error) => {
    throw new Error(`ssh processes left behind: ${JSON.stringify(sshChildren())}`, { cause: error });
  });
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
