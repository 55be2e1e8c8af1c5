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
