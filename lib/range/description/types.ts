/**
 * The types of range descriptions: what is written (the `*Spec` interfaces), what validation makes of
 * it ({@link Range}, {@link ExpandedGuest}), the bounds a parse enforces ({@link DescriptionLimits}) and
 * the error that lists what is wrong ({@link RangeDescriptionError}).
 *
 * @module
 */

/** One libvirt host of the range. */
export interface HostSpec {
  /** The id guests name in `host` / `hosts`. */
  id: string;
  /** The libvirt URI: `test:///default`, `qemu:///system`, `qemu+tcp://10.0.0.2/system`, ... */
  uri: string;
}

/** A DHCP host reservation of a network. */
export interface ReservationSpec {
  /** The NIC's MAC the reservation answers. */
  mac: string;
  /** The address handed out. */
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
  /** The id guests name in `baseImage`. */
  id: string;
  /** The image's path on each host that runs guests of it. */
  path: string;
  /** "qcow2" (default) or "raw". */
  format?: string;
  /**
   * A copy of the image on the machine running `up`: a host whose pool lacks `path` gets it uploaded
   * from here over the libvirt connection (lib/range/images.ts). Default: `path` itself, read locally.
   */
  source?: string;
}

/** Direct kernel boot. */
export interface KernelSpec {
  /** Path of the kernel image on the host. */
  kernel: string;
  /** Path of the initrd on the host. */
  initrd?: string;
  /** The kernel command line. */
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
  /** The kind's id: guests are named `<range>-<id>-<n>`. */
  id: string;
  /** The id of a base image the guest's disk is an overlay of. */
  baseImage?: string;
  /** Direct kernel boot instead of booting from the disk. */
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
  /** Several host ids: instances are spread over them round-robin. */
  hosts?: string[];
  /** Add the qemu-guest-agent channel. Default false. */
  agent?: boolean;
  /** Size of the overlay (or of the empty data disk of kernel-boot guests without base image), MiB. */
  diskMiB?: number;
  /** The NICs, each on a network of the description. */
  nics?: NicSpecInput[];
  /**
   * What `range up` does inside each instance once it runs, in order, through the QEMU guest agent
   * (needs `agent: true`): accounts, files, programs, packages. See {@link GuestTask}.
   */
  tasks?: GuestTask[];
  /**
   * Extra inventory groups of its instances (letters, digits and "_", not starting with a digit),
   * besides the groups every guest is in (its kind, its host, its networks).
   */
  groups?: string[];
}

/** Creates an account (idempotent: an existing account keeps its settings and gets the password). */
export interface AddAccountTask {
  /** The task kind. */
  type: "addAccount";
  /** The account's name (1-32 letters, digits, "_", "-" or ".", not starting with a digit, "-" or "."). */
  account: string;
  /** Its password, set with virDomainSetUserPassword (plain text, as in CyRIS). */
  password: string;
  /** The account's full name (the GECOS field). */
  fullName?: string;
}

/** Renames an account and/or sets its password. */
export interface ModifyAccountTask {
  /** The task kind. */
  type: "modifyAccount";
  /** The existing account. */
  account: string;
  /** Its new name. */
  newAccount?: string;
  /** Its new password. */
  newPassword?: string;
}

/** Copies a file or directory of the machine running `range up` into a directory of the guest. */
export interface CopyContentTask {
  /** The task kind. */
  type: "copyContent";
  /** Absolute path of a file or directory where `range up` runs. */
  src: string;
  /** Absolute path of the guest directory it is copied into (`dst/<basename of src>`); made if missing. */
  dst: string;
  /** The files' mode as an octal string ("0644"); default: the source file's mode. */
  mode?: string;
}

/** Runs a program in the guest (once per guest: a marker in the guest records that it succeeded). */
export interface ExecuteProgramTask {
  /** The task kind. */
  type: "executeProgram";
  /** Absolute path of the program in the guest. */
  program: string;
  /** The interpreter it is run with ("bash", "python3", a path); default: the program itself. */
  interpreter?: string;
  /** Its arguments, as shell words (run by /bin/sh, as CyRIS runs them over SSH). */
  args?: string;
}

/** The package managers an {@link InstallPackageTask} can use. */
export type PackageManager = "apt-get" | "dnf" | "yum" | "apk" | "zypper";

/** Installs a package with the guest's package manager (skipped, with the reason, when it has none). */
export interface InstallPackageTask {
  /** The task kind. */
  type: "installPackage";
  /** The package's name. */
  name: string;
  /** A version; default the manager's choice. */
  version?: string;
  /** The package manager; default: the first of apt-get, dnf, yum, apk, zypper the guest has. */
  manager?: PackageManager;
}

/** One task of a guest (the `tasks` list of a {@link GuestSpec}). */
export type GuestTask =
  | AddAccountTask
  | ModifyAccountTask
  | CopyContentTask
  | ExecuteProgramTask
  | InstallPackageTask;

/**
 * One firewall rule: what may reach the guests of kind `to` from a source. From that source only new
 * connections to the `allow`ed services get through (replies to connections the guests opened always
 * do); sources no rule names are not filtered. docs/range.md, "Firewall".
 */
export interface FirewallRuleSpec {
  /**
   * The source: a network of the description (its subnet), a guest kind (its instances' planned
   * addresses), or "any". Written "network:NAME" or "guest:ID" when a name is both.
   */
  from: string;
  /** The guest kind whose NICs get the filter. */
  to: string;
  /** Services allowed: "tcp/22", "udp/53", "tcp/8000-8100", "icmp", "all"; an empty list blocks all. */
  allow: string[];
}

/** The whole description, as written. */
export interface RangeDescription {
  /** 1-32 letters, digits, "_" or "-": it prefixes everything the range creates. */
  name: string;
  /** The libvirt hosts, at least one. */
  hosts: HostSpec[];
  /** Where volumes go: an existing pool, or a directory the range makes a pool of (`<name>.pool`). */
  storage?: { pool?: string; path?: string };
  /** The networks the range creates (or uses, when `external`). */
  networks?: NetworkSpec[];
  /** The base images guests are cloned from. */
  baseImages?: BaseImageSpec[];
  /** The guest kinds, at least one. */
  guests: GuestSpec[];
  /** The snapshot `reset` reverts to, default "clean". */
  snapshot?: string;
  /** Firewall rules between the range's networks and guests (nwfilter rules on the guests' NICs). */
  firewall?: FirewallRuleSpec[];
}

/** One NIC of a concrete guest. */
export interface ExpandedNic {
  /** The network's name. */
  network: string;
  /** Its MAC (written or generated). */
  mac: string;
  /** Its planned address, when the description gives one. */
  address?: string;
  /** True when the MAC was generated, not written in the description. */
  generatedMac: boolean;
}

/** One concrete guest (a libvirt domain). */
export interface ExpandedGuest {
  /** `<range>-<guest>-<n>` */
  name: string;
  /** The guest kind's id. */
  guestId: string;
  /** 1-based. */
  index: number;
  /** The id of the host it runs on. */
  hostId: string;
  /** That host's libvirt URI. */
  uri: string;
  /** The hypervisor type. */
  type: "kvm" | "qemu" | "test";
  /** Memory, MiB. */
  memoryMiB: number;
  /** Virtual CPUs. */
  vcpus: number;
  /** Whether the qemu-guest-agent channel is added. */
  agent: boolean;
  /** The base image its overlay is made of. */
  baseImage?: BaseImageSpec;
  /** Direct kernel boot. */
  kernel?: KernelSpec;
  /** The volume's name in the pool: `<range>.<guest>-<n>.qcow2`. */
  volume: string;
  /** The size of its disk, MiB. */
  diskMiB: number;
  /** Its NICs, with MACs and planned addresses. */
  nics: ExpandedNic[];
  /** Its tasks (validated), when its kind has any. */
  tasks?: GuestTask[];
  /** Its extra inventory groups, when its kind names any. */
  groups?: string[];
}

/** A validated description and its expansion. */
export interface Range {
  /** The description, normalized (networks, base images and hosts as validated). */
  description: RangeDescription;
  /** The range name: the prefix of everything it creates. */
  name: string;
  /** The concrete guests. */
  guests: ExpandedGuest[];
  /** Per host id: the networks the range creates there (external ones excluded). */
  networksByHost: Map<string, NetworkSpec[]>;
  /** The storage pool volumes go into. */
  pool: { name: string; created: boolean; path?: string };
  /** The snapshot name `reset` reverts to. */
  snapshot: string;
  /**
   * The bounds it was validated within (defaults merged with the caller's), so that the operations'
   * re-check of the Range (lib/range/_libvirt.ts `verifiedRange`) applies the same ones.
   */
  limits?: DescriptionLimits;
}

/** One problem found in a description. */
export interface DescriptionIssue {
  /** The field, e.g. "guests[2].nics[0].mac". */
  path: string;
  /** 1-based, when the description came from text. */
  line?: number;
  /** 1-based column, when the description came from text. */
  column?: number;
  /** What is wrong, and how to fix it. */
  message: string;
}

/**
 * The bounds a description must stay within. Every bound has a default ({@link DEFAULT_LIMITS}) far
 * above any real range; a caller raises one through `limits` in the options of `parseRangeDescription`
 * or `validateRange`.
 */
export interface DescriptionLimits {
  /** Most concrete guests the description may expand to (the sum of every `count`). Default 1,000. */
  maxGuests: number;
  /** Longest string value (paths, URIs, command lines, names), in characters. Default 4,096. */
  maxStringLength: number;
  /** Largest description text, in UTF-8 bytes. Default 1 MiB. */
  maxDocumentBytes: number;
  /** Deepest nesting of mappings and lists in the text. Default 32. */
  maxDepth: number;
  /** Most YAML aliases (`*name`) in the text. Default 200. */
  maxYamlAliases: number;
  /** Most YAML nodes the text stands for once its aliases are expanded. Default 200,000. */
  maxYamlNodes: number;
  /** Most problems an error records and lists; the rest are counted ("and 12 more"). Default 20. */
  maxIssues: number;
  /** Longest quotation of a value inside a message, in characters (the rest is elided). Default 64. */
  maxQuotedLength: number;
}

/** The bounds used where a caller gives none. */
export const DEFAULT_LIMITS: Readonly<DescriptionLimits> = Object.freeze({
  maxGuests: 1000,
  maxStringLength: 4096,
  maxDocumentBytes: 1024 * 1024,
  maxDepth: 32,
  maxYamlAliases: 200,
  maxYamlNodes: 200_000,
  maxIssues: 20,
  maxQuotedLength: 64,
});

/**
 * Quotes a value for a message, elided past `max` characters so that a 50 MB value cannot make a
 * 50 MB error message.
 *
 * @param value the value
 * @param max the longest quotation, in characters
 * @returns the JSON quotation, e.g. `"web"` or `"aaaa…" (50000000 characters)`
 */
export function quote(value: unknown, max: number = DEFAULT_LIMITS.maxQuotedLength): string {
  if (typeof value === "string" && value.length > max) {
    return `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)`;
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > max + 2 ? `${text.slice(0, max)}…` : text;
}

/**
 * A description that cannot be used. `issues` lists the problems found (at most `limits.maxIssues`),
 * each with its field and, when the description came from text, its line and column; `omitted` counts
 * the problems past that bound. Nothing has been created when this is thrown.
 *
 * @example
 * ```ts
 * import { parseRangeDescription, RangeDescriptionError } from "@deno-libvirt/deno-libvirt/range";
 * try {
 *   parseRangeDescription("name: demo\nhosts: []\n", "demo.yaml");
 * } catch (e) {
 *   if (!(e instanceof RangeDescriptionError)) throw e;
 *   for (const issue of e.issues) console.log(`${issue.line}:${issue.column} ${issue.path}: ${issue.message}`);
 * }
 * ```
 */
export class RangeDescriptionError extends Error {
  /** The problems found, in document order of discovery. */
  readonly issues: DescriptionIssue[];
  /** How many more problems were found than `issues` holds. */
  readonly omitted: number;
  /**
   * Builds the error; its message lists every recorded problem, one a line.
   *
   * @param source the file name or "description"
   * @param issues what is wrong (at least one)
   * @param omitted how many further problems were found but not recorded
   */
  constructor(source: string, issues: DescriptionIssue[], omitted = 0) {
    const where = (i: DescriptionIssue) =>
      `${i.line !== undefined ? `line ${i.line}, column ${i.column}: ` : ""}${
        i.path || "(top)"
      }: ${i.message}`;
    super(
      `Cannot use range description ${quote(source, 200)}: ${where(issues[0])}` +
        (issues.length > 1 ? `\n${issues.slice(1).map((i) => `  also ${where(i)}`).join("\n")}` : "") +
        (omitted > 0 ? `\n  and ${omitted} more problem${omitted === 1 ? "" : "s"}` : ""),
    );
    this.name = "RangeDescriptionError";
    this.issues = issues;
    this.omitted = omitted;
  }
}

/** The domain-metadata namespace that tags what a range created (`<range:tags>` with key "range"). */
export const RANGE_NAMESPACE = "urn:deno-libvirt:range:1";
