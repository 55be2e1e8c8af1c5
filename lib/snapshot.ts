/**
 * Domain snapshots: create (full or disk-only), list (all, roots, children), current, look up by name,
 * revert, delete (alone, with children, metadata only), parent and XML, through typed handles.
 *
 * A {@link DomainSnapshot} wraps a `virDomainSnapshotPtr` of one connection, like a `Domain`: free it with
 * `using` (or {@link DomainSnapshot.free}); the connection frees whatever is still open when it closes.
 *
 * @example
 * ```ts
 * import { Connection } from "./connection.ts";
 * import { lookupDomain } from "./domain.ts";
 * import { createSnapshot, listSnapshots, revertToSnapshot } from "./snapshot.ts";
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
import { type HandleType, kCall } from "./_handle.ts";
import { checkInstance, checkOptions, checkString } from "./_args.ts";
import { Domain, type DomainStateName, domainStateName, type LifecycleResult } from "./domain.ts";
import { cString, isNegative, isNull, OutSlot, takeCString, takePointerArray } from "./ffi/c.ts";
import { libvirt } from "./ffi/library.ts";
import {
  SnapshotCreateFlag,
  SnapshotDeleteFlag,
  SnapshotListFlag,
  SnapshotRevertFlag,
} from "./ffi/constants.ts";
import { escapeXml, parseXml } from "./xml.ts";
import { DomainSnapshotCalls } from "./objects/_generated/domain_snapshot.ts";
import { registerHandleFactory } from "./objects/_registry.ts";

const constructing = Symbol("deno_libvirt.snapshot.constructing");

const snapshotType: HandleType = {
  className: "DomainSnapshot",
  noun: "snapshot",
  ref: (h) => libvirt().symbols.virDomainSnapshotRef(h),
  free: (h) => libvirt().symbols.virDomainSnapshotFree(h),
  name: (h) => libvirt().symbols.virDomainSnapshotGetName(h),
};

/** What a snapshot's XML says about it. */
export interface SnapshotDescription {
  /** The snapshot's name, unique within its domain. */
  name: string;
  /** The free-text `<description>`, when the snapshot has one. */
  description?: string;
  /** The domain state captured: "running", "paused", "shutoff", or "disk-snapshot" for disk-only. */
  state: DomainStateName | "disk-snapshot";
  /** When it was taken. */
  createdAt?: Date;
  /** The parent snapshot's name. */
  parent?: string;
  /** True for a memory + disk snapshot of an active domain. */
  hasMemory: boolean;
}

/** Options for {@link DomainSnapshot.delete}. */
export interface DeleteSnapshotOptions {
  /** Also delete its descendants (`VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN`). */
  children?: boolean;
  /** Delete only its descendants, keep it (`..._CHILDREN_ONLY`). */
  childrenOnly?: boolean;
  /** Remove libvirt's metadata only, keep the data in the images (`..._METADATA_ONLY`). */
  metadataOnly?: boolean;
}

/** A snapshot of a domain. Not constructible by users. */
export class DomainSnapshot extends DomainSnapshotCalls {
  readonly #domain: Domain;

  /** @internal */
  constructor(token: symbol, domain: Domain, handle: Deno.PointerObject, name?: string) {
    if (token !== constructing) {
      throw new TypeError(
        "Cannot construct a DomainSnapshot directly: use createSnapshot() or lookupSnapshot()",
      );
    }
    super(snapshotType, domain.connection, handle, name);
    this.#domain = domain;
  }

  /** The domain this snapshot belongs to (the handle it was obtained through). */
  get domain(): Domain {
    return this.#domain;
  }

  /**
   * The snapshot's XML description (virDomainSnapshotGetXMLDesc).
   *
   * @param options `secure` to include security-sensitive values
   * @returns the `<domainsnapshot>` document
   * @throws {LibvirtError} when libvirt cannot describe it
   */
  async xmlDesc(options: { secure?: boolean } = {}): Promise<string> {
    const pointer = await this[kCall](
      "get the XML of",
      (h) => libvirt().symbols.virDomainSnapshotGetXMLDescAsync(h, options.secure ? 1 : 0),
      isNull,
    );
    return takeCString(pointer) ?? "";
  }

  /**
   * Name, description, captured state, creation time and parent, parsed from the XML.
   *
   * @returns the parsed description
   * @throws {LibvirtError} when libvirt cannot describe it
   */
  async describe(): Promise<SnapshotDescription> {
    return parseSnapshotXml(await this.xmlDesc());
  }

  /**
   * The parent snapshot, or undefined for a root (virDomainSnapshotGetParent).
   *
   * @returns a handle to free, or undefined
   * @throws {LibvirtError} other than "no parent"
   */
  async parent(): Promise<DomainSnapshot | undefined> {
    const description = await this.describe();
    if (description.parent === undefined) return undefined;
    return await this[kCall](
      "get the parent of",
      (h) => libvirt().symbols.virDomainSnapshotGetParentAsync(h, 0),
      isNull,
      (handle) => new DomainSnapshot(constructing, this.#domain, handle!, description.parent),
    );
  }

  /**
   * The snapshot's children, or all its descendants (virDomainSnapshotListAllChildren).
   *
   * @param options `descendants` for the whole subtree
   * @returns handles to free
   * @throws {LibvirtError} when libvirt cannot list them
   */
  async children(options: { descendants?: boolean } = {}): Promise<DomainSnapshot[]> {
    const slot = new OutSlot();
    const flags = options.descendants ? SnapshotListFlag.DESCENDANTS : 0;
    return await this[kCall](
      "list the children of",
      (h) => libvirt().symbols.virDomainSnapshotListAllChildrenAsync(h, slot.buffer, flags),
      isNegative,
      (count) =>
        takePointerArray(slot.pointer, count).map((p) => new DomainSnapshot(constructing, this.#domain, p)),
    );
  }

  /**
   * True when this is the domain's current snapshot (virDomainSnapshotIsCurrent).
   *
   * @throws {LibvirtError} when libvirt cannot tell
   */
  async isCurrent(): Promise<boolean> {
    return 1 === await this[kCall](
      "check whether {} is current",
      (h) => libvirt().symbols.virDomainSnapshotIsCurrentAsync(h, 0),
      isNegative,
    );
  }

  /**
   * Deletes the snapshot (virDomainSnapshotDelete); this handle stays open (free it) but names nothing.
   *
   * @param options children / childrenOnly / metadataOnly
   * @throws {OperationInvalidError} e.g. for an external snapshot the driver cannot delete
   */
  async delete(options: DeleteSnapshotOptions = {}): Promise<void> {
    const flags = (options.children ? SnapshotDeleteFlag.CHILDREN : 0) |
      (options.childrenOnly ? SnapshotDeleteFlag.CHILDREN_ONLY : 0) |
      (options.metadataOnly ? SnapshotDeleteFlag.METADATA_ONLY : 0);
    await this[kCall](
      "delete",
      (h) => libvirt().symbols.virDomainSnapshotDeleteAsync(h, flags),
      isNegative,
    );
  }
}

/**
 * Parses a `<domainsnapshot>` document.
 *
 * @param xml the snapshot XML
 * @returns its description
 * @throws {TypeError} when the document is not a `<domainsnapshot>`
 */
export function parseSnapshotXml(xml: string): SnapshotDescription {
  const root = parseXml(xml).domainsnapshot as Record<string, unknown> | undefined;
  if (root === undefined || typeof root !== "object") {
    throw new TypeError("Cannot read snapshot XML: the document is not a <domainsnapshot>");
  }
  const text = (value: unknown): string | undefined =>
    typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
  const state = text(root.state) ?? "nostate";
  const result: SnapshotDescription = {
    name: text(root.name) ?? "",
    state: state === "disk-snapshot" ? "disk-snapshot" : (stateFromXml(state) ?? "nostate"),
    hasMemory: false,
  };
  const description = text(root.description);
  if (description !== undefined) result.description = description;
  const created = text(root.creationTime);
  if (created !== undefined) result.createdAt = new Date(Number(created) * 1000);
  const parent = root.parent as Record<string, unknown> | undefined;
  const parentName = parent && typeof parent === "object" ? text(parent.name) : undefined;
  if (parentName !== undefined) result.parent = parentName;
  const memory = root.memory as Record<string, unknown> | undefined;
  const snapshotMode = memory && typeof memory === "object" ? memory["@_snapshot"] : undefined;
  result.hasMemory = snapshotMode === "internal" || snapshotMode === "external" ||
    (snapshotMode === undefined && (state === "running" || state === "paused"));
  return result;
}

function stateFromXml(state: string): DomainStateName | undefined {
  for (let i = 0; i < 8; i++) if (domainStateName(i) === state) return domainStateName(i);
  return undefined;
}

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
 * import { snapshotXml } from "./snapshot.ts";
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
 */
export async function createSnapshot(
  domain: Domain,
  options: CreateSnapshotOptions = {},
): Promise<DomainSnapshot> {
  checkInstance(domain, Domain, "create a snapshot", "domain", A_DOMAIN);
  checkOptions(options, "create a snapshot", createSnapshotOptionTypes);
  const xml = cString(snapshotXml(options), "snapshot XML");
  const flags = (options.diskOnly ? SnapshotCreateFlag.DISK_ONLY : 0) |
    (options.atomic ? SnapshotCreateFlag.ATOMIC : 0) | (options.quiesce ? SnapshotCreateFlag.QUIESCE : 0) |
    (options.live ? SnapshotCreateFlag.LIVE : 0) | (options.halt ? SnapshotCreateFlag.HALT : 0) |
    (options.noMetadata ? SnapshotCreateFlag.NO_METADATA : 0);
  return await domain[kCall](
    options.name === undefined
      ? "create a snapshot of"
      : `create snapshot ${JSON.stringify(options.name)} of`,
    (h) => libvirt().symbols.virDomainSnapshotCreateXMLAsync(h, xml, flags),
    isNull,
    (handle) => new DomainSnapshot(constructing, domain, handle!, options.name),
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
  const slot = new OutSlot();
  return await domain[kCall](
    "list the snapshots of",
    (h) => libvirt().symbols.virDomainListAllSnapshotsAsync(h, slot.buffer, flags),
    isNegative,
    (count) => takePointerArray(slot.pointer, count).map((p) => new DomainSnapshot(constructing, domain, p)),
  );
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
 */
export async function lookupSnapshot(domain: Domain, name: string): Promise<DomainSnapshot> {
  checkInstance(domain, Domain, "look up a snapshot", "domain", A_DOMAIN);
  const text = cString(checkString(name, "look up a snapshot", "name"), "snapshot name");
  return await domain[kCall](
    `look up snapshot ${JSON.stringify(name)} of`,
    (h) => libvirt().symbols.virDomainSnapshotLookupByNameAsync(h, text, 0),
    isNull,
    (handle) => new DomainSnapshot(constructing, domain, handle!, name),
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
 */
export async function currentSnapshot(domain: Domain): Promise<DomainSnapshot | undefined> {
  checkInstance(domain, Domain, "get the current snapshot", "domain", A_DOMAIN);
  const has = await domain[kCall](
    "check whether {} has a current snapshot",
    (h) => libvirt().symbols.virDomainHasCurrentSnapshotAsync(h, 0),
    isNegative,
  );
  if (has !== 1) return undefined;
  return await domain[kCall](
    "get the current snapshot of",
    (h) => libvirt().symbols.virDomainSnapshotCurrentAsync(h, 0),
    isNull,
    (handle) => new DomainSnapshot(constructing, domain, handle!),
  );
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
  await snapshot[kCall](
    `revert domain ${JSON.stringify(snapshot.domain.name)} to`,
    (h) => libvirt().symbols.virDomainRevertToSnapshotAsync(h, flags),
    isNegative,
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

registerHandleFactory("virDomainSnapshotPtr", (owner, pointer) => {
  // from a domain (lookup, list, create) or from another snapshot of it (parent, children)
  const domain = owner instanceof Domain ? owner : (owner as DomainSnapshot).domain;
  return new DomainSnapshot(constructing, domain, pointer);
});
