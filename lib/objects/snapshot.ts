/**
 * The {@link DomainSnapshot} object: a `virDomainSnapshotPtr` of one domain, with the one-call methods
 * of its generated base and the older convenience members (`xmlDesc()`, `describe()`, `parent()`,
 * `children()`, `isCurrent()`, `delete()`; one call each, `describe()` a call and a parse). Free it with `using` (or
 * {@link DomainSnapshot.free}); the connection frees whatever is still open when it closes. The
 * finders and operations (create, list, look up, current, revert) are in lib/snapshot.ts.
 *
 * @module
 */
import { type HandleType, kCall } from "../_handle.ts";
import { Domain } from "./domain.ts";
import { type DomainStateName, domainStateName } from "./domain_state.ts";
import { isNegative, isNull, OutSlot, takeCString, takePointerArray } from "../ffi/c.ts";
import { libvirt } from "../ffi/library.ts";
import { SnapshotDeleteFlag, SnapshotListFlag } from "../ffi/constants.ts";
import { parseXml } from "../xml.ts";
import { LibvirtError } from "../errors.ts";
import { ErrorCode } from "../error_codes.ts";
import { DomainSnapshotCalls } from "./_generated/domain_snapshot.js";
import { registerHandleFactory } from "./_registry.ts";

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

/**
 * A snapshot of a domain. Not constructible by users: get one from `createSnapshot`, `lookupSnapshot`,
 * `listSnapshots` or `currentSnapshot`; free it with `using`.
 *
 * @example
 * ```ts
 * import { Connection, createSnapshot, type DomainSnapshot, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * using snap: DomainSnapshot = await createSnapshot(dom, { name: "docs-class" });
 * console.log(snap, snap.domain.name, await snap.isCurrent()); // DomainSnapshot { name: "docs-class" } "test" true
 * console.log((await snap.parent())?.name, (await snap.children()).length); // undefined 0
 * await snap.delete();
 * ```
 */
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
   * The parent snapshot, or undefined for a root (virDomainSnapshotGetParent: one call, whose "no
   * parent" answer, libvirt's `NO_DOMAIN_SNAPSHOT` error, is `undefined` here).
   *
   * @returns a handle to free, or undefined
   * @throws {LibvirtError} other than "no parent", e.g. `NO_DOMAIN_SNAPSHOT` "no domain snapshot with
   *   matching name" when this snapshot was deleted (libvirt gives both answers the one code: the
   *   deleted case is told by libvirt's message)
   */
  async parent(): Promise<DomainSnapshot | undefined> {
    try {
      return await this[kCall](
        "get the parent of",
        (h) => libvirt().symbols.virDomainSnapshotGetParentAsync(h, 0),
        isNull,
        (handle) => new DomainSnapshot(constructing, this.#domain, handle!),
      );
    } catch (error) {
      if (
        error instanceof LibvirtError && error.code === ErrorCode.NO_DOMAIN_SNAPSHOT &&
        !/no domain snapshot with matching/.test(error.message)
      ) return undefined;
      throw error;
    }
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
 *
 * @example
 * ```ts
 * import { parseSnapshotXml } from "@deno-libvirt/deno-libvirt";
 * const xml = "<domainsnapshot><name>s1</name><state>running</state><creationTime>1700000000</creationTime>" +
 *   "<parent><name>s0</name></parent><memory snapshot='internal'/></domainsnapshot>";
 * console.log(parseSnapshotXml(xml)); // { name: "s1", state: "running", createdAt: 2023-11-14T22:13:20.000Z, parent: "s0", hasMemory: true }
 * ```
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

registerHandleFactory("virDomainSnapshotPtr", (owner, pointer) => {
  // from a domain (lookup, list, create) or from another snapshot of it (parent, children)
  const domain = owner instanceof Domain ? owner : (owner as DomainSnapshot).domain;
  return new DomainSnapshot(constructing, domain, pointer);
});

// The registry entry through which the layers below name DomainSnapshot (lib/objects/_types.ts).
declare module "./_types.ts" {
  interface ObjectClasses {
    DomainSnapshot: DomainSnapshot;
  }
}
