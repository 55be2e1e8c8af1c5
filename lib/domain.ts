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
 * ## Results and no-op semantics
 *
 * Every operation reads the state first, acts, reads it again, and resolves to a
 * {@link LifecycleResult} `{ before, after, tookMs, changed }`. An operation that is invalid in the
 * current state throws {@link OperationInvalidError} *before* calling libvirt, with libvirt's wording
 * (`Cannot start domain "web1": Requested operation is not valid: domain is already running`), the same
 * on every driver: the test driver's `INTERNAL_ERROR` "domain 'x' not running" (seen when the state
 * changes between our read and the call) is mapped to the same class and code. The no-op cases (start a
 * running domain, shut down or destroy a shut-off one, suspend a paused one, resume a running one)
 * throw by default, like `virsh`; with `ifNeeded: true` they resolve without acting, with
 * `changed: false` and `after === before`. Nothing ever succeeds by doing something else (starting a
 * paused domain is not a resume: it throws even with `ifNeeded`). A failing call is reported in the
 * operation's words (`start domain "web1"`), not the method's (`call virDomainCreateWithFlags on ...`).
 *
 * @example
 * ```ts
 * import { Connection, lookupDomain, resumeDomain, startDomain, suspendDomain } from "@deno-libvirt/deno-libvirt";
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
export {
  type AffectOptions,
  type DomainMetadataElement,
  getDomainMetadata,
  setDomainMetadata,
} from "./domain/metadata.ts";
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
  startDomain,
  type StartOptions,
  suspendDomain,
  undefineDomain,
  type UndefineOptions,
} from "./domain/lifecycle.ts";
export { shutdownDomain, type ShutdownOptions, type ShutdownResult } from "./domain/shutdown.ts";
