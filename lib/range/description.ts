/**
 * The range description: what a cyber range is made of (hosts, networks, base images, guests), read
 * from YAML or JSON, validated with errors that point at the line and the field, and expanded into the
 * concrete guests (`<range>-<guest>-<n>`) with their MACs, planned addresses and hosts.
 *
 * The schema is documented in docs/range.md.
 *
 * @example
 * ```ts
 * import { parseRangeDescription } from "./description.ts";
 * const range = parseRangeDescription(`
 * name: demo
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: demo-lan, mode: isolated, subnet: 10.20.0.0/24 }]
 * guests:
 *   - { id: web, memory: 64, count: 2, nics: [{ network: demo-lan }] }
 * `);
 * console.log(range.guests.map((g) => g.name)); // ["demo-web-1", "demo-web-2"]
 * ```
 *
 * @module
 */
import { inCidr, parseCidr, toBigInt } from "../ip/addresses.ts";
import { isMap, isPair, isScalar, isSeq, type LineCounter, parseYaml } from "./_yaml.ts";

/** One libvirt host of the range. */
export interface HostSpec {
  /** The id guests name in `host` / `hosts`. */
  id: string;
  /** The libvirt URI: `test:///default`, `qemu:///system`, `qemu+tcp://10.0.0.2/system`, ... */
  uri: string;
}

/** A DHCP host reservation of a network. */
export interface ReservationSpec {
  mac: string;
  address: string;
  /** The hostname dnsmasq hands out with it. */
  name?: string;
}

/** One network of the range, created on every host that has a guest on it (unless `external`). */
export interface NetworkSpec {
  /** The libvirt network's name. */
  name: string;
  /** "nat" (forwarded to the outside) or "isolated" (guests and the host only). */
  mode: "nat" | "isolated";
  /** IPv4 subnet, e.g. "10.10.1.0/24"; the host (gateway) takes its first address. */
  subnet: string;
  /** The DHCP pool; omitted: no DHCP server on this network. */
  dhcp?: { start: string; end: string };
  /** Fixed DHCP answers, by MAC. Planned NIC addresses are added automatically. */
  reservations?: ReservationSpec[];
  /** The host bridge's name (<= 15 characters); libvirt picks virbrN when omitted. */
  bridge?: string;
  /** True: the network exists on the hosts already; the range neither creates nor deletes it. */
  external?: boolean;
}

/** A base image guests are cloned from (a qcow2 overlay per guest). */
export interface BaseImageSpec {
  id: string;
  /** The image's path on each host that runs guests of it. */
  path: string;
  /** "qcow2" (default) or "raw". */
  format?: string;
}

/** Direct kernel boot. */
export interface KernelSpec {
  kernel: string;
  initrd?: string;
  cmdline?: string;
}

/** One NIC of a guest. */
export interface NicSpecInput {
  /** A network of the description. */
  network: string;
  /** The planned address of instance 1; instance n gets address + n - 1. */
  address?: string;
  /** The MAC of instance 1; instance n gets MAC + n - 1. Generated when omitted. */
  mac?: string;
}

/** A kind of guest, instantiated `count` times. */
export interface GuestSpec {
  id: string;
  baseImage?: string;
  kernel?: KernelSpec;
  /** Memory, MiB. */
  memory: number;
  /** Default 1. */
  vcpus?: number;
  /** Default 1. */
  count?: number;
  /** "kvm", "qemu" (TCG) or "test"; default: "test" on test:// hosts, else "kvm". */
  type?: "kvm" | "qemu" | "test";
  /** The host id; or `hosts` to spread instances round-robin over several. */
  host?: string;
  hosts?: string[];
  /** Add the qemu-guest-agent channel. Default false. */
  agent?: boolean;
  /** Size of the overlay (or of the empty data disk of kernel-boot guests without base image), MiB. */
  diskMiB?: number;
  nics?: NicSpecInput[];
}

/** The whole description, as written. */
export interface RangeDescription {
  /** 1-32 letters, digits, "_" or "-": it prefixes everything the range creates. */
  name: string;
  hosts: HostSpec[];
  /** Where volumes go: an existing pool, or a directory the range makes a pool of (`<name>.pool`). */
  storage?: { pool?: string; path?: string };
  networks?: NetworkSpec[];
  baseImages?: BaseImageSpec[];
  guests: GuestSpec[];
  /** The snapshot `reset` reverts to, default "clean". */
  snapshot?: string;
}

/** One NIC of a concrete guest. */
export interface ExpandedNic {
  network: string;
  mac: string;
  address?: string;
  /** True when the MAC was generated, not written in the description. */
  generatedMac: boolean;
}

/** One concrete guest (a libvirt domain). */
export interface ExpandedGuest {
  /** `<range>-<guest>-<n>` */
  name: string;
  guestId: string;
  /** 1-based. */
  index: number;
  hostId: string;
  uri: string;
  type: "kvm" | "qemu" | "test";
  memoryMiB: number;
  vcpus: number;
  agent: boolean;
  baseImage?: BaseImageSpec;
  kernel?: KernelSpec;
  /** The volume's name in the pool: `<range>.<guest>-<n>.qcow2`. */
  volume: string;
  diskMiB: number;
  nics: ExpandedNic[];
}

/** A validated description and its expansion. */
export interface Range {
  description: RangeDescription;
  name: string;
  guests: ExpandedGuest[];
  /** Per host id: the networks the range creates there (external ones excluded). */
  networksByHost: Map<string, NetworkSpec[]>;
  /** The storage pool volumes go into. */
  pool: { name: string; created: boolean; path?: string };
  snapshot: string;
}

/** One problem found in a description. */
export interface DescriptionIssue {
  /** The field, e.g. "guests[2].nics[0].mac". */
  path: string;
  /** 1-based, when the description came from text. */
  line?: number;
  column?: number;
  message: string;
}

/** A description that cannot be used; `issues` lists every problem, each with its line and field. */
export class RangeDescriptionError extends Error {
  /** Every problem found. */
  readonly issues: DescriptionIssue[];
  /** @param source the file name or "description"; @param issues what is wrong */
  constructor(source: string, issues: DescriptionIssue[]) {
    const where = (i: DescriptionIssue) =>
      `${i.line !== undefined ? `line ${i.line}, column ${i.column}: ` : ""}${
        i.path || "(top)"
      }: ${i.message}`;
    super(
      `Cannot use range description ${JSON.stringify(source)}: ${where(issues[0])}` +
        (issues.length > 1 ? `\n${issues.slice(1).map((i) => `  also ${where(i)}`).join("\n")}` : ""),
    );
    this.name = "RangeDescriptionError";
    this.issues = issues;
  }
}

/** The domain-metadata namespace that tags what a range created (`<range:tags>` with key "range"). */
export const RANGE_NAMESPACE = "urn:deno-libvirt:range:1";

const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;
const RANGE_NAME = /^[A-Za-z0-9_-]{1,32}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const QEMU_MIN_MIB = 80;

type Path = (string | number)[];
type Obj = Record<string, unknown>;

function pathText(path: Path): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`).join("");
}

/** IPv4 bigint -> dotted text. */
function ipText(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
}

function macAdd(mac: string, n: number): string {
  const value = BigInt("0x" + mac.replaceAll(":", "")) + BigInt(n);
  return value.toString(16).padStart(12, "0").match(/../g)!.join(":");
}

/** FNV-1a, 32 bits: a small deterministic hash for generated MACs. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * The MAC of a NIC whose description gives none: 52:54:00 followed by 24 bits of a hash of the range
 * name, guest id, instance and NIC index; probes further (`#1`, `#2`, ...) when taken.
 */
export function generatedMac(
  range: string,
  guest: string,
  index: number,
  nic: number,
  taken: Set<string>,
): string {
  for (let salt = 0;; salt++) {
    const h = fnv1a(`${range}/${guest}/${index}/${nic}${salt ? `#${salt}` : ""}`) & 0xffffff;
    const mac = `52:54:00:${
      [16, 8, 0].map((s) => ((h >> s) & 0xff).toString(16).padStart(2, "0")).join(":")
    }`;
    if (!taken.has(mac)) return mac;
  }
}

class Checker {
  readonly issues: DescriptionIssue[] = [];
  constructor(readonly locate: (path: Path, key: boolean) => { line: number; column: number } | undefined) {}

  add(path: Path, message: string, key = false): void {
    const at = this.locate(path, key) ?? this.locate(path.slice(0, -1), false);
    this.issues.push({ path: pathText(path), ...(at ?? {}), message });
  }

  object(value: unknown, path: Path, known: string[], required: string[]): Obj | undefined {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.add(path, `must be a mapping with ${required.length ? required.join(", ") : "fields"}`);
      return undefined;
    }
    const obj = value as Obj;
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) {
        const close = known.find((k) => near(k, key));
        this.add(
          [...path, key],
          `unknown field${
            close ? `: did you mean ${JSON.stringify(close)}?` : ` (known: ${known.join(", ")})`
          }`,
          true,
        );
      }
    }
    for (const key of required) {
      if (obj[key] === undefined || obj[key] === null) this.add([...path, key], "is required (missing)");
    }
    return obj;
  }

  list(value: unknown, path: Path, required: boolean): unknown[] {
    if (value === undefined || value === null) {
      if (required) this.add(path, "is required (missing)");
      return [];
    }
    if (!Array.isArray(value)) {
      this.add(path, "must be a list");
      return [];
    }
    return value;
  }

  string(value: unknown, path: Path): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || value === "") {
      this.add(path, `must be a non-empty string, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }

  name(value: unknown, path: Path, what: string): string | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    if (!SAFE_NAME.test(text) || text.length > 63) {
      this.add(
        path,
        `${what} ${
          JSON.stringify(text)
        } is not a safe name: use 1-63 letters, digits, "_", "-" or ".", not starting with "."`,
      );
      return undefined;
    }
    return text;
  }

  integer(value: unknown, path: Path, min: number, max: number): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.add(path, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }

  mac(value: unknown, path: Path): string | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    if (!MAC.test(text)) {
      this.add(
        path,
        `${JSON.stringify(text)} is not a MAC address: write six hex bytes, e.g. "52:54:00:12:34:56"`,
      );
      return undefined;
    }
    if (parseInt(text.slice(0, 2), 16) & 1) {
      this.add(
        path,
        `${JSON.stringify(text)} is a multicast MAC (odd first byte): use e.g. "52:54:00:12:34:56"`,
      );
      return undefined;
    }
    return text.toLowerCase();
  }

  ipv4(value: unknown, path: Path): bigint | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    const v = text.includes(":") ? undefined : toBigInt(text);
    if (v === undefined) this.add(path, `${JSON.stringify(text)} is not an IPv4 address`);
    return v;
  }
}

function near(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  if (Math.abs(a.length - b.length) > 2) return false;
  // Levenshtein distance <= 2
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length] <= 2;
}

/** Finds a path's node in a YAML document: the key (for unknown fields) or the value. */
function locator(document: ReturnType<typeof parseYaml>["document"], lines: LineCounter) {
  return (path: Path, key: boolean): { line: number; column: number } | undefined => {
    let node: unknown = document.contents;
    let keyNode: unknown;
    for (const segment of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === segment);
        if (!pair) return undefined;
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === "number") {
        node = node.items[segment];
      } else {
        return undefined;
      }
    }
    const target = (key && keyNode ? keyNode : node ?? keyNode) as
      | { range?: [number, number, number] }
      | null;
    const offset = target?.range?.[0];
    if (offset === undefined) return undefined;
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
}

/**
 * Parses and validates a YAML or JSON range description, and expands it.
 *
 * @param text the description
 * @param source how errors name it (a file name), default "description"
 * @returns the validated range with its concrete guests
 * @throws {RangeDescriptionError} listing every problem with its line, column and field
 */
export function parseRangeDescription(text: string, source = "description"): Range {
  const { document, lines } = parseYaml(text);
  if (document.errors.length > 0) {
    throw new RangeDescriptionError(
      source,
      document.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { path: "", line, column: col, message: `not valid YAML/JSON: ${e.message.split("\n")[0]}` };
      }),
    );
  }
  return validateRange(document.toJS({ maxAliasCount: 100 }), { source, locate: locator(document, lines) });
}

/** Options for {@link validateRange}. */
export interface ValidateOptions {
  /** How errors name the description. */
  source?: string;
  /** @internal maps a field to its line (set by parseRangeDescription). */
  locate?: (path: Path, key: boolean) => { line: number; column: number } | undefined;
}

/**
 * Validates a description given as a value (already parsed) and expands it.
 *
 * @param value the description object
 * @param options how errors name it
 * @returns the validated range
 * @throws {RangeDescriptionError} listing every problem with its field
 */
export function validateRange(value: unknown, options: ValidateOptions = {}): Range {
  const c = new Checker(options.locate ?? (() => undefined));
  const fail = () => new RangeDescriptionError(options.source ?? "description", c.issues);
  const root = c.object(value, [], [
    "name",
    "hosts",
    "storage",
    "networks",
    "baseImages",
    "guests",
    "snapshot",
  ], [
    "name",
    "hosts",
    "guests",
  ]);
  if (!root) throw fail();

  const name = c.string(root.name, ["name"]);
  if (name !== undefined && (!RANGE_NAME.test(name))) {
    c.add(
      ["name"],
      `range name ${
        JSON.stringify(name)
      } is not safe: use 1-32 letters, digits, "_" or "-" (no "."; it prefixes volume names)`,
    );
  }
  const snapshot = c.name(root.snapshot, ["snapshot"], "snapshot name") ?? "clean";

  // hosts
  const hosts = new Map<string, HostSpec>();
  c.list(root.hosts, ["hosts"], true).forEach((h, i) => {
    const o = c.object(h, ["hosts", i], ["id", "uri"], ["id", "uri"]);
    if (!o) return;
    const id = c.name(o.id, ["hosts", i, "id"], "host id");
    const uri = c.string(o.uri, ["hosts", i, "uri"]);
    if (uri !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
      c.add(["hosts", i, "uri"], `${JSON.stringify(uri)} is not a libvirt URI (e.g. "qemu:///system")`);
    }
    if (id === undefined || uri === undefined) return;
    if (hosts.has(id)) c.add(["hosts", i, "id"], `duplicate host id ${JSON.stringify(id)}`);
    else hosts.set(id, { id, uri });
  });
  if (Array.isArray(root.hosts) && root.hosts.length === 0) c.add(["hosts"], "must list at least one host");

  // storage
  let pool: Range["pool"] = { name: `${name}.pool`, created: true };
  if (root.storage !== undefined) {
    const s = c.object(root.storage, ["storage"], ["pool", "path"], []);
    if (s) {
      const poolName = c.name(s.pool, ["storage", "pool"], "pool name");
      const path = c.string(s.path, ["storage", "path"]);
      if (poolName !== undefined && path !== undefined) {
        c.add(
          ["storage", "path"],
          "give pool (an existing pool) or path (a pool the range creates), not both",
        );
      } else if (poolName !== undefined) pool = { name: poolName, created: false };
      else if (path !== undefined) {
        if (!path.startsWith("/")) {
          c.add(["storage", "path"], `${JSON.stringify(path)} must be an absolute path`);
        }
        pool = { name: `${name}.pool`, created: true, path };
      } else c.add(["storage"], "needs pool or path");
    }
  } else {
    c.add(["storage"], "is required (missing): name an existing pool (pool) or a directory (path)");
  }

  // networks
  const networks = new Map<
    string,
    { spec: NetworkSpec; cidr: ReturnType<typeof parseCidr>; index: number }
  >();
  const reserved = new Map<string, { address: string; path: Path }>(); // network/address -> owner
  c.list(root.networks, ["networks"], false).forEach((n, i) => {
    const p: Path = ["networks", i];
    const o = c.object(n, p, ["name", "mode", "subnet", "dhcp", "reservations", "bridge", "external"], [
      "name",
      "mode",
      "subnet",
    ]);
    if (!o) return;
    const netName = c.name(o.name, [...p, "name"], "network name");
    if (o.mode !== undefined && o.mode !== "nat" && o.mode !== "isolated") {
      c.add([...p, "mode"], `must be "nat" or "isolated", got ${JSON.stringify(o.mode)}`);
    }
    const subnetText = c.string(o.subnet, [...p, "subnet"]);
    let cidr: ReturnType<typeof parseCidr> | undefined;
    if (subnetText !== undefined) {
      try {
        cidr = parseCidr(subnetText);
        if (cidr.family !== "ipv4" || !subnetText.includes("/") || cidr.bits > 30 || cidr.bits < 8) {
          c.add([...p, "subnet"], `${JSON.stringify(subnetText)} must be an IPv4 subnet from /8 to /30`);
          cidr = undefined;
        } else if ((cidr.base & ((1n << BigInt(32 - cidr.bits)) - 1n)) !== 0n) {
          c.add(
            [...p, "subnet"],
            `${JSON.stringify(subnetText)} has host bits set: write the network address`,
          );
          cidr = undefined;
        }
      } catch {
        c.add([...p, "subnet"], `${JSON.stringify(subnetText)} is not a subnet: write e.g. "10.10.1.0/24"`);
      }
    }
    if (o.bridge !== undefined) {
      const b = c.name(o.bridge, [...p, "bridge"], "bridge name");
      if (b !== undefined && b.length > 15) {
        c.add([...p, "bridge"], `${JSON.stringify(b)} is longer than 15 characters`);
      }
    }
    if (o.external !== undefined && typeof o.external !== "boolean") {
      c.add([...p, "external"], "must be true or false");
    }
    let dhcp: NetworkSpec["dhcp"];
    if (o.dhcp !== undefined) {
      const d = c.object(o.dhcp, [...p, "dhcp"], ["start", "end"], ["start", "end"]);
      if (d) {
        const start = c.ipv4(d.start, [...p, "dhcp", "start"]);
        const end = c.ipv4(d.end, [...p, "dhcp", "end"]);
        if (cidr && start !== undefined && !inCidr(ipText(start), cidr)) {
          c.add([...p, "dhcp", "start"], `${ipText(start)} is outside the subnet ${cidr.text}`);
        } else if (cidr && end !== undefined && !inCidr(ipText(end), cidr)) {
          c.add([...p, "dhcp", "end"], `${ipText(end)} is outside the subnet ${cidr.text}`);
        } else if (start !== undefined && end !== undefined && start > end) {
          c.add([...p, "dhcp", "end"], `${ipText(end)} comes before the start ${ipText(start)}`);
        } else if (cidr && start !== undefined && start <= cidr.base + 1n) {
          c.add([...p, "dhcp", "start"], `${ipText(start)} is the network address or the gateway`);
        }
        if (start !== undefined && end !== undefined) dhcp = { start: ipText(start), end: ipText(end) };
      }
    }
    const reservations: ReservationSpec[] = [];
    c.list(o.reservations, [...p, "reservations"], false).forEach((r, j) => {
      const rp: Path = [...p, "reservations", j];
      const ro = c.object(r, rp, ["mac", "address", "name"], ["mac", "address"]);
      if (!ro) return;
      const mac = c.mac(ro.mac, [...rp, "mac"]);
      const address = c.ipv4(ro.address, [...rp, "address"]);
      const hostName = ro.name === undefined
        ? undefined
        : c.name(ro.name, [...rp, "name"], "reservation name");
      if (address !== undefined && cidr && !inCidr(ipText(address), cidr)) {
        c.add(
          [...rp, "address"],
          `${ipText(address)} is outside the subnet ${cidr.text} of network ${netName}`,
        );
      }
      if (mac && address !== undefined) {
        reservations.push({ mac, address: ipText(address), ...(hostName ? { name: hostName } : {}) });
        const key = `${netName}/${ipText(address)}`;
        if (reserved.has(key)) {
          c.add([...rp, "address"], `${ipText(address)} is reserved twice on ${netName}`);
        } else reserved.set(key, { address: ipText(address), path: rp });
      }
    });
    if (netName === undefined || cidr === undefined) return;
    if (networks.has(netName)) {
      c.add([...p, "name"], `duplicate network name ${JSON.stringify(netName)}`);
      return;
    }
    for (const [other, { cidr: oc }] of networks) {
      if (inCidr(ipText(cidr.base), oc) || inCidr(ipText(oc.base), cidr)) {
        c.add([...p, "subnet"], `${cidr.text} overlaps ${oc.text} of network ${JSON.stringify(other)}`);
      }
    }
    networks.set(netName, {
      spec: {
        name: netName,
        mode: o.mode as "nat" | "isolated",
        subnet: cidr.text,
        ...(dhcp ? { dhcp } : {}),
        reservations,
        ...(typeof o.bridge === "string" ? { bridge: o.bridge } : {}),
        ...(o.external === true ? { external: true } : {}),
      },
      cidr,
      index: i,
    });
  });

  // base images
  const images = new Map<string, BaseImageSpec>();
  c.list(root.baseImages, ["baseImages"], false).forEach((b, i) => {
    const o = c.object(b, ["baseImages", i], ["id", "path", "format"], ["id", "path"]);
    if (!o) return;
    const id = c.name(o.id, ["baseImages", i, "id"], "base image id");
    const path = c.string(o.path, ["baseImages", i, "path"]);
    if (path !== undefined && !path.startsWith("/")) {
      c.add(["baseImages", i, "path"], "must be an absolute path");
    }
    const format = c.string(o.format, ["baseImages", i, "format"]) ?? "qcow2";
    if (!["qcow2", "raw"].includes(format)) c.add(["baseImages", i, "format"], 'must be "qcow2" or "raw"');
    if (id === undefined || path === undefined) return;
    if (images.has(id)) c.add(["baseImages", i, "id"], `duplicate base image id ${JSON.stringify(id)}`);
    else images.set(id, { id, path, format });
  });

  // guests
  const guests: ExpandedGuest[] = [];
  const guestIds = new Set<string>();
  const explicitMacs = new Map<string, string>(); // mac -> where
  const planned = new Map<string, string>(); // network/address -> guest name
  const pendingMacs: { nic: ExpandedNic; guest: string; index: number; n: number }[] = [];
  c.list(root.guests, ["guests"], true).forEach((g, i) => {
    const p: Path = ["guests", i];
    const o = c.object(g, p, [
      "id",
      "baseImage",
      "kernel",
      "memory",
      "vcpus",
      "count",
      "type",
      "host",
      "hosts",
      "agent",
      "diskMiB",
      "nics",
    ], ["id", "memory"]);
    if (!o) return;
    const id = c.name(o.id, [...p, "id"], "guest id");
    if (id !== undefined) {
      if (guestIds.has(id)) c.add([...p, "id"], `duplicate guest id ${JSON.stringify(id)}`);
      guestIds.add(id);
    }
    const memory = c.integer(o.memory, [...p, "memory"], 1, 16 * 1024 * 1024);
    const vcpus = c.integer(o.vcpus, [...p, "vcpus"], 1, 4096) ?? 1;
    const count = o.count === undefined ? 1 : c.integer(o.count, [...p, "count"], 1, 100_000);
    if (o.count === 0) c.issues.at(-1)!.message = "is 0: a guest needs count >= 1 (remove the guest instead)";
    const diskMiB = c.integer(o.diskMiB, [...p, "diskMiB"], 1, 64 * 1024 * 1024) ?? 64;
    if (o.agent !== undefined && typeof o.agent !== "boolean") {
      c.add([...p, "agent"], "must be true or false");
    }
    if (o.type !== undefined && !["kvm", "qemu", "test"].includes(o.type as string)) {
      c.add([...p, "type"], `must be "kvm", "qemu" or "test", got ${JSON.stringify(o.type)}`);
    }
    let baseImage: BaseImageSpec | undefined;
    if (o.baseImage !== undefined) {
      const b = c.string(o.baseImage, [...p, "baseImage"]);
      if (b !== undefined) {
        baseImage = images.get(b);
        if (!baseImage) {
          c.add(
            [...p, "baseImage"],
            `unknown base image ${JSON.stringify(b)} (known: ${[...images.keys()].join(", ") || "none"})`,
          );
        }
      }
    }
    let kernel: KernelSpec | undefined;
    if (o.kernel !== undefined) {
      const k = c.object(o.kernel, [...p, "kernel"], ["kernel", "initrd", "cmdline"], ["kernel"]);
      if (k) {
        const kk = c.string(k.kernel, [...p, "kernel", "kernel"]);
        const initrd = c.string(k.initrd, [...p, "kernel", "initrd"]);
        const cmdline = k.cmdline === undefined
          ? undefined
          : typeof k.cmdline === "string"
          ? k.cmdline
          : undefined;
        if (k.cmdline !== undefined && cmdline === undefined) {
          c.add([...p, "kernel", "cmdline"], "must be a string");
        }
        if (kk) kernel = { kernel: kk, ...(initrd ? { initrd } : {}), ...(cmdline ? { cmdline } : {}) };
      }
    }
    if (o.baseImage !== undefined && o.kernel !== undefined) {
      // both is fine: the kernel boots, the overlay of the base image is its disk
    }
    // placement
    let placement: string[] = [];
    if (o.host !== undefined && o.hosts !== undefined) c.add([...p, "hosts"], "give host or hosts, not both");
    if (o.host !== undefined) {
      const h = c.string(o.host, [...p, "host"]);
      if (h !== undefined) {
        if (!hosts.has(h)) {
          c.add([...p, "host"], `unknown host ${JSON.stringify(h)} (known: ${[...hosts.keys()].join(", ")})`);
        } else placement = [h];
      }
    } else if (o.hosts !== undefined) {
      c.list(o.hosts, [...p, "hosts"], false).forEach((h, j) => {
        const hs = c.string(h, [...p, "hosts", j]);
        if (hs === undefined) return;
        if (!hosts.has(hs)) {
          c.add(
            [...p, "hosts", j],
            `unknown host ${JSON.stringify(hs)} (known: ${[...hosts.keys()].join(", ")})`,
          );
        } else placement.push(hs);
      });
    } else if (hosts.size > 0) {
      placement = [[...hosts.keys()][0]];
    }
    // nics
    const nicSpecs: { network: string; address?: bigint; mac?: string }[] = [];
    c.list(o.nics, [...p, "nics"], false).forEach((n, j) => {
      const np: Path = [...p, "nics", j];
      const no = c.object(n, np, ["network", "address", "mac"], ["network"]);
      if (!no) return;
      const net = c.string(no.network, [...np, "network"]);
      const mac = no.mac === undefined ? undefined : c.mac(no.mac, [...np, "mac"]);
      const address = no.address === undefined ? undefined : c.ipv4(no.address, [...np, "address"]);
      if (net === undefined) return;
      const network = networks.get(net);
      if (!network) {
        c.add(
          [...np, "network"],
          `unknown network ${JSON.stringify(net)} (known: ${[...networks.keys()].join(", ") || "none"})`,
        );
        return;
      }
      if (address !== undefined) {
        const size = 1n << BigInt(32 - network.cidr.bits);
        const last = address + BigInt((count ?? 1) - 1);
        if (!inCidr(ipText(address), network.cidr) || !inCidr(ipText(last), network.cidr)) {
          c.add(
            [...np, "address"],
            `${ipText(address)}${
              (count ?? 1) > 1 ? `..${ipText(last)}` : ""
            } is outside the subnet ${network.cidr.text} of network ${net}`,
          );
          return;
        }
        if (address <= network.cidr.base + 1n || last >= network.cidr.base + size - 1n) {
          c.add(
            [...np, "address"],
            `${ipText(address)} collides with the network address, the gateway or the broadcast address`,
          );
          return;
        }
      }
      nicSpecs.push({ network: net, ...(address !== undefined ? { address } : {}), ...(mac ? { mac } : {}) });
    });
    if (
      id === undefined || memory === undefined || count === undefined || placement.length === 0 ||
      name === undefined
    ) {
      return;
    }
    for (let n = 1; n <= count; n++) {
      const hostId = placement[(n - 1) % placement.length];
      const host = hosts.get(hostId)!;
      const type = (o.type as ExpandedGuest["type"] | undefined) ??
        (host.uri.startsWith("test") ? "test" : "kvm");
      if (n === 1 && type !== "test" && memory < QEMU_MIN_MIB) {
        c.add(
          [...p, "memory"],
          `${memory} MiB is below the ${QEMU_MIN_MIB} MiB a QEMU guest needs to boot (96 or more advised)`,
        );
      }
      const guestName = `${name}-${id}-${n}`;
      if (guestName.length > 63) {
        c.add([...p, "id"], `domain name ${JSON.stringify(guestName)} would be longer than 63 characters`);
        return;
      }
      const nics: ExpandedNic[] = nicSpecs.map((s, j) => {
        const nic: ExpandedNic = { network: s.network, mac: "", generatedMac: s.mac === undefined };
        if (s.mac) {
          nic.mac = macAdd(s.mac, n - 1);
          const other = explicitMacs.get(nic.mac);
          if (other) {
            c.add([...p, "nics", j, "mac"], `MAC ${nic.mac} of ${guestName} is also the MAC of ${other}`);
          } else explicitMacs.set(nic.mac, guestName);
        } else {
          pendingMacs.push({ nic, guest: id, index: n, n: j });
        }
        if (s.address !== undefined) {
          nic.address = ipText(s.address + BigInt(n - 1));
          const key = `${s.network}/${nic.address}`;
          const owner = planned.get(key) ?? (reserved.has(key) ? "a reservation" : undefined);
          if (owner) {
            c.add(
              [...p, "nics", j, "address"],
              `planned address ${nic.address} of ${guestName} is already planned for ${owner}`,
            );
          } else planned.set(key, guestName);
        }
        return nic;
      });
      guests.push({
        name: guestName,
        guestId: id,
        index: n,
        hostId,
        uri: host.uri,
        type,
        memoryMiB: memory,
        vcpus,
        agent: o.agent === true,
        ...(baseImage ? { baseImage } : {}),
        ...(kernel ? { kernel } : {}),
        volume: `${name}.${id}-${n}.qcow2`,
        diskMiB,
        nics,
      });
    }
  });
  if (Array.isArray(root.guests) && root.guests.length === 0) {
    c.add(["guests"], "must list at least one guest");
  }
  if (c.issues.length > 0) throw fail();

  const taken = new Set(explicitMacs.keys());
  for (const { nic, guest, index, n } of pendingMacs) {
    nic.mac = generatedMac(name!, guest, index, n, taken);
    taken.add(nic.mac);
  }
  const networksByHost = new Map<string, NetworkSpec[]>();
  for (const g of guests) {
    const list = networksByHost.get(g.hostId) ?? [];
    for (const nic of g.nics) {
      const spec = networks.get(nic.network)!.spec;
      if (!spec.external && !list.includes(spec)) list.push(spec);
    }
    networksByHost.set(g.hostId, list);
  }
  for (const list of networksByHost.values()) {
    list.sort((a, b) => networks.get(a.name)!.index - networks.get(b.name)!.index);
  }
  const description: RangeDescription = {
    name: name!,
    hosts: [...hosts.values()],
    storage: pool.created ? { path: pool.path ?? "" } : { pool: pool.name },
    networks: [...networks.values()].map((n) => n.spec),
    baseImages: [...images.values()],
    guests: root.guests as GuestSpec[],
    snapshot,
  };
  return { description, name: name!, guests, networksByHost, pool, snapshot };
}
