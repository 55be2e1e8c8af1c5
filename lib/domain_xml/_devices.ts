// The <devices> of a domain definition: disks (with backing images), NICs on networks or bridges, the
// serial console and the guest-agent channel. Private parts of buildDomainXml (lib/domain_xml.ts), which
// owns the spec types.
import type { DiskSpec, DomainSpec, NicSpec, SerialSpec } from "./spec.ts";
import { fail, list, nonEmpty, record, token } from "./_fields.ts";
import { validateMac } from "./names.ts";

const TARGET = /^(vd|sd|hd|xvd)[a-z]{1,3}$/;

/** `<devices>`: the disks, NICs, serial console and guest-agent channel of `spec`, checked. */
export function devicesXml(spec: DomainSpec): string {
  let xml = "<devices>";
  const targets = new Set<string>();
  list("disks", spec.disks).forEach((disk, i) =>
    xml += diskXml(record(`disks[${i}]`, disk) as unknown as DiskSpec, i, targets)
  );
  const macs = new Set<string>();
  list("nics", spec.nics).forEach((nic, i) =>
    xml += nicXml(record(`nics[${i}]`, nic) as unknown as NicSpec, i, macs)
  );
  if (spec.serial !== undefined) xml += serialXml(spec.serial);
  if (spec.guestAgent) {
    xml += "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>";
  }
  return xml + "</devices>";
}

/** The serial port and its console: a pseudo-terminal or a log file on the host. */
function serialXml(serial: SerialSpec): string {
  record("serial", serial);
  if (serial.type === "pty") {
    return "<serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console>";
  }
  if (serial.type === "file") {
    const path = nonEmpty("serial.path", serial.path);
    const append = serial.append ? " append='on'" : "";
    return `<serial type='file'><source path='${path}'${append}/><target port='0'/></serial>` +
      `<console type='file'><source path='${path}'${append}/><target type='serial' port='0'/></console>`;
  }
  fail("serial.type", (serial as { type: unknown }).type, 'must be "pty" or "file"');
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
