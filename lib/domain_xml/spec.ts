/**
 * What `buildDomainXml` can describe: the {@link DomainSpec} and its parts (disks, NICs, kernel
 * boot, serial console, metadata, lifecycle actions). Types only; lib/domain_xml.ts checks and writes them.
 *
 * @module
 */

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

/** A namespaced metadata element holding a string map (see `metadataXml`). */
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

/** Everything `buildDomainXml` can describe. */
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
  /** A namespaced string map in `<metadata>` (see `metadataXml`). */
  metadata?: MetadataSpec;
  /** What libvirt does when the guest powers off. */
  onPoweroff?: LifecycleAction;
  /** What libvirt does when the guest reboots. */
  onReboot?: LifecycleAction;
  /** What libvirt does when the guest crashes. */
  onCrash?: LifecycleAction;
}
