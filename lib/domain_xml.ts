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
import { fail, nonEmpty, positiveInteger, record, text, token } from "./domain_xml/_fields.ts";
import { devicesXml } from "./domain_xml/_devices.ts";
import { metadataXml } from "./domain_xml/metadata.ts";
import type { DomainSpec, MetadataSpec } from "./domain_xml/spec.ts";
import { validateDomainName, validateMetadataNamespace, validateMetadataPrefix } from "./domain_xml/names.ts";

export { metadataXml, parseMetadataXml } from "./domain_xml/metadata.ts";
export type {
  DiskSpec,
  DomainSpec,
  KernelBootSpec,
  LifecycleAction,
  MetadataSpec,
  NicSpec,
  SerialSpec,
} from "./domain_xml/spec.ts";
export {
  validateDomainName,
  validateMac,
  validateMetadataNamespace,
  validateMetadataPrefix,
} from "./domain_xml/names.ts";

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const ACTIONS = new Set([
  "destroy",
  "restart",
  "preserve",
  "rename-restart",
  "coredump-destroy",
  "coredump-restart",
]);

function action(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!ACTIONS.has(value)) fail(field, value, `must be one of ${[...ACTIONS].join(", ")}`);
  return value;
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
  const resources = resourcesXml(spec); // checked first: a bad size is reported before a bad uuid
  return `<domain type='${type}'><name>${name}</name>` + describedXml(spec) + resources +
    osXml(spec) + (type !== "test" ? "<features><acpi/><apic/></features>" : "") + actionsXml(spec) +
    devicesXml(spec) + "</domain>";
}

/** What identifies and describes the domain beyond its name: uuid, title, description, metadata. */
function describedXml(spec: DomainSpec): string {
  let xml = "";
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
  return xml;
}

/** Memory (current and maximum) and vCPUs. */
function resourcesXml(spec: DomainSpec): string {
  const memory = positiveInteger("memoryMiB", spec.memoryMiB, 16 * 1024 * 1024);
  const maxMemory = spec.maxMemoryMiB === undefined
    ? memory
    : positiveInteger("maxMemoryMiB", spec.maxMemoryMiB, 16 * 1024 * 1024);
  if (maxMemory < memory) fail("maxMemoryMiB", maxMemory, `must be at least memoryMiB (${memory})`);
  const vcpus = positiveInteger("vcpus", spec.vcpus, 4096);
  return `<memory unit='MiB'>${maxMemory}</memory><currentMemory unit='MiB'>${memory}</currentMemory>` +
    `<vcpu>${vcpus}</vcpu>`;
}

/** `<os>` (architecture, machine, direct kernel boot or the boot device) and the CPU mode. */
function osXml(spec: DomainSpec): string {
  const arch = token("arch", spec.arch ?? "x86_64", "x86_64");
  const machine = spec.machine === undefined ? "" : ` machine='${token("machine", spec.machine, "q35")}'`;
  let xml = `<os><type arch='${arch}'${machine}>hvm</type>`;
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
  return xml;
}

/** on_poweroff, on_reboot, on_crash. */
function actionsXml(spec: DomainSpec): string {
  const onPoweroff = action("onPoweroff", spec.onPoweroff);
  const onReboot = action("onReboot", spec.onReboot);
  const onCrash = action("onCrash", spec.onCrash);
  return (onPoweroff ? `<on_poweroff>${onPoweroff}</on_poweroff>` : "") +
    (onReboot ? `<on_reboot>${onReboot}</on_reboot>` : "") +
    (onCrash ? `<on_crash>${onCrash}</on_crash>` : "");
}
