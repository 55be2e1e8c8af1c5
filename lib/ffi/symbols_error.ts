// <libvirt/virterror.h>: reading and silencing errors. All local, never I/O.
import { fn, int, out, ptr, voidT } from "./_types.ts";

export const errorSymbols = {
  /** int virConnCopyLastError(virConnectPtr conn, virErrorPtr to) */
  virConnCopyLastError: { parameters: [ptr, out], result: int },
  /** void virConnResetLastError(virConnectPtr conn) */
  virConnResetLastError: { parameters: [ptr], result: voidT },
  /** void virConnSetErrorFunc(virConnectPtr conn, void *userData, virErrorFunc handler) */
  virConnSetErrorFunc: { parameters: [ptr, ptr, fn], result: voidT },
  /** void virSetErrorFunc(void *userData, virErrorFunc handler) */
  virSetErrorFunc: { parameters: [ptr, fn], result: voidT },
  /** int virCopyLastError(virErrorPtr to): this thread's last error */
  virCopyLastError: { parameters: [out], result: int },
  /** void virResetError(virErrorPtr err): frees the strings a copied error holds */
  virResetError: { parameters: [out], result: voidT },
  /** void virResetLastError(void) */
  virResetLastError: { parameters: [], result: voidT },
} as const;
