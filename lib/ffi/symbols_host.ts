// <libvirt/libvirt-host.h>: connections, versions, keepalive.
// C parameter names are in the comments; `io: true` entries also get a nonblocking `...Async` twin.
import { cstr, fn, int, out, ptr, uint, voidT } from "./_types.ts";

export const hostSymbols = {
  /** int virGetVersion(unsigned long *libVer, const char *type, unsigned long *typeVer) */
  virGetVersion: { parameters: [out, cstr, out], result: int },
  /** virConnectPtr virConnectOpenAuth(const char *name, virConnectAuthPtr auth, unsigned int flags) */
  virConnectOpenAuth: { parameters: [cstr, out, uint], result: ptr, io: true },
  /** int virConnectClose(virConnectPtr conn): remaining references, or -1 */
  virConnectClose: { parameters: [ptr], result: int, io: true },
  /** int virConnectIsAlive(virConnectPtr conn): local state only, no RPC */
  virConnectIsAlive: { parameters: [ptr], result: int },
  /** int virConnectGetLibVersion(virConnectPtr conn, unsigned long *libVer) */
  virConnectGetLibVersion: { parameters: [ptr, out], result: int, io: true },
  /** int virConnectGetVersion(virConnectPtr conn, unsigned long *hvVer) */
  virConnectGetVersion: { parameters: [ptr, out], result: int, io: true },
  /** const char *virConnectGetType(virConnectPtr conn): owned by libvirt */
  virConnectGetType: { parameters: [ptr], result: ptr, io: true },
  /** char *virConnectGetHostname(virConnectPtr conn): caller frees */
  virConnectGetHostname: { parameters: [ptr], result: ptr, io: true },
  /** char *virConnectGetURI(virConnectPtr conn): caller frees */
  virConnectGetURI: { parameters: [ptr], result: ptr, io: true },
  /** char *virConnectGetCapabilities(virConnectPtr conn): caller frees */
  virConnectGetCapabilities: { parameters: [ptr], result: ptr, io: true },
  /** int virConnectSetKeepAlive(virConnectPtr conn, int interval, unsigned int count) */
  virConnectSetKeepAlive: { parameters: [ptr, int, uint], result: int, io: true },
  /** int virConnectIsEncrypted(virConnectPtr conn) */
  virConnectIsEncrypted: { parameters: [ptr], result: int },
  /** int virConnectIsSecure(virConnectPtr conn) */
  virConnectIsSecure: { parameters: [ptr], result: int },
  /**
   * int virConnectRegisterCloseCallback(virConnectPtr conn, virConnectCloseFunc cb, void *opaque,
   *                                     virFreeCallback freecb)
   */
  virConnectRegisterCloseCallback: { parameters: [ptr, fn, ptr, fn], result: int },
  /** int virConnectUnregisterCloseCallback(virConnectPtr conn, virConnectCloseFunc cb) */
  virConnectUnregisterCloseCallback: { parameters: [ptr, fn], result: int },
} as const;

/** `VIR_CONNECT_RO`: open read-only. */
export const CONNECT_RO = 1;
/** `VIR_CONNECT_NO_ALIASES`: do not expand URI aliases. */
export const CONNECT_NO_ALIASES = 2;

/** virConnectCredentialType */
export const CredentialType = {
  USERNAME: 1,
  AUTHNAME: 2,
  LANGUAGE: 3,
  CNONCE: 4,
  PASSPHRASE: 5,
  ECHOPROMPT: 6,
  NOECHOPROMPT: 7,
  REALM: 8,
  EXTERNAL: 9,
} as const;

/** virConnectAuthCallbackPtr: int (*)(virConnectCredentialPtr cred, unsigned int ncred, void *cbdata) */
export const authCallbackDefinition = {
  parameters: [ptr, uint, ptr],
  result: int,
} as const satisfies Deno.UnsafeCallbackDefinition;

/** virErrorFunc: void (*)(void *userData, virErrorPtr error) */
export const errorFuncDefinition = {
  parameters: [ptr, ptr],
  result: voidT,
} as const satisfies Deno.UnsafeCallbackDefinition;
