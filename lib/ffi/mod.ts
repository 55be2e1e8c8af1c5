/**
 * The binding layer: how libvirt is loaded, which version is needed, the enums libvirt's calls take and
 * return (generated from libvirt's API description), and the typed-parameter shapes. Import it alone as
 * `@deno-libvirt/deno-libvirt/ffi`; `mod.ts` re-exports it.
 *
 * ```ts
 * import { formatVersion, MINIMUM_LIBVIRT_VERSION } from "@deno-libvirt/deno-libvirt/ffi";
 * console.log(`needs libvirt >= ${formatVersion(MINIMUM_LIBVIRT_VERSION)}`);
 * ```
 *
 * @module
 */
export { formatVersion, LIBRARY_PATH_ENV, MINIMUM_LIBVIRT_VERSION } from "./library.ts";
export type { TypedParams } from "./marshal.ts";
export type { TypedParamKind, TypedParamSchema } from "./typed_params.ts";
// The enums the generated methods take and return, as named constants and types (`DomainState` is
// exported by lib/domain.ts with the same values).
export {
  DomainCoreDumpFormat,
  DomainJobType,
  DomainLifecycle,
  DomainLifecycleAction,
  DomainMetadataType,
  DomainProcessSignal,
  ErrorNumber, // virErrorNumber as generated (VIR_ERR_* keep their ERR_ prefix); ErrorCode drops it
  NetworkUpdateCommand,
  NetworkUpdateSection,
  NodeSuspendTarget,
  StorageVolWipeAlgorithm,
} from "./_generated/enums.ts";
