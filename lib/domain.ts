/**
 * Domains: the {@link Domain} object and its finders, its NICs and metadata, and the operations that
 * move a domain between states. This module re-exports the layers they live in:
 *
 * - lib/objects/domain.ts: the `Domain` class (one-call methods), state tables, the handle cache;
 * - lib/objects/domain_lookup.ts: lookup, listing, define and create;
 * - lib/domain/nics.ts: NICs from the XML, and libvirt's address sources;
 * - lib/domain/metadata.ts: namespaced metadata elements;
 * - lib/domain/lifecycle.ts: start, destroy, reboot, reset, suspend, resume, managed save, undefine;
 * - lib/domain/shutdown.ts: graceful shutdown with waits and fallback.
 *
 * @example
 * ```ts
 * import { Connection } from "./connection.ts";
 * import { lookupDomain, resumeDomain, startDomain, suspendDomain } from "./domain.ts";
 *
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * await startDomain(dom, { ifNeeded: true }); // already running: { changed: false }
 * const { before, after } = await suspendDomain(dom);
 * console.log(before, "->", after); // running -> paused
 * await resumeDomain(dom);
 * ```
 *
 * @module
 */
export {
  Domain,
  type DomainCacheStats,
  domainCacheStats,
  type DomainInfo,
  DomainState,
  type DomainStateInfo,
  type DomainStateName,
  domainStateName,
  domainStateReason,
  type DomainXmlOptions,
  type InterfaceAddresses,
  type InterfaceAddressSource,
} from "./objects/domain.ts";
export {
  createDomain,
  type CreateDomainOptions,
  defineDomain,
  listAllDomains,
  listAllDomainsSync,
  listDomainsFlags,
  type ListDomainsOptions,
  lookupDomain,
  type LookupDomainOptions,
  lookupDomainSync,
} from "./objects/domain_lookup.ts";
export {
  type DomainInterface,
  domainInterfaces,
  interfaceAddresses,
  interfacesOf,
  parseDomainInterfaces,
} from "./domain/nics.ts";
export { type AffectOptions, getDomainMetadata, setDomainMetadata } from "./domain/metadata.ts";
export {
  destroyDomain,
  type DestroyOptions,
  type LifecycleOptions,
  type LifecycleResult,
  managedSaveDomain,
  type ManagedSaveOptions,
  rebootDomain,
  type RebootOptions,
  removeManagedSave,
  resetDomain,
  restoreDomain,
  resumeDomain,
  type ShutdownOptions,
  type ShutdownResult,
  startDomain,
  type StartOptions,
  suspendDomain,
  undefineDomain,
  type UndefineOptions,
} from "./domain/lifecycle.ts";
export { shutdownDomain } from "./domain/shutdown.ts";
