/**
 * IP address discovery on its own (`import ... from ".../ip"`): what a one-shot address query needs,
 * without the range automation, the YAML parser or the storage/snapshot modules `mod.ts` brings.
 *
 * @example
 * ```ts ignore
 * import { discoverMany } from "@deno-libvirt/deno-libvirt/ip";
 * const [entry] = await discoverMany([{ uri: "qemu:///system", domains: ["web1"] }]);
 * console.log(entry.result?.best?.address);
 * ```
 *
 * @module
 */
import type {} from "../objects/_classes.ts"; // every ObjectClasses entry, for the type checker only
export { type Cidr, inCidr, normalizeMac, parseCidr } from "./addresses.ts";
export { discoverMany, type DiscoverManyOptions, type DiscoveryEntry, type DiscoveryHost } from "./batch.ts";
export { AddressCache, type AddressCacheOptions, type AddressCacheStats } from "./cache.ts";
export { defaultSources, discover, type DiscoverOptions } from "./discover.ts";
export { encodedMacRule, type MacRule } from "./sources/plan.ts";
export { PLAN_NAMESPACE } from "./target.ts";
export {
  type AddressSource,
  type DiscoveredAddress,
  type DiscoveryResult,
  type DiscoveryTarget,
  type IgnoredSighting,
  type Nic,
  type NicAddresses,
  type Sighting,
  type SourceName,
  type SourceReport,
  SourceSkipped,
} from "./types.ts";
export {
  type AddressFound,
  AddressTimeoutError,
  waitForAddress,
  type WaitForAddressOptions,
} from "./wait.ts";
export { Connection, type OpenOptions } from "../connection.ts";
export { setEventLoopEnabled } from "../event_loop.ts";
export { lookupDomain } from "../domain.ts";
