// Decoders for the libvirt structs the toolkit reads, x86_64 / aarch64 LP64 layouts (offsets checked
// with offsetof against libvirt 9.0 headers; see ../shared/notes/ffi-design.md).
import { readCString } from "./c.ts";

/** sizeof(virError) */
export const VIR_ERROR_SIZE = 80;
/** sizeof(virDomainInfo) */
export const VIR_DOMAIN_INFO_SIZE = 40;
/** sizeof(virConnectCredential) */
export const VIR_CONNECT_CREDENTIAL_SIZE = 48;
/** sizeof(virConnectAuth) */
export const VIR_CONNECT_AUTH_SIZE = 32;

/** The fields of a virError the toolkit keeps. */
export interface RawError {
  code: number;
  domain: number;
  message: string;
  level: number;
}

/** Decodes a virError copied into `buffer` (virConnCopyLastError / virCopyLastError). */
export function decodeError(buffer: Uint8Array): RawError {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const messagePointer = Deno.UnsafePointer.create(view.getBigUint64(8, true));
  return {
    code: view.getInt32(0, true),
    domain: view.getInt32(4, true),
    message: readCString(messagePointer) ?? "",
    level: view.getInt32(16, true),
  };
}

/** Decodes a virError libvirt passes to an error handler (a pointer, not a copy). */
export function decodeErrorPointer(pointer: Deno.PointerObject): RawError {
  const view = new Deno.UnsafePointerView(pointer);
  return {
    code: view.getInt32(0),
    domain: view.getInt32(4),
    message: readCString(view.getPointer(8)) ?? "",
    level: view.getInt32(16),
  };
}

/** virDomainInfo, decoded. */
export interface RawDomainInfo {
  state: number;
  maxMemKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: bigint;
}

/** Decodes a virDomainInfo filled by virDomainGetInfo (pass a DataView over it to save an allocation). */
export function decodeDomainInfo(buffer: Uint8Array | DataView): RawDomainInfo {
  const view = buffer instanceof DataView
    ? buffer
    : new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return {
    state: view.getUint8(0),
    maxMemKiB: Number(view.getBigUint64(8, true)),
    memoryKiB: Number(view.getBigUint64(16, true)),
    vcpus: view.getUint16(24, true),
    cpuTimeNs: view.getBigUint64(32, true),
  };
}

/** One address of a virDomainInterface. */
export interface RawInterfaceAddress {
  type: number;
  address: string;
  prefix: number;
}

/** virDomainInterface, decoded. */
export interface RawInterface {
  name: string;
  hwaddr: string | null;
  addresses: RawInterfaceAddress[];
}

/** Decodes a virDomainInterface (32 bytes: name, hwaddr, naddrs, addrs of 24-byte virDomainIPAddress). */
export function decodeInterface(pointer: Deno.PointerObject): RawInterface {
  const view = new Deno.UnsafePointerView(pointer);
  const count = view.getUint32(16);
  const array = view.getPointer(24);
  const addresses: RawInterfaceAddress[] = [];
  if (array !== null) {
    const items = new Deno.UnsafePointerView(array);
    for (let i = 0; i < count; i++) {
      const base = i * 24;
      addresses.push({
        type: items.getInt32(base),
        address: readCString(items.getPointer(base + 8)) ?? "",
        prefix: items.getUint32(base + 16),
      });
    }
  }
  return { name: readCString(view.getPointer(0)) ?? "", hwaddr: readCString(view.getPointer(8)), addresses };
}

/** One credential libvirt asks for in an auth callback. */
export interface RawCredential {
  type: number;
  prompt: string;
  challenge: string | null;
  defaultResult: string | null;
}

/** Decodes the `index`th virConnectCredential of the array an auth callback receives. */
export function decodeCredential(array: Deno.PointerObject, index: number): RawCredential {
  const view = new Deno.UnsafePointerView(array);
  const base = index * VIR_CONNECT_CREDENTIAL_SIZE;
  return {
    type: view.getInt32(base),
    prompt: readCString(view.getPointer(base + 8)) ?? "",
    challenge: readCString(view.getPointer(base + 16)),
    defaultResult: readCString(view.getPointer(base + 24)),
  };
}

/** Writes a credential's answer (malloc'd: libvirt frees it) into the `index`th virConnectCredential. */
export function storeCredentialResult(
  array: Deno.PointerObject,
  index: number,
  result: Deno.PointerObject,
  length: number,
): void {
  const base = index * VIR_CONNECT_CREDENTIAL_SIZE;
  const bytes = new DataView(Deno.UnsafePointerView.getArrayBuffer(array, VIR_CONNECT_CREDENTIAL_SIZE, base));
  bytes.setBigUint64(32, BigInt(Deno.UnsafePointer.value(result)), true);
  bytes.setUint32(40, length, true);
}

/** Builds a virConnectAuth: the credential types we answer and the callback that answers them. */
export function encodeAuth(credentialTypes: readonly number[], callback: Deno.PointerValue): {
  auth: Uint8Array<ArrayBuffer>;
  keepAlive: Int32Array;
} {
  const types = new Int32Array(credentialTypes);
  const auth = new Uint8Array(VIR_CONNECT_AUTH_SIZE);
  const view = new DataView(auth.buffer);
  view.setBigUint64(0, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(types))), true);
  view.setUint32(8, types.length, true);
  view.setBigUint64(16, BigInt(Deno.UnsafePointer.value(callback)), true);
  view.setBigUint64(24, 0n, true);
  // `types` must outlive the open call: the caller keeps `keepAlive` referenced until it resolves.
  return { auth, keepAlive: types };
}

// Network and storage structs. Offsets printed by this C program (gcc 12.2, x86_64, libvirt 9.0.0
// headers), `gcc -Wall -o off off.c && ./off`:
//
//   #include <stdio.h>
//   #include <stddef.h>
//   #include <libvirt/libvirt.h>
//   #define F(T, f) printf("  %s.%s @%zu (size %zu)\n", #T, #f, offsetof(T, f), sizeof(((T *)0)->f))
//   int main(void) {
//     printf("sizeof(virNetworkDHCPLease) = %zu\n", sizeof(virNetworkDHCPLease));
//     F(virNetworkDHCPLease, iface); F(virNetworkDHCPLease, expirytime); F(virNetworkDHCPLease, type);
//     F(virNetworkDHCPLease, mac); F(virNetworkDHCPLease, iaid); F(virNetworkDHCPLease, ipaddr);
//     F(virNetworkDHCPLease, prefix); F(virNetworkDHCPLease, hostname); F(virNetworkDHCPLease, clientid);
//     printf("sizeof(virStoragePoolInfo) = %zu\n", sizeof(virStoragePoolInfo));
//     F(virStoragePoolInfo, state); F(virStoragePoolInfo, capacity); F(virStoragePoolInfo, allocation);
//     F(virStoragePoolInfo, available);
//     printf("sizeof(virStorageVolInfo) = %zu\n", sizeof(virStorageVolInfo));
//     F(virStorageVolInfo, type); F(virStorageVolInfo, capacity); F(virStorageVolInfo, allocation);
//     return 0;
//   }
//
// Output:
//
//   sizeof(virNetworkDHCPLease) = 72
//     virNetworkDHCPLease.iface @0 (size 8)
//     virNetworkDHCPLease.expirytime @8 (size 8)
//     virNetworkDHCPLease.type @16 (size 4)
//     virNetworkDHCPLease.mac @24 (size 8)
//     virNetworkDHCPLease.iaid @32 (size 8)
//     virNetworkDHCPLease.ipaddr @40 (size 8)
//     virNetworkDHCPLease.prefix @48 (size 4)
//     virNetworkDHCPLease.hostname @56 (size 8)
//     virNetworkDHCPLease.clientid @64 (size 8)
//   sizeof(virStoragePoolInfo) = 32
//     virStoragePoolInfo.state @0 (size 4)
//     virStoragePoolInfo.capacity @8 (size 8)
//     virStoragePoolInfo.allocation @16 (size 8)
//     virStoragePoolInfo.available @24 (size 8)
//   sizeof(virStorageVolInfo) = 24
//     virStorageVolInfo.type @0 (size 4)
//     virStorageVolInfo.capacity @8 (size 8)
//     virStorageVolInfo.allocation @16 (size 8)

/** sizeof(virNetworkDHCPLease) */
export const VIR_NETWORK_DHCP_LEASE_SIZE = 72;
/** sizeof(virStoragePoolInfo) */
export const VIR_STORAGE_POOL_INFO_SIZE = 32;
/** sizeof(virStorageVolInfo) */
export const VIR_STORAGE_VOL_INFO_SIZE = 24;

/** virNetworkDHCPLease, decoded (strings copied: the caller frees the lease afterwards). */
export interface RawDhcpLease {
  iface: string;
  /** Seconds since the epoch; 0 for a lease that never expires. */
  expiryTime: bigint;
  /** virIPAddrType: 0 IPv4, 1 IPv6. */
  type: number;
  mac: string | null;
  iaid: string | null;
  ipaddr: string;
  prefix: number;
  hostname: string | null;
  clientId: string | null;
}

/** Decodes one virNetworkDHCPLease (72 bytes) libvirt allocated. */
export function decodeDhcpLease(pointer: Deno.PointerObject): RawDhcpLease {
  const view = new Deno.UnsafePointerView(pointer);
  return {
    iface: readCString(view.getPointer(0)) ?? "",
    expiryTime: view.getBigInt64(8),
    type: view.getInt32(16),
    mac: readCString(view.getPointer(24)),
    iaid: readCString(view.getPointer(32)),
    ipaddr: readCString(view.getPointer(40)) ?? "",
    prefix: view.getUint32(48),
    hostname: readCString(view.getPointer(56)),
    clientId: readCString(view.getPointer(64)),
  };
}

/** virStoragePoolInfo, decoded. Sizes in bytes. */
export interface RawStoragePoolInfo {
  state: number;
  capacity: bigint;
  allocation: bigint;
  available: bigint;
}

/** Decodes a virStoragePoolInfo (32 bytes) filled by virStoragePoolGetInfo. */
export function decodeStoragePoolInfo(buffer: Uint8Array): RawStoragePoolInfo {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return {
    state: view.getInt32(0, true),
    capacity: view.getBigUint64(8, true),
    allocation: view.getBigUint64(16, true),
    available: view.getBigUint64(24, true),
  };
}

/** virStorageVolInfo, decoded. Sizes in bytes. */
export interface RawStorageVolInfo {
  type: number;
  capacity: bigint;
  allocation: bigint;
}

/** Decodes a virStorageVolInfo (24 bytes) filled by virStorageVolGetInfo. */
export function decodeStorageVolInfo(buffer: Uint8Array): RawStorageVolInfo {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return {
    type: view.getInt32(0, true),
    capacity: view.getBigUint64(8, true),
    allocation: view.getBigUint64(16, true),
  };
}
