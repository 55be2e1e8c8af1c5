// Copying an event callback's arguments out of libvirt's memory, for the event loop's worker.
//
// Strings, structs and typed parameters a callback receives are valid only while it runs, so the worker
// copies them into plain values (strings, numbers, bigints, arrays) before posting them to the main
// thread, where lib/events/_decode.ts gives them names and types. The copier is written once, here, and
// the worker runs this very function: lib/_event_loop_worker.ts embeds its source text (so it must stay
// self-contained: nothing from module scope, only its parameters and Deno's globals). The main thread
// runs it too, in tests, on structs built in memory: the decoder unit tests of the kinds no driver here
// produces.
import type { EventArgType, EventStructLayouts } from "./symbols_event.ts";

/** The handle getters the copier calls on the object an event is about (all local, no RPC). */
export interface EventObjectSymbols {
  /** const char *virDomainGetName(virDomainPtr) */
  virDomainGetName(dom: Deno.PointerValue): Deno.PointerValue;
  /** int virDomainGetUUIDString(virDomainPtr, char *buf) */
  virDomainGetUUIDString(dom: Deno.PointerValue, buf: Uint8Array<ArrayBuffer>): number;
  /** const char *virNetworkGetName(virNetworkPtr) */
  virNetworkGetName(net: Deno.PointerValue): Deno.PointerValue;
  /** int virNetworkGetUUIDString(virNetworkPtr, char *buf) */
  virNetworkGetUUIDString(net: Deno.PointerValue, buf: Uint8Array<ArrayBuffer>): number;
  /** const char *virStoragePoolGetName(virStoragePoolPtr) */
  virStoragePoolGetName(pool: Deno.PointerValue): Deno.PointerValue;
  /** int virStoragePoolGetUUIDString(virStoragePoolPtr, char *buf) */
  virStoragePoolGetUUIDString(pool: Deno.PointerValue, buf: Uint8Array<ArrayBuffer>): number;
  /** const char *virNodeDeviceGetName(virNodeDevicePtr) */
  virNodeDeviceGetName(dev: Deno.PointerValue): Deno.PointerValue;
  /** int virSecretGetUUIDString(virSecretPtr, char *buf) */
  virSecretGetUUIDString(secret: Deno.PointerValue, buf: Uint8Array<ArrayBuffer>): number;
  /** int virSecretGetUsageType(virSecretPtr) */
  virSecretGetUsageType(secret: Deno.PointerValue): number;
  /** const char *virSecretGetUsageID(virSecretPtr) */
  virSecretGetUsageID(secret: Deno.PointerValue): Deno.PointerValue;
}

/** A copied argument: what the main thread's decoders receive. */
export type CopiedArg =
  | null
  | number
  | bigint
  | string
  | { name: string | null; uuid?: string; usageType?: number; usageId?: string | null }
  | { family: number; node: string | null; service: string | null }
  | { type: string | null; name: string | null }[]
  | [string, number | bigint | boolean | string][];

/**
 * Copies the arguments of one callback invocation. `types` are the callback's C argument types
 * (libvirt-api.xml's, connection and opaque included); `args` what FFI passed. The connection and the
 * opaque pointer are dropped, an `int nparams` after a `virTypedParameterPtr` is consumed by it.
 *
 * Typed parameters come back as [name, value] pairs: INT, UINT, DOUBLE as numbers, LLONG/ULLONG as
 * bigint, BOOLEAN as boolean, STRING as string; unknown types are skipped (a newer libvirt may add some).
 */
export function copyEventArgs(
  types: readonly EventArgType[],
  args: readonly unknown[],
  layout: EventStructLayouts,
  s: EventObjectSymbols,
): CopiedArg[] {
  const decoder = new TextDecoder();
  const uuidBuffer = new Uint8Array(layout.uuidStringLength + 1);
  const cstr = (p: unknown): string | null =>
    p === null || p === undefined ? null : Deno.UnsafePointerView.getCString(p as Deno.PointerObject);
  const uuid = (get: (p: Deno.PointerValue, b: Uint8Array<ArrayBuffer>) => number, p: Deno.PointerValue) => {
    uuidBuffer.fill(0);
    get(p, uuidBuffer);
    return decoder.decode(uuidBuffer.subarray(0, layout.uuidStringLength));
  };
  const address = (p: unknown) => {
    if (p === null) return null;
    const view = new Deno.UnsafePointerView(p as Deno.PointerObject);
    const g = layout.graphicsAddress;
    return {
      family: view.getInt32(g.family),
      node: cstr(view.getPointer(g.node)),
      service: cstr(view.getPointer(g.service)),
    };
  };
  const subject = (p: unknown) => {
    if (p === null) return [];
    const view = new Deno.UnsafePointerView(p as Deno.PointerObject);
    const count = view.getInt32(layout.graphicsSubject.count);
    const list = view.getPointer(layout.graphicsSubject.identities);
    const identities: { type: string | null; name: string | null }[] = [];
    if (list === null) return identities;
    const items = new Deno.UnsafePointerView(list);
    const l = layout.graphicsIdentity;
    for (let i = 0; i < count; i++) {
      identities.push({
        type: cstr(items.getPointer(i * l.size + l.type)),
        name: cstr(items.getPointer(i * l.size + l.name)),
      });
    }
    return identities;
  };
  const typedParams = (p: unknown, count: number) => {
    const pairs: [string, number | bigint | boolean | string][] = [];
    if (p === null || count <= 0) return pairs;
    const view = new Deno.UnsafePointerView(p as Deno.PointerObject);
    const t = layout.typedParameter;
    const field = new Uint8Array(t.fieldLength);
    for (let i = 0; i < count; i++) {
      const base = i * t.size;
      view.copyInto(field, base);
      const end = field.indexOf(0);
      const name = decoder.decode(field.subarray(0, end < 0 ? t.fieldLength : end));
      const at = base + t.value;
      switch (view.getInt32(base + t.type)) {
        case 1:
          pairs.push([name, view.getInt32(at)]);
          break;
        case 2:
          pairs.push([name, view.getUint32(at)]);
          break;
        case 3:
          pairs.push([name, view.getBigInt64(at)]);
          break;
        case 4:
          pairs.push([name, view.getBigUint64(at)]);
          break;
        case 5:
          pairs.push([name, view.getFloat64(at)]);
          break;
        case 6:
          pairs.push([name, view.getInt8(at) !== 0]);
          break;
        case 7:
          pairs.push([name, cstr(view.getPointer(at)) ?? ""]);
          break;
      }
    }
    return pairs;
  };
  const out: CopiedArg[] = [];
  for (let i = 0; i < types.length; i++) {
    const value = args[i];
    const p = value as Deno.PointerValue;
    switch (types[i]) {
      case "virConnectPtr":
      case "void *":
        break;
      case "virDomainPtr":
        out.push({ name: cstr(s.virDomainGetName(p)), uuid: uuid(s.virDomainGetUUIDString, p) });
        break;
      case "virNetworkPtr":
        out.push({ name: cstr(s.virNetworkGetName(p)), uuid: uuid(s.virNetworkGetUUIDString, p) });
        break;
      case "virStoragePoolPtr":
        out.push({ name: cstr(s.virStoragePoolGetName(p)), uuid: uuid(s.virStoragePoolGetUUIDString, p) });
        break;
      case "virNodeDevicePtr":
        out.push({ name: cstr(s.virNodeDeviceGetName(p)) });
        break;
      case "virSecretPtr":
        out.push({
          name: null,
          uuid: uuid(s.virSecretGetUUIDString, p),
          usageType: s.virSecretGetUsageType(p),
          usageId: cstr(s.virSecretGetUsageID(p)),
        });
        break;
      case "int":
      case "unsigned int":
        out.push(Number(value));
        break;
      case "long long":
      case "unsigned long long":
        out.push(BigInt(value as number | bigint));
        break;
      case "const char *":
        out.push(cstr(value));
        break;
      case "virTypedParameterPtr":
        out.push(typedParams(value, Number(args[i + 1])));
        i++; // its nparams
        break;
      case "const virDomainEventGraphicsAddress *":
        out.push(address(value));
        break;
      case "const virDomainEventGraphicsSubject *":
        out.push(subject(value));
        break;
    }
  }
  return out;
}
