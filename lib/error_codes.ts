// Generated from libvirt 9.0.0 <libvirt/virterror.h> (virErrorNumber, virErrorDomain).
// Names drop the VIR_ERR_ / VIR_FROM_ prefix; numbers are libvirt's stable ABI values.

/** libvirt error codes (`virErrorNumber`), by name. Compare `LibvirtError.code` against these, never raw numbers. */
export const ErrorCode = {
  OK: 0,
  /** internal error (since 0.1.0) */
  INTERNAL_ERROR: 1,
  /** memory allocation failure (since 0.1.0) */
  NO_MEMORY: 2,
  /** no support for this function (since 0.1.0) */
  NO_SUPPORT: 3,
  /** could not resolve hostname (since 0.1.0) */
  UNKNOWN_HOST: 4,
  /** can't connect to hypervisor (since 0.1.0) */
  NO_CONNECT: 5,
  /** invalid connection object (since 0.1.0) */
  INVALID_CONN: 6,
  /** invalid domain object (since 0.1.0) */
  INVALID_DOMAIN: 7,
  /** invalid function argument (since 0.1.0) */
  INVALID_ARG: 8,
  /** a command to hypervisor failed (since 0.1.0) */
  OPERATION_FAILED: 9,
  /** a HTTP GET command to failed (since 0.1.0) */
  GET_FAILED: 10,
  /** a HTTP POST command to failed (since 0.1.0) */
  POST_FAILED: 11,
  /** unexpected HTTP error code (since 0.1.0) */
  HTTP_ERROR: 12,
  /** failure to serialize an S-Expr (since 0.1.0) */
  SEXPR_SERIAL: 13,
  /** could not open Xen hypervisor control (since 0.1.0) */
  NO_XEN: 14,
  /** failure doing an hypervisor call (since 0.1.0) */
  XEN_CALL: 15,
  /** unknown OS type (since 0.1.0) */
  OS_TYPE: 16,
  /** missing kernel information (since 0.1.0) */
  NO_KERNEL: 17,
  /** missing root device information (since 0.1.0) */
  NO_ROOT: 18,
  /** missing source device information (since 0.1.0) */
  NO_SOURCE: 19,
  /** missing target device information (since 0.1.0) */
  NO_TARGET: 20,
  /** missing domain name information (since 0.1.0) */
  NO_NAME: 21,
  /** missing domain OS information (since 0.1.0) */
  NO_OS: 22,
  /** missing domain devices information (since 0.1.0) */
  NO_DEVICE: 23,
  /** could not open Xen Store control (since 0.1.0) */
  NO_XENSTORE: 24,
  /** too many drivers registered (since 0.1.0) */
  DRIVER_FULL: 25,
  /** not supported by the drivers (DEPRECATED) (since 0.1.0) */
  CALL_FAILED: 26,
  /** an XML description is not well formed or broken (since 0.1.1) */
  XML_ERROR: 27,
  /** the domain already exist (since 0.1.1) */
  DOM_EXIST: 28,
  /** operation forbidden on read-only connections (since 0.1.4) */
  OPERATION_DENIED: 29,
  /** failed to open a conf file (since 0.1.6) */
  OPEN_FAILED: 30,
  /** failed to read a conf file (since 0.1.6) */
  READ_FAILED: 31,
  /** failed to parse a conf file (since 0.1.6) */
  PARSE_FAILED: 32,
  /** failed to parse the syntax of a conf file (since 0.1.6) */
  CONF_SYNTAX: 33,
  /** failed to write a conf file (since 0.1.6) */
  WRITE_FAILED: 34,
  /** detail of an XML error (since 0.1.9) */
  XML_DETAIL: 35,
  /** invalid network object (since 0.2.0) */
  INVALID_NETWORK: 36,
  /** the network already exist (since 0.2.0) */
  NETWORK_EXIST: 37,
  /** general system call failure (since 0.2.1) */
  SYSTEM_ERROR: 38,
  /** some sort of RPC error (since 0.2.3) */
  RPC: 39,
  /** error from a GNUTLS call (since 0.2.3) */
  GNUTLS_ERROR: 40,
  /** domain not found or unexpectedly disappeared (since 0.3.0) */
  NO_DOMAIN: 42,
  /** network not found (since 0.3.0) */
  NO_NETWORK: 43,
  /** invalid MAC address (since 0.3.1) */
  INVALID_MAC: 44,
  /** authentication failed (since 0.4.1) */
  AUTH_FAILED: 45,
  /** invalid storage pool object (since 0.4.1) */
  INVALID_STORAGE_POOL: 46,
  /** invalid storage vol object (since 0.4.1) */
  INVALID_STORAGE_VOL: 47,
  /** storage pool not found (since 0.4.1) */
  NO_STORAGE_POOL: 49,
  /** storage volume not found (since 0.4.1) */
  NO_STORAGE_VOL: 50,
  /** invalid node device object (since 0.5.0) */
  INVALID_NODE_DEVICE: 52,
  /** node device not found (since 0.5.0) */
  NO_NODE_DEVICE: 53,
  /** security model not found (since 0.6.1) */
  NO_SECURITY_MODEL: 54,
  /** operation is not applicable at this time (since 0.6.4) */
  OPERATION_INVALID: 55,
  /** interface driver not running (since 0.6.4) */
  NO_INTERFACE: 57,
  /** invalid interface object (since 0.6.4) */
  INVALID_INTERFACE: 58,
  /** more than one matching interface found (since 0.7.0) */
  MULTIPLE_INTERFACES: 59,
  /** invalid nwfilter object (since 0.8.0) */
  INVALID_NWFILTER: 61,
  /** nw filter pool not found (since 0.8.0) */
  NO_NWFILTER: 62,
  /** nw filter pool not found (since 0.8.0) */
  BUILD_FIREWALL: 63,
  /** invalid secret (since 0.7.1) */
  INVALID_SECRET: 65,
  /** secret not found (since 0.7.1) */
  NO_SECRET: 66,
  /** unsupported configuration construct (since 0.7.3) */
  CONFIG_UNSUPPORTED: 67,
  /** timeout occurred during operation (since 0.7.3) */
  OPERATION_TIMEOUT: 68,
  /** a migration worked, but making the VM persist on the dest host failed (since 0.7.3) */
  MIGRATE_PERSIST_FAILED: 69,
  /** a synchronous hook script failed (since 0.8.0) */
  HOOK_SCRIPT_FAILED: 70,
  /** invalid domain snapshot (since 0.8.0) */
  INVALID_DOMAIN_SNAPSHOT: 71,
  /** domain snapshot not found (since 0.8.0) */
  NO_DOMAIN_SNAPSHOT: 72,
  /** stream pointer not valid (since 0.9.0) */
  INVALID_STREAM: 73,
  /** valid API use but unsupported by the given driver (since 0.9.4) */
  ARGUMENT_UNSUPPORTED: 74,
  /** storage pool probe failed (since 0.9.5) */
  STORAGE_PROBE_FAILED: 75,
  /** storage pool already built (since 0.9.5) */
  STORAGE_POOL_BUILT: 76,
  /** force was not requested for a risky domain snapshot revert (since 0.9.7) */
  SNAPSHOT_REVERT_RISKY: 77,
  /** operation on a domain was canceled/aborted by user (since 0.9.9) */
  OPERATION_ABORTED: 78,
  /** authentication cancelled (since 0.9.10) */
  AUTH_CANCELLED: 79,
  /** The metadata is not present (since 0.9.10) */
  NO_DOMAIN_METADATA: 80,
  /** Migration is not safe (since 0.9.11) */
  MIGRATE_UNSAFE: 81,
  /** integer overflow (since 0.9.11) */
  OVERFLOW: 82,
  /** action prevented by block copy job (since 0.9.12) */
  BLOCK_COPY_ACTIVE: 83,
  /** The requested operation is not supported (since 0.10.0) */
  OPERATION_UNSUPPORTED: 84,
  /** error in ssh transport driver (since 0.10.0) */
  SSH: 85,
  /** guest agent is unresponsive, not running or not usable (since 0.10.0) */
  AGENT_UNRESPONSIVE: 86,
  /** resource is already in use (since 1.0.0) */
  RESOURCE_BUSY: 87,
  /** operation on the object/resource was denied (since 1.1.0) */
  ACCESS_DENIED: 88,
  /** error from a dbus service (since 1.1.1) */
  DBUS_SERVICE: 89,
  /** the storage vol already exists (since 1.1.4) */
  STORAGE_VOL_EXIST: 90,
  /** given CPU is incompatible with host CPU (since 1.2.6) */
  CPU_INCOMPATIBLE: 91,
  /** XML document doesn't validate against schema (since 1.2.12) */
  XML_INVALID_SCHEMA: 92,
  /** Finish API succeeded but it is expected to return NULL (since 1.2.18) */
  MIGRATE_FINISH_OK: 93,
  /** authentication unavailable (since 1.3.3) */
  AUTH_UNAVAILABLE: 94,
  /** Server was not found (since 1.3.3) */
  NO_SERVER: 95,
  /** Client was not found (since 1.3.5) */
  NO_CLIENT: 96,
  /** guest agent replies with wrong id to guest-sync command (DEPRECATED) (since 2.3.0) */
  AGENT_UNSYNCED: 97,
  /** error in libssh transport driver (since 2.5.0) */
  LIBSSH: 98,
  /** fail to find the desired device (since 4.1.0) */
  DEVICE_MISSING: 99,
  /** invalid nwfilter binding (since 4.5.0) */
  INVALID_NWFILTER_BINDING: 100,
  /** no nwfilter binding (since 4.5.0) */
  NO_NWFILTER_BINDING: 101,
  /** invalid domain checkpoint (since 5.2.0) */
  INVALID_DOMAIN_CHECKPOINT: 102,
  /** domain checkpoint not found (since 5.2.0) */
  NO_DOMAIN_CHECKPOINT: 103,
  /** domain backup job id not found (since 5.2.0) */
  NO_DOMAIN_BACKUP: 104,
  /** invalid network port object (since 5.5.0) */
  INVALID_NETWORK_PORT: 105,
  /** the network port already exist (since 5.5.0) */
  NETWORK_PORT_EXIST: 106,
  /** network port not found (since 5.5.0) */
  NO_NETWORK_PORT: 107,
  /** no domain's hostname found (since 6.1.0) */
  NO_HOSTNAME: 108,
  /** checkpoint can't be used (since 6.10.0) */
  CHECKPOINT_INCONSISTENT: 109,
  /** more than one matching domain found (since 7.1.0) */
  MULTIPLE_DOMAINS: 110,
} as const;

/** A libvirt error code number. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** The libvirt subsystem an error came from (`virErrorDomain`), by name. */
export const ErrorDomain = {
  NONE: 0,
  /** Error at Xen hypervisor layer */
  XEN: 1,
  /** Error at connection with xend daemon */
  XEND: 2,
  /** Error at connection with xen store */
  XENSTORE: 3,
  /** Error in the S-Expression code */
  SEXPR: 4,
  /** Error in the XML code */
  XML: 5,
  /** Error when operating on a domain */
  DOM: 6,
  /** Error in the XML-RPC code */
  RPC: 7,
  /** Error in the proxy code; unused since 0.8.6 */
  PROXY: 8,
  /** Error in the configuration file handling */
  CONF: 9,
  /** Error at the QEMU daemon */
  QEMU: 10,
  /** Error when operating on a network */
  NET: 11,
  /** Error from test driver */
  TEST: 12,
  /** Error from remote driver */
  REMOTE: 13,
  /** Error from OpenVZ driver */
  OPENVZ: 14,
  /** Error at Xen XM layer */
  XENXM: 15,
  /** Error in the Linux Stats code */
  STATS_LINUX: 16,
  /** Error from Linux Container driver */
  LXC: 17,
  /** Error from storage driver */
  STORAGE: 18,
  /** Error from network config */
  NETWORK: 19,
  /** Error from domain config */
  DOMAIN: 20,
  /** Error at the UML driver; unused since 5.0.0 */
  UML: 21,
  /** Error from node device monitor */
  NODEDEV: 22,
  /** Error from xen inotify layer */
  XEN_INOTIFY: 23,
  /** Error from security framework */
  SECURITY: 24,
  /** Error from VirtualBox driver */
  VBOX: 25,
  /** Error when operating on an interface */
  INTERFACE: 26,
  /** The OpenNebula driver no longer exists. Retained for ABI/API compat only */
  ONE: 27,
  /** Error from ESX driver */
  ESX: 28,
  /** Error from the phyp driver, unused since 6.0.0 */
  PHYP: 29,
  /** Error from secret storage */
  SECRET: 30,
  /** Error from CPU driver */
  CPU: 31,
  /** Error from XenAPI */
  XENAPI: 32,
  /** Error from network filter driver */
  NWFILTER: 33,
  /** Error from Synchronous hooks */
  HOOK: 34,
  /** Error from domain snapshot */
  DOMAIN_SNAPSHOT: 35,
  /** Error from auditing subsystem */
  AUDIT: 36,
  /** Error from sysinfo/SMBIOS */
  SYSINFO: 37,
  /** Error from I/O streams */
  STREAMS: 38,
  /** Error from VMware driver */
  VMWARE: 39,
  /** Error from event loop impl */
  EVENT: 40,
  /** Error from libxenlight driver */
  LIBXL: 41,
  /** Error from lock manager */
  LOCKING: 42,
  /** Error from Hyper-V driver */
  HYPERV: 43,
  /** Error from capabilities */
  CAPABILITIES: 44,
  /** Error from URI handling */
  URI: 45,
  /** Error from auth handling */
  AUTH: 46,
  /** Error from DBus */
  DBUS: 47,
  /** Error from Parallels */
  PARALLELS: 48,
  /** Error from Device */
  DEVICE: 49,
  /** Error from libssh2 connection transport */
  SSH: 50,
  /** Error from lockspace */
  LOCKSPACE: 51,
  /** Error from initctl device communication */
  INITCTL: 52,
  /** Error from identity code */
  IDENTITY: 53,
  /** Error from cgroups */
  CGROUP: 54,
  /** Error from access control manager */
  ACCESS: 55,
  /** Error from systemd code */
  SYSTEMD: 56,
  /** Error from bhyve driver */
  BHYVE: 57,
  /** Error from crypto code */
  CRYPTO: 58,
  /** Error from firewall */
  FIREWALL: 59,
  /** Error from polkit code */
  POLKIT: 60,
  /** Error from thread utils */
  THREAD: 61,
  /** Error from admin backend */
  ADMIN: 62,
  /** Error from log manager */
  LOGGING: 63,
  /** Error from Xen xl config code */
  XENXL: 64,
  /** Error from perf */
  PERF: 65,
  /** Error from libssh connection transport */
  LIBSSH: 66,
  /** Error from resource control */
  RESCTRL: 67,
  /** Error from firewalld */
  FIREWALLD: 68,
  /** Error from domain checkpoint */
  DOMAIN_CHECKPOINT: 69,
  /** Error from TPM */
  TPM: 70,
  /** Error from BPF code */
  BPF: 71,
  /** Error from Cloud-Hypervisor driver */
  CH: 72,
} as const;

/** A libvirt error domain number. */
export type ErrorDomain = typeof ErrorDomain[keyof typeof ErrorDomain];
