/**
 * A domain XML builder for the cyber-range case: name, memory, vCPUs, disks (with a backing image),
 * NICs on networks or bridges, the guest-agent channel, direct kernel boot, a serial console, metadata
 * and the on_poweroff / on_reboot / on_crash actions.
 *
 * Names, MACs, disk targets and other identifiers are validated up front, with a `TypeError` that
 * names the field and the fix; every other value goes through {@link escapeXml}, so a value containing
 * `<`, `&`, quotes or `]]>` comes out as text, never as markup, and a character XML cannot carry (NUL,
 * U+FFFE, lone surrogates) is refused with a `TypeError` naming the field.
 *
 * @example
 * ```ts
 * import { buildDomainXml } from "@deno-libvirt/deno-libvirt";
 * const xml = buildDomainXml({
 *   name: "web1",
 *   type: "kvm",
 *   memoryMiB: 1024,
 *   vcpus: 2,
 *   disks: [{ path: "/var/lib/libvirt/images/web1.qcow2", format: "qcow2" }],
 *   nics: [{ network: "range-dmz", mac: "52:54:00:12:34:56", model: "virtio" }],
 *   guestAgent: true,
 *   serial: { type: "pty" },
 *   metadata: { namespace: "https://example.org/range/1", values: { role: "victim", team: "blue" } },
 * });
 * console.log(xml.startsWith("<domain type='kvm'>"));
 * ```
 *
 * @module
 */
import { XMLParser } from "./_deps_xml.ts";
import { escapeXml } from "./xml.ts";

/** One disk of a {@link DomainSpec}. */
export interface DiskSpec {
  /** The image file (or block device with `type: "block"`) path. */
  path: string;
  /** "file" (default) or "block". */
  type?: "file" | "block";
  /** The image format: "qcow2" (default), "raw", ... */
  format?: string;
  /** "disk" (default) or "cdrom". */
  device?: "disk" | "cdrom";
  /** The guest bus: "virtio" (default for disks), "sata", "scsi", "ide" (default for cdroms: "sata"). */
  bus?: "virtio" | "sata" | "scsi" | "ide" | "usb";
  /** The guest device name, e.g. "vda"; assigned in order per bus when omitted. */
  target?: string;
  /** Read-only disk. */
  readonly?: boolean;
  /**
   * The backing image the file is an overlay of (`<backingStore>`). Creating the overlay itself is the
   * storage API's job (qcow2OverlayXml / createVolume); this only describes the chain to libvirt.
   */
  backing?: { path: string; format?: string };
}

/** One NIC of a {@link DomainSpec}: exactly one of `network` or `bridge`. */
export interface NicSpec {
  /** A libvirt virtual network's name (`<interface type='network'>`). */
  network?: string;
  /** A host bridge's name (`<interface type='bridge'>`). */
  bridge?: string;
  /** MAC address, "52:54:00:xx:xx:xx"; libvirt assigns one when omitted. */
  mac?: string;
  /** Device model: "virtio" (default), "e1000", "rtl8139", ... */
  model?: string;
  /** Host-side device name, e.g. "range-web1-0" (`<target dev>`); libvirt picks vnetN when omitted. */
  targetDev?: string;
}

/** Direct kernel boot. */
export interface KernelBootSpec {
  /** Path of the kernel image on the host. */
  kernel: string;
  /** Path of the initrd on the host. */
  initrd?: string;
  /** The kernel command line. */
  cmdline?: string;
}

/** The serial console: a pseudo-terminal (`virsh console`) or a log file on the host. */
export type SerialSpec = { type: "pty" } | { type: "file"; path: string; append?: boolean };

/** A namespaced metadata element holding a string map (see {@link metadataXml}). */
export interface MetadataSpec {
  /** The namespace URI that identifies the element, e.g. "https://example.org/range/1". */
  namespace: string;
  /** The XML prefix libvirt writes, default "range". */
  prefix?: string;
  /** The entries; numbers and booleans are written as their string form. */
  values: Record<string, string | number | boolean>;
}

/** What to do when the guest powers off, reboots or crashes. */
export type LifecycleAction =
  | "destroy"
  | "restart"
  | "preserve"
  | "rename-restart"
  | "coredump-destroy"
  | "coredump-restart";

/** Everything {@link buildDomainXml} can describe. */
export interface DomainSpec {
  /** 1-63 letters, digits, "-", "_" or ".", not starting with ".". */
  name: string;
  /** The hypervisor: "kvm" (default), "qemu" (emulation, no KVM), "test" (libvirt's test driver). */
  type?: "kvm" | "qemu" | "test";
  /** A fixed UUID; libvirt generates one when omitted. */
  uuid?: string;
  /** A short title (`<title>`, one line). */
  title?: string;
  /** A free-text description. */
  description?: string;
  /** Memory, MiB (positive integer). */
  memoryMiB: number;
  /** Maximum memory for ballooning, MiB; default `memoryMiB`. */
  maxMemoryMiB?: number;
  /** Virtual CPUs (1-4096). */
  vcpus: number;
  /** Guest architecture, default "x86_64". */
  arch?: string;
  /** Machine type, e.g. "q35"; libvirt's default when omitted. */
  machine?: string;
  /** CPU mode: "host-passthrough" / "host-model" (KVM), or omitted for the hypervisor's default. */
  cpuMode?: "host-passthrough" | "host-model" | "maximum";
  /** The disks, in boot order (the first boots when there is no kernel). */
  disks?: DiskSpec[];
  /** The NICs. */
  nics?: NicSpec[];
  /** Add the qemu-guest-agent virtio channel (`org.qemu.guest_agent.0`). */
  guestAgent?: boolean;
  /** Boot a kernel directly instead of from a disk. */
  kernel?: KernelBootSpec;
  /** A serial console (plus the matching `<console>`). */
  serial?: SerialSpec;
  /** A namespaced string map in `<metadata>` (see {@link metadataXml}). */
  metadata?: MetadataSpec;
  /** What libvirt does when the guest powers off. */
  onPoweroff?: LifecycleAction;
  /** What libvirt does when the guest reboots. */
  onReboot?: LifecycleAction;
  /** What libvirt does when the guest crashes. */
  onCrash?: LifecycleAction;
}

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,62}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const TARGET = /^(vd|sd|hd|xvd)[a-z]{1,3}$/;
const TOKEN = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;
const ACTIONS = new Set([
  "destroy",
  "restart",
  "preserve",
  "rename-restart",
  "coredump-destroy",
  "coredump-restart",
]);

/** A value quoted for an error message, elided past 80 characters (a 50 MB value, a 50 MB message). */
function shown(value: unknown): string {
  if (typeof value === "string") {
    return value.length > 80
      ? `${JSON.stringify(value.slice(0, 80))}… (${value.length} characters)`
      : JSON.stringify(value);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // a cycle or a BigInt
  }
  text ??= typeof value === "object" && value !== null
    ? Object.prototype.toString.call(value)
    : String(value);
  return text.length > 82 ? `${text.slice(0, 80)}…` : text;
}

function fail(field: string, value: unknown, fix: string, action = "build domain XML"): never {
  throw new TypeError(`Cannot ${action}: ${field} ${shown(value)} ${fix}`);
}

// XML 1.0 `Char` complement: what no escape can express (NUL, C0 controls but tab/LF/CR, lone
// surrogates, U+FFFE, U+FFFF).
const NOT_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** escapeXml with the field named in the error (and the value elided, not repeated in full). */
function text(field: string, value: unknown): string {
  if (typeof value !== "string") fail(field, value, "must be a string");
  const bad = NOT_XML.exec(value);
  if (bad !== null) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    throw new TypeError(
      `Cannot build domain XML: ${field}: ${shown(value)} contains U+${code} at position ${bad.index}, ` +
        "which XML cannot carry: remove it",
    );
  }
  return escapeXml(value);
}

/**
 * A plain object (a mapping) none of whose fields is null, or a TypeError naming the field: an optional
 * field is omitted (or undefined) for its default, never null, so a null cannot silently become "kvm".
 */
function record(field: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(field, value, "must be an object");
  }
  for (const [key, v] of Object.entries(value)) {
    if (v === null) {
      fail(field === "spec" ? key : `${field}.${key}`, v, "is null: omit the field for its default");
    }
  }
  return value as Record<string, unknown>;
}

/** A list, or a TypeError naming the field. */
function list(field: string, value: unknown): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(field, value, "must be a list (an array)");
  return value;
}

/** Letters, digits, "_.-", not starting with a digit, "-", "." or "xml": an XML name without a colon. */
const NCNAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/**
 * Checks a metadata namespace prefix (the XML prefix libvirt writes, `range` in `<range:tags>`).
 *
 * @param prefix the candidate
 * @param field how the error names it
 * @param action what the error says could not be done ("Cannot <action>: ...")
 * @returns the prefix, unchanged
 * @throws {TypeError} naming the field when it is not an XML name (or starts with "xml")
 *
 * @example
 * ```ts
 * import { validateMetadataPrefix } from "@deno-libvirt/deno-libvirt";
 * console.log(validateMetadataPrefix("range")); // "range"
 * ```
 */
export function validateMetadataPrefix(
  prefix: string,
  field = "metadata.prefix",
  action = "build domain XML",
): string {
  if (typeof prefix !== "string" || !NCNAME.test(prefix) || /^xml/i.test(prefix)) {
    fail(
      field,
      prefix,
      'is not an XML name: 1-64 letters, digits, "_", "." or "-", starting with a letter or "_", not with "xml" (e.g. "range")',
      action,
    );
  }
  return prefix;
}

/** RFC 3986 URI characters, less "&" and "'" (libvirt writes the namespace unescaped). */
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$()*+,;=]|%[0-9A-Fa-f]{2})+$/;

/**
 * Checks a metadata namespace URI: an absolute URI (a scheme, ":" and at least one character) of
 * RFC 3986 characters, at most 2,048 long, without "&" or "'". Those two are legal in URIs, but
 * libvirt writes the namespace into the domain XML unescaped, so a URI such as `a&b` gives a domain
 * definition that libvirt itself cannot read back.
 *
 * @param uri the candidate, e.g. "https://example.org/range/1" or "urn:example:range:1"
 * @param field how the error names it
 * @param action what the error says could not be done ("Cannot <action>: ...")
 * @returns the URI, unchanged
 * @throws {TypeError} naming the field and what is wrong
 *
 * @example
 * ```ts
 * import { validateMetadataNamespace } from "@deno-libvirt/deno-libvirt";
 * console.log(validateMetadataNamespace("urn:example:range:1")); // "urn:example:range:1"
 * ```
 */
export function validateMetadataNamespace(
  uri: string,
  field = "metadata.namespace",
  action = "build domain XML",
): string {
  if (typeof uri !== "string" || uri.length > 2048 || !URI.test(uri)) {
    const why = typeof uri !== "string"
      ? "must be a string"
      : uri.length > 2048
      ? `is ${uri.length} characters long; the limit is 2048`
      : !/^[A-Za-z][A-Za-z0-9+.-]*:./.test(uri)
      ? "is not an absolute URI (a scheme such as https: or urn: first)"
      : /[&']/.test(uri)
      ? 'contains "&" or "\'", which libvirt would write unescaped into the domain XML'
      : "contains characters a URI cannot hold (write spaces, quotes, <, > and non-ASCII as %XX)";
    fail(field, uri, `${why}: use e.g. "https://example.org/range/1" or "urn:example:range:1"`, action);
  }
  return uri;
}

function nonEmpty(field: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") fail(field, value, "must be a non-empty string");
  return text(field, value);
}

function token(field: string, value: string, example: string): string {
  if (typeof value !== "string" || !TOKEN.test(value)) {
    fail(
      field,
      value,
      `is not a plain identifier: use letters, digits, "_.+-", e.g. ${JSON.stringify(example)}`,
    );
  }
  return value;
}

/**
 * Checks a domain name the way the builder does.
 *
 * @param name the candidate
 * @returns the name, unchanged
 * @throws {TypeError} naming the rule it breaks
 * @example
 * ```ts
 * import { validateDomainName } from "@deno-libvirt/deno-libvirt";
 * console.log(validateDomainName("web-1")); // "web-1"; "web/1" throws a TypeError naming the fix
 * ```
 */
export function validateDomainName(name: string): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    const why = typeof name !== "string"
      ? "must be a string"
      : name.startsWith(".")
      ? 'must not start with "."'
      : name.length > 63
      ? `is ${name.length} characters long; the limit is 63`
      : name.length === 0
      ? "is empty"
      : "contains characters libvirt names should not";
    fail(
      "name",
      typeof name === "string" && name.length > 80 ? name.slice(0, 80) + "..." : name,
      `${why}: use 1-63 letters, digits, "-", "_" or ".", not starting with "." (e.g. "web-01")`,
    );
  }
  return name;
}

/**
 * Checks and normalizes a MAC address for a NIC.
 *
 * @param mac e.g. "52:54:00:AB:cd:01"
 * @param field how error messages name it
 * @returns the address in lower case
 * @throws {TypeError} for a malformed, multicast or all-zero address
 * @example
 * ```ts
 * import { validateMac } from "@deno-libvirt/deno-libvirt";
 * console.log(validateMac("52:54:00:AB:CD:EF")); // "52:54:00:ab:cd:ef"
 * ```
 */
export function validateMac(mac: string, field = "mac"): string {
  if (typeof mac !== "string" || !MAC.test(mac)) {
    fail(field, mac, 'is not a MAC address: use six colon-separated hex bytes, e.g. "52:54:00:12:34:56"');
  }
  const lower = mac.toLowerCase();
  if (parseInt(lower.slice(0, 2), 16) & 1) {
    fail(field, mac, 'is a multicast address (odd first byte): use a unicast one, e.g. "52:54:00:12:34:56"');
  }
  if (lower === "00:00:00:00:00:00") fail(field, mac, 'is all zeros: use e.g. "52:54:00:12:34:56"');
  return lower;
}

function positiveInteger(field: string, value: unknown, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    fail(field, value, `must be an integer from 1 to ${max}`);
  }
  return value;
}

function action(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!ACTIONS.has(value)) fail(field, value, `must be one of ${[...ACTIONS].join(", ")}`);
  return value;
}

/**
 * The metadata element for a string map, unprefixed (what `setDomainMetadata` takes):
 * `<tags><tag key="role">victim</tag></tags>`. Keys and values are escaped.
 *
 * @param values the entries
 * @param prefix an optional namespace prefix for the elements ("range" → `<range:tags>`)
 * @param namespace the namespace URI, declared on the root when `prefix` is given
 * @returns the element
 * @throws {TypeError} for an empty key or a character XML cannot carry
 * @example
 * ```ts
 * import { metadataXml, parseMetadataXml } from "@deno-libvirt/deno-libvirt";
 * const xml = metadataXml({ role: "victim", team: "blue" });
 * console.log(xml, parseMetadataXml(xml).role); // ... victim
 * ```
 */
export function metadataXml(
  values: Record<string, string | number | boolean>,
  prefix?: string,
  namespace?: string,
): string {
  if (prefix !== undefined) validateMetadataPrefix(prefix);
  const p = prefix === undefined ? "" : `${prefix}:`;
  const declaration = prefix === undefined
    ? ""
    : ` xmlns:${prefix}='${text("metadata.namespace", validateMetadataNamespace(namespace as string))}'`;
  let xml = `<${p}tags${declaration}>`;
  for (const [key, value] of Object.entries(record("metadata.values", values))) {
    if (key === "") fail("metadata key", key, "must not be empty");
    if (
      (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") ||
      (typeof value === "number" && !Number.isFinite(value))
    ) {
      fail(`metadata.values[${shown(key)}]`, value, "must be a string, a finite number or a boolean");
    }
    xml += `<${p}tag key='${text(`metadata key ${JSON.stringify(key)}`, key)}'>${
      text(`metadata.values[${JSON.stringify(key)}]`, String(value))
    }</${p}tag>`;
  }
  return xml + `</${p}tags>`;
}

const metadataParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true,
  removeNSPrefix: true,
  isArray: (name) => name === "tag",
});

/**
 * Reads the string map back from a metadata element written by {@link metadataXml} (with or without a
 * namespace prefix, as libvirt returns it from `getDomainMetadata`).
 *
 * @param xml the `<tags>` element
 * @returns the entries
 * @throws {TypeError} when the element is not a `<tags>` map
 *
 * @example
 * ```ts
 * import { metadataXml, parseMetadataXml } from "@deno-libvirt/deno-libvirt";
 * console.log(parseMetadataXml(metadataXml({ role: "red & blue" }))); // { role: "red & blue" }
 * ```
 */
export function parseMetadataXml(xml: string): Record<string, string> {
  const root = (metadataParser.parse(xml) as Record<string, unknown>).tags;
  if (root === undefined) throw new TypeError("Cannot read metadata: the element is not a <tags> map");
  const result: Record<string, string> = {};
  if (root === "" || typeof root !== "object") return result;
  for (const tag of ((root as Record<string, unknown>).tag ?? []) as Record<string, unknown>[]) {
    const key = tag["@_key"];
    if (typeof key !== "string") continue;
    const value = tag["#text"];
    result[key] = typeof value === "string" ? value : "";
  }
  return result;
}

function diskXml(disk: DiskSpec, index: number, used: Set<string>): string {
  const field = `disks[${index}]`;
  const device = disk.device ?? "disk";
  if (device !== "disk" && device !== "cdrom") fail(`${field}.device`, device, 'must be "disk" or "cdrom"');
  const type = disk.type ?? "file";
  if (type !== "file" && type !== "block") fail(`${field}.type`, type, 'must be "file" or "block"');
  const bus = disk.bus ?? (device === "cdrom" ? "sata" : "virtio");
  if (!["virtio", "sata", "scsi", "ide", "usb"].includes(bus)) {
    fail(`${field}.bus`, bus, 'must be "virtio", "sata", "scsi", "ide" or "usb"');
  }
  const format = token(`${field}.format`, disk.format ?? (device === "cdrom" ? "raw" : "qcow2"), "qcow2");
  let target = disk.target;
  if (target === undefined) {
    const prefix = bus === "virtio" ? "vd" : bus === "ide" ? "hd" : "sd";
    for (let i = 0; i < 26; i++) {
      const candidate = prefix + String.fromCharCode(97 + i);
      if (!used.has(candidate)) {
        target = candidate;
        break;
      }
    }
    if (target === undefined) {
      fail(`${field}.target`, target, "could not be assigned: more than 26 disks on a bus");
    }
  } else if (typeof target !== "string" || !TARGET.test(target)) {
    fail(`${field}.target`, target, 'is not a disk device name: use e.g. "vda", "sdb", "hdc"');
  }
  if (used.has(target)) fail(`${field}.target`, target, "is used by another disk: give each disk its own");
  used.add(target);
  const sourceAttribute = type === "file" ? "file" : "dev";
  let xml = `<disk type='${type}' device='${device}'><driver name='qemu' type='${format}'/>` +
    `<source ${sourceAttribute}='${nonEmpty(`${field}.path`, disk.path)}'/>`;
  if (disk.backing !== undefined) {
    record(`${field}.backing`, disk.backing);
    const backingFormat = token(`${field}.backing.format`, disk.backing.format ?? "qcow2", "qcow2");
    xml += `<backingStore type='file'><format type='${backingFormat}'/>` +
      `<source file='${nonEmpty(`${field}.backing.path`, disk.backing.path)}'/></backingStore>`;
  }
  xml += `<target dev='${target}' bus='${bus}'/>`;
  if (disk.readonly || device === "cdrom") xml += "<readonly/>";
  return xml + "</disk>";
}

function nicXml(nic: NicSpec, index: number, macs: Set<string>): string {
  const field = `nics[${index}]`;
  if ((nic.network === undefined) === (nic.bridge === undefined)) {
    fail(field, nic, "needs exactly one of network or bridge");
  }
  let xml = nic.network !== undefined
    ? `<interface type='network'><source network='${nonEmpty(`${field}.network`, nic.network)}'/>`
    : `<interface type='bridge'><source bridge='${nonEmpty(`${field}.bridge`, nic.bridge)}'/>`;
  if (nic.mac !== undefined) {
    const mac = validateMac(nic.mac, `${field}.mac`);
    if (macs.has(mac)) fail(`${field}.mac`, nic.mac, "is used by another NIC: give each NIC its own");
    macs.add(mac);
    xml += `<mac address='${mac}'/>`;
  }
  if (nic.targetDev !== undefined) {
    if (
      typeof nic.targetDev !== "string" || !/^[A-Za-z0-9_.-]{1,15}$/.test(nic.targetDev) ||
      /^(vnet|vif|macvtap|macvlan)\d/.test(nic.targetDev)
    ) {
      fail(
        `${field}.targetDev`,
        nic.targetDev,
        'is not a usable interface name: 1-15 letters, digits, "_.-", not vnetN/vifN/macvtapN (libvirt reserves them)',
      );
    }
    xml += `<target dev='${nic.targetDev}'/>`;
  }
  xml += `<model type='${token(`${field}.model`, nic.model ?? "virtio", "virtio")}'/>`;
  return xml + "</interface>";
}

/**
 * Builds a libvirt domain XML document from a {@link DomainSpec}.
 *
 * @param spec what the domain looks like
 * @returns the XML document, ready for `defineDomain` / `createDomain`
 * @throws {TypeError} naming the field and the fix for an invalid name, MAC, disk target, size or
 *   action, or for a value containing a character XML cannot carry
 *
 * @example
 * ```ts
 * import { buildDomainXml, Connection, defineDomain, undefineDomain } from "@deno-libvirt/deno-libvirt";
 * const xml = buildDomainXml({
 *   name: "doc-web1",
 *   type: "test",
 *   memoryMiB: 128,
 *   vcpus: 1,
 *   nics: [{ network: "default", mac: "52:54:00:00:10:01" }],
 * });
 * await using conn = await Connection.open("test:///default");
 * using dom = await defineDomain(conn, xml);
 * console.log(dom.name);
 * await undefineDomain(dom);
 * ```
 */
export function buildDomainXml(spec: DomainSpec): string {
  record("spec", spec);
  const name = validateDomainName(spec.name);
  const type = spec.type ?? "kvm";
  if (type !== "kvm" && type !== "qemu" && type !== "test") {
    fail("type", type, 'must be "kvm", "qemu" or "test"');
  }
  const memory = positiveInteger("memoryMiB", spec.memoryMiB, 16 * 1024 * 1024);
  const maxMemory = spec.maxMemoryMiB === undefined
    ? memory
    : positiveInteger("maxMemoryMiB", spec.maxMemoryMiB, 16 * 1024 * 1024);
  if (maxMemory < memory) fail("maxMemoryMiB", maxMemory, `must be at least memoryMiB (${memory})`);
  const vcpus = positiveInteger("vcpus", spec.vcpus, 4096);
  let xml = `<domain type='${type}'><name>${name}</name>`;
  if (spec.uuid !== undefined) {
    if (typeof spec.uuid !== "string" || !UUID.test(spec.uuid)) {
      fail("uuid", spec.uuid, 'is not a UUID: e.g. "6695eb01-f6a4-8304-79aa-97f2502e193f"');
    }
    xml += `<uuid>${spec.uuid.toLowerCase()}</uuid>`;
  }
  if (spec.title !== undefined) {
    if (typeof spec.title === "string" && /[\r\n]/.test(spec.title)) {
      fail("title", spec.title, "must be one line (libvirt refuses newlines in titles)");
    }
    xml += `<title>${text("title", spec.title)}</title>`;
  }
  if (spec.description !== undefined) {
    xml += `<description>${text("description", spec.description)}</description>`;
  }
  if (spec.metadata !== undefined) {
    const metadata = record("metadata", spec.metadata) as unknown as MetadataSpec;
    const prefix = validateMetadataPrefix(metadata.prefix ?? "range");
    const namespace = validateMetadataNamespace(metadata.namespace);
    xml += `<metadata>${metadataXml(metadata.values, prefix, namespace)}</metadata>`;
  }
  xml += `<memory unit='MiB'>${maxMemory}</memory><currentMemory unit='MiB'>${memory}</currentMemory>` +
    `<vcpu>${vcpus}</vcpu>`;
  const arch = token("arch", spec.arch ?? "x86_64", "x86_64");
  const machine = spec.machine === undefined ? "" : ` machine='${token("machine", spec.machine, "q35")}'`;
  xml += `<os><type arch='${arch}'${machine}>hvm</type>`;
  if (spec.kernel !== undefined) {
    record("kernel", spec.kernel);
    xml += `<kernel>${nonEmpty("kernel.kernel", spec.kernel.kernel)}</kernel>`;
    if (spec.kernel.initrd !== undefined) {
      xml += `<initrd>${nonEmpty("kernel.initrd", spec.kernel.initrd)}</initrd>`;
    }
    if (spec.kernel.cmdline !== undefined) {
      xml += `<cmdline>${text("kernel.cmdline", spec.kernel.cmdline)}</cmdline>`;
    }
  } else if (Array.isArray(spec.disks) && spec.disks.length > 0) {
    xml += `<boot dev='${spec.disks[0]?.device === "cdrom" ? "cdrom" : "hd"}'/>`;
  }
  xml += "</os>";
  if (spec.cpuMode !== undefined) {
    if (!["host-passthrough", "host-model", "maximum"].includes(spec.cpuMode)) {
      fail("cpuMode", spec.cpuMode, 'must be "host-passthrough", "host-model" or "maximum"');
    }
    xml += `<cpu mode='${spec.cpuMode}'/>`;
  }
  if (type !== "test") xml += "<features><acpi/><apic/></features>";
  const onPoweroff = action("onPoweroff", spec.onPoweroff);
  const onReboot = action("onReboot", spec.onReboot);
  const onCrash = action("onCrash", spec.onCrash);
  if (onPoweroff) xml += `<on_poweroff>${onPoweroff}</on_poweroff>`;
  if (onReboot) xml += `<on_reboot>${onReboot}</on_reboot>`;
  if (onCrash) xml += `<on_crash>${onCrash}</on_crash>`;
  xml += "<devices>";
  const targets = new Set<string>();
  list("disks", spec.disks).forEach((disk, i) =>
    xml += diskXml(record(`disks[${i}]`, disk) as unknown as DiskSpec, i, targets)
  );
  const macs = new Set<string>();
  list("nics", spec.nics).forEach((nic, i) =>
    xml += nicXml(record(`nics[${i}]`, nic) as unknown as NicSpec, i, macs)
  );
  if (spec.serial !== undefined) {
    record("serial", spec.serial);
    if (spec.serial.type === "pty") {
      xml +=
        "<serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console>";
    } else if (spec.serial.type === "file") {
      const path = nonEmpty("serial.path", spec.serial.path);
      const append = spec.serial.append ? " append='on'" : "";
      xml += `<serial type='file'><source path='${path}'${append}/><target port='0'/></serial>` +
        `<console type='file'><source path='${path}'${append}/><target type='serial' port='0'/></console>`;
    } else {
      fail("serial.type", (spec.serial as { type: unknown }).type, 'must be "pty" or "file"');
    }
  }
  if (spec.guestAgent) {
    xml += "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>";
  }
  return xml + "</devices></domain>";
}
