/**
 * Domain snapshots: create (full or disk-only), list (all, roots, children), current, look up by name,
 * revert, delete (alone, with children, metadata only), parent and XML, through typed handles.
 *
 * A {@link DomainSnapshot} (lib/objects/snapshot.ts) wraps a `virDomainSnapshotPtr` of one connection,
 * like a `Domain`: free it with `using` (or {@link DomainSnapshot.free}); the connection frees whatever
 * is still open when it closes. The functions here find and act on snapshots through the domain's and
 * the snapshot's one-call methods.
 *
 * @example
 * ```ts
 * import { Connection, createSnapshot, listSnapshots, lookupDomain, revertToSnapshot } from "@deno-libvirt/deno-libvirt";
 *
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * using snap = await createSnapshot(dom, { name: "before-exercise", description: "clean state" });
 * await revertToSnapshot(snap);
 * for (using s of await listSnapshots(dom)) console.log(s.name);
 * await snap.delete();
 * ```
 *
 * @module
 */
import { asOperation } from "./_handle.ts";
import { checkInstance, checkOptions, checkString } from "./_args.ts";
import { Domain, type LifecycleResult } from "./domain.ts";
import { SnapshotCreateFlag, SnapshotListFlag, SnapshotRevertFlag } from "./ffi/constants.ts";
import { escapeXml } from "./xml.ts";
import type { DomainSnapshot } from "./objects/snapshot.ts";

export {
  type DeleteSnapshotOptions,
  DomainSnapshot,
  parseSnapshotXml,
  type SnapshotDescription,
} from "./objects/snapshot.ts";

/** Options for {@link createSnapshot}. */
export interface CreateSnapshotOptions {
  /** The snapshot's name (libvirt picks the creation time when omitted). */
  name?: string;
  /** A free-text description. */
  description?: string;
  /** Disk state only, no memory (`VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY`). */
  diskOnly?: boolean;
  /** All disks or none: never a half-taken snapshot (`..._ATOMIC`). */
  atomic?: boolean;
  /** Freeze guest file systems through the agent first (`..._QUIESCE`; needs diskOnly and an agent). */
  quiesce?: boolean;
  /** Keep the guest running while memory is saved (`..._LIVE`). */
  live?: boolean;
  /** Stop the domain once the snapshot is taken (`..._HALT`). */
  halt?: boolean;
  /** Take the snapshot without libvirt tracking it (`..._NO_METADATA`): no handle use afterwards. */
  noMetadata?: boolean;
}

/**
 * Builds the `<domainsnapshot>` XML for {@link createSnapshot}: every value escaped.
 *
 * @param options name and description
 * @returns the XML document
 * @throws {TypeError} for a name libvirt cannot use (empty, containing "/", or a character XML forbids)
 *
 * @example
 * ```ts
 * import { snapshotXml } from "@deno-libvirt/deno-libvirt";
 * console.log(snapshotXml({ name: "s1", description: "before <exploit>" }));
 * ```
 */
export function snapshotXml(options: Pick<CreateSnapshotOptions, "name" | "description">): string {
  let xml = "<domainsnapshot>";
  if (options.name !== undefined) {
    if (options.name === "" || options.name.includes("/") || options.name.startsWith(".")) {
      throw new TypeError(
        `Cannot use snapshot name ${
          JSON.stringify(options.name)
        }: it must be non-empty, without "/", not starting with "."`,
      );
    }
    xml += `<name>${escapeXml(options.name)}</name>`;
  }
  if (options.description !== undefined) {
    xml += `<description>${escapeXml(options.description)}</description>`;
  }
  return xml + "</domainsnapshot>";
}

const A_DOMAIN = "a Domain (from lookupDomain() or listAllDomains())";

const createSnapshotOptionTypes = {
  name: "string",
  description: "string",
  diskOnly: "boolean",
  atomic: "boolean",
  quiesce: "boolean",
  live: "boolean",
  halt: "boolean",
  noMetadata: "boolean",
} as const;

/**
 * Takes a snapshot of a domain (virDomainSnapshotCreateXML).
 *
 * @param domain the domain
 * @param options name, description, diskOnly, atomic, quiesce, live, halt
 * @returns a handle to the new snapshot
 * @throws {TypeError} for an unusable name
 * @throws {LibvirtError} when libvirt refuses (name taken, unsupported disk format, no agent for quiesce)
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, createSnapshot, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * using snap = await createSnapshot(dom, { name: "docs-create", description: "before the exercise" });
 * console.log(await snap.describe()); // { name: "docs-create", description: "before the exercise", state: "running", ... }
 * await snap.delete();
 * ```
 */
export async function createSnapshot(
  domain: Domain,
  options: CreateSnapshotOptions = {},
): Promise<DomainSnapshot> {
  checkInstance(domain, Domain, "create a snapshot", "domain", A_DOMAIN);
  checkOptions(options, "create a snapshot", createSnapshotOptionTypes);
  const xml = snapshotXml(options);
  const flags = (options.diskOnly ? SnapshotCreateFlag.DISK_ONLY : 0) |
    (options.atomic ? SnapshotCreateFlag.ATOMIC : 0) | (options.quiesce ? SnapshotCreateFlag.QUIESCE : 0) |
    (options.live ? SnapshotCreateFlag.LIVE : 0) | (options.halt ? SnapshotCreateFlag.HALT : 0) |
    (options.noMetadata ? SnapshotCreateFlag.NO_METADATA : 0);
  return await asOperation(
    domain,
    options.name === undefined
      ? "create a snapshot of"
      : `create snapshot ${JSON.stringify(options.name)} of`,
    () => domain.snapshotCreateXml(xml, flags),
  );
}

/** Options for {@link listSnapshots}. */
export interface ListSnapshotsOptions {
  /** Only snapshots without a parent. */
  roots?: boolean;
  /** Only snapshots without children (true) or with children (false). */
  leaves?: boolean;
  /** Parents before children (`VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL`). */
  topological?: boolean;
  /** Only disk-only snapshots. */
  diskOnly?: boolean;
}

/**
 * Lists a domain's snapshots (virDomainListAllSnapshots).
 *
 * @param domain the domain
 * @param options roots / leaves / topological / diskOnly
 * @returns handles the caller frees
 * @throws {LibvirtError} when libvirt cannot list them
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, createSnapshot, listSnapshots, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * using snap = await createSnapshot(dom, { name: "docs-list" });
 * for (using s of await listSnapshots(dom, { roots: true })) console.log(s.name); // "docs-list"
 * await snap.delete();
 * ```
 */
export async function listSnapshots(
  domain: Domain,
  options: ListSnapshotsOptions = {},
): Promise<DomainSnapshot[]> {
  checkInstance(domain, Domain, "list snapshots", "domain", A_DOMAIN);
  checkOptions(options, "list snapshots", {
    roots: "boolean",
    leaves: "boolean",
    topological: "boolean",
    diskOnly: "boolean",
  });
  const flags = (options.roots ? SnapshotListFlag.ROOTS : 0) |
    (options.leaves === true ? SnapshotListFlag.LEAVES : 0) |
    (options.leaves === false ? SnapshotListFlag.NO_LEAVES : 0) |
    (options.topological ? SnapshotListFlag.TOPOLOGICAL : 0) |
    (options.diskOnly ? SnapshotListFlag.DISK_ONLY : 0);
  return await asOperation(domain, "list the snapshots of", () => domain.listAllSnapshots(flags));
}

/** A snapshot and its descendants, from {@link snapshotTree}. */
export interface SnapshotTreeNode {
  /** The snapshot's name. */
  name: string;
  /** The snapshots taken with this one as parent, each with its own descendants. */
  children: SnapshotTreeNode[];
}

/**
 * The domain's snapshots as a forest (roots with children), by name; no handles to free.
 *
 * @param domain the domain
 * @returns the root snapshots with their descendants
 * @throws {LibvirtError} when libvirt cannot list them
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, createSnapshot, lookupDomain, snapshotTree } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * using base = await createSnapshot(dom, { name: "docs-base" });
 * using next = await createSnapshot(dom, { name: "docs-next" }); // a child of the current one
 * console.log(JSON.stringify(await snapshotTree(dom))); // [{"name":"docs-base","children":[{"name":"docs-next","children":[]}]}]
 * await base.delete({ children: true });
 * ```
 */
export async function snapshotTree(domain: Domain): Promise<SnapshotTreeNode[]> {
  checkInstance(domain, Domain, "list snapshots", "domain", A_DOMAIN);
  const all = await listSnapshots(domain);
  try {
    const nodes = new Map<string, SnapshotTreeNode>();
    const parents = new Map<string, string | undefined>();
    for (const snap of all) {
      nodes.set(snap.name, { name: snap.name, children: [] });
      parents.set(snap.name, (await snap.describe()).parent);
    }
    const roots: SnapshotTreeNode[] = [];
    for (const [name, parent] of parents) {
      const node = nodes.get(name)!;
      const parentNode = parent === undefined ? undefined : nodes.get(parent);
      (parentNode ? parentNode.children : roots).push(node);
    }
    return roots;
  } finally {
    for (const snap of all) snap.free();
  }
}

/**
 * Looks up a snapshot of a domain by name (virDomainSnapshotLookupByName).
 *
 * @param domain the domain
 * @param name the snapshot's name
 * @returns a handle to free
 * @throws {NotFoundError} when the domain has no such snapshot
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, createSnapshot, lookupDomain, lookupSnapshot } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * (await createSnapshot(dom, { name: "docs-lookup" })).free();
 * using snap = await lookupSnapshot(dom, "docs-lookup");
 * console.log(snap.name, await snap.isCurrent()); // "docs-lookup" true
 * await snap.delete();
 * ```
 */
export async function lookupSnapshot(domain: Domain, name: string): Promise<DomainSnapshot> {
  checkInstance(domain, Domain, "look up a snapshot", "domain", A_DOMAIN);
  checkString(name, "look up a snapshot", "name");
  if (name.includes("\0")) {
    throw new TypeError(
      "Cannot look up a snapshot: name contains a NUL character, which libvirt cannot take",
    );
  }
  return await asOperation(
    domain,
    `look up snapshot ${JSON.stringify(name)} of`,
    () => domain.snapshotLookupByName(name, 0),
  );
}

/**
 * The domain's current snapshot (the one the domain last reverted to or took), or undefined when there
 * is none (virDomainHasCurrentSnapshot + virDomainSnapshotCurrent).
 *
 * @param domain the domain
 * @returns a handle to free, or undefined
 * @throws {LibvirtError} when libvirt cannot tell
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, createSnapshot, currentSnapshot, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * using snap = await createSnapshot(dom, { name: "docs-current" });
 * using current = await currentSnapshot(dom);
 * console.log(current?.name); // "docs-current" (undefined before any snapshot)
 * await snap.delete();
 * ```
 */
export async function currentSnapshot(domain: Domain): Promise<DomainSnapshot | undefined> {
  checkInstance(domain, Domain, "get the current snapshot", "domain", A_DOMAIN);
  const has = await asOperation(
    domain,
    "check whether {} has a current snapshot",
    () => domain.hasCurrentSnapshot(0),
  );
  if (!has) return undefined;
  return await asOperation(domain, "get the current snapshot of", () => domain.snapshotCurrent(0));
}

/** Options for {@link revertToSnapshot}. */
export interface RevertOptions {
  /** Run the domain after reverting, whatever the snapshot's state (`..._REVERT_RUNNING`). */
  running?: boolean;
  /** Leave it paused after reverting (`..._REVERT_PAUSED`). */
  paused?: boolean;
  /** Revert even when it is risky (e.g. across incompatible configurations) (`..._REVERT_FORCE`). */
  force?: boolean;
}

/**
 * Reverts the domain to a snapshot (virDomainRevertToSnapshot).
 *
 * @param snapshot the snapshot
 * @param options running / paused / force
 * @returns the domain's states before and after, and the time taken
 * @throws {TypeError} when both `running` and `paused` are asked for
 * @throws {LibvirtError} when libvirt refuses (e.g. a risky revert without `force`)
 *
 * @example
 * ```ts
 * import { Connection, createSnapshot, lookupDomain, revertToSnapshot, suspendDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * using snap = await createSnapshot(dom, { name: "docs-revert" }); // taken while running
 * await suspendDomain(dom);
 * console.log(await revertToSnapshot(snap)); // { before: "paused", after: "running", changed: true, ... }
 * await snap.delete();
 * ```
 */
export async function revertToSnapshot(
  snapshot: DomainSnapshot,
  options: RevertOptions = {},
): Promise<LifecycleResult> {
  if (options.running && options.paused) {
    throw new TypeError(
      `Cannot revert to snapshot ${JSON.stringify(snapshot.name)}: pass running or paused, not both`,
    );
  }
  const flags = (options.running ? SnapshotRevertFlag.RUNNING : 0) |
    (options.paused ? SnapshotRevertFlag.PAUSED : 0) | (options.force ? SnapshotRevertFlag.FORCE : 0);
  const t0 = performance.now();
  const before = await snapshot.domain.state();
  await asOperation(
    snapshot,
    `revert domain ${JSON.stringify(snapshot.domain.name)} to`,
    () => snapshot.revertToSnapshot(flags),
  );
  const after = await snapshot.domain.state();
  return {
    before: before.state,
    after: after.state,
    afterReason: after.reasonName,
    tookMs: Math.round((performance.now() - t0) * 1000) / 1000,
    changed: true,
  };
}
