/**
 * Storage pools and volumes: the finders (pools from a connection; volumes from a pool, or by path),
 * volume creation, and the XML of a qcow2 overlay on a backing image.
 *
 * {@link StoragePool} and {@link StorageVolume} (lib/objects/storage.ts) wrap a `virStoragePoolPtr` / `virStorageVolPtr` of one
 * {@link Connection}, like a `Domain`: users get them from the lookup, list, define and create
 * functions below and free them with `using` (or `free()`); the connection frees whatever is still
 * open when it closes. A volume handle does not keep its pool handle alive, and needs no pool handle
 * to be used. A pool's lifecycle is its methods, one libvirt call each: `pool.build()`, `pool.create()`
 * (start), `pool.destroy()`, `pool.delete()`, `pool.undefine()`, `pool.refresh()`; `buildStoragePool`,
 * `startStoragePool`, `destroyStoragePool`, `deleteStoragePool` and `undefineStoragePool` are deprecated
 * aliases of them (the API rule in docs/design.md). The volume finders of a pool ({@link lookupVolume},
 * {@link listVolumes}, {@link createVolume}) stay functions, as the connection's finders do.
 *
 * @example
 * ```ts
 * import { Connection, createVolume, lookupStoragePool, qcow2OverlayXml } from "@deno-libvirt/deno-libvirt";
 *
 * await using conn = await Connection.open("test:///default");
 * using pool = await lookupStoragePool(conn, "default-pool");
 * console.log((await pool.info()).availableBytes);
 * using overlay = await createVolume(
 *   pool,
 *   qcow2OverlayXml({
 *     name: "web1.qcow2",
 *     capacityBytes: 10 * 2 ** 30,
 *     backingPath: "/images/base.qcow2",
 *     backingFormat: "qcow2",
 *   }),
 * );
 * console.log(await overlay.path());
 * await overlay.delete();
 * ```
 *
 * @module
 */
import { checkFlags, checkInstance, checkString } from "./_args.ts";
import { asOperation } from "./_handle.ts";
import { describeXml, escapeXml } from "./xml.ts";
import { A_STORAGE_POOL, StoragePool, type StorageVolume } from "./objects/storage.ts";

export {
  createStoragePool,
  defineStoragePool,
  listAllStoragePools,
  listStoragePoolsFlags,
  type ListStoragePoolsOptions,
  lookupStoragePool,
  lookupVolumeByPath,
  StoragePool,
  StoragePoolBuildFlag,
  StoragePoolCreateFlag,
  type StoragePoolInfo,
  type StoragePoolStateName,
  StorageVolume,
  StorageVolumeCreateFlag,
  StorageVolumeDeleteFlag,
  type StorageVolumeInfo,
  type StorageVolumeTypeName,
  type StorageXmlOptions,
} from "./objects/storage.ts";

/**
 * Builds a defined pool's underlying storage, e.g. creates a dir pool's directory (virStoragePoolBuild).
 *
 * @deprecated use `pool.build(options)` ({@link StoragePool.build}, flags by name: `{ noOverwrite: true }`):
 *   the same call, one name for it (the API rule in docs/design.md). This alias stays for existing code
 *   and keeps its message (`Cannot build storage pool "x": ...`).
 *
 * @param pool a defined, inactive pool
 * @param flags {@link StoragePoolBuildFlag}s
 * @throws {LibvirtError} when libvirt cannot build it (e.g. the directory exists, with `NO_OVERWRITE`)
 *
 * @example
 * ```ts
 * import { Connection, defineStoragePool } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<pool type='dir'><name>docs-pool</name><target><path>/docs-pool</path></target></pool>";
 * using pool = await defineStoragePool(conn, xml);
 * await pool.build(); // was: await buildStoragePool(pool); qemu:///system: mkdir /docs-pool
 * await pool.delete(); // and rmdir it again
 * await pool.undefine();
 * ```
 */
export async function buildStoragePool(pool: StoragePool, flags = 0): Promise<void> {
  await asOperation(pool, "build", () => pool.build(checkFlags(flags, "build a storage pool")));
}

/**
 * Starts a defined pool (virStoragePoolCreate).
 *
 * @deprecated use `pool.create(options)` ({@link StoragePool.create}, flags by name: `{ build: true }`):
 *   the same call, one name for it. This alias stays for existing code and keeps its message
 *   (`Cannot start storage pool "x": ...`).
 *
 * @param pool a defined, inactive pool
 * @param flags {@link StoragePoolCreateFlag}s, e.g. `WITH_BUILD`
 * @throws {OperationInvalidError} when it is already running
 *
 * @example
 * ```ts
 * import { Connection, defineStoragePool } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<pool type='dir'><name>docs-pool</name><target><path>/docs-pool</path></target></pool>";
 * using pool = await defineStoragePool(conn, xml);
 * await pool.create(); // was: await startStoragePool(pool); `{ build: true }` also makes the directory
 * console.log((await pool.info()).state); // "running"
 * await pool.destroy();
 * await pool.undefine();
 * ```
 */
export async function startStoragePool(pool: StoragePool, flags = 0): Promise<void> {
  await asOperation(pool, "start", () => pool.create(checkFlags(flags, "start a storage pool")));
}

/**
 * Stops a pool (virStoragePoolDestroy); a transient pool disappears. Volumes stay on disk.
 *
 * @deprecated use `pool.destroy()` ({@link StoragePool.destroy}): the same call, one name for it. This
 *   alias stays for existing code and keeps its message (`Cannot destroy storage pool "x": ...`).
 *
 * @param pool a running pool
 * @throws {OperationInvalidError} when it is not running
 *
 * @example
 * ```ts
 * import { Connection, createStoragePool, listAllStoragePools } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<pool type='dir'><name>docs-pool</name><target><path>/docs-pool</path></target></pool>";
 * using pool = await createStoragePool(conn, xml);
 * await pool.destroy(); // was: await destroyStoragePool(pool)
 * console.log((await listAllStoragePools(conn)).map((p) => p.name)); // [ "default-pool" ]: a transient pool is gone
 * ```
 */
export async function destroyStoragePool(pool: StoragePool): Promise<void> {
  await asOperation(pool, "destroy", () => pool.destroy());
}

/**
 * Deletes what building the pool made (virStoragePoolDelete): for a dir pool, its (empty) directory.
 * The pool must be inactive; its definition stays until it is undefined.
 *
 * @deprecated use `pool.delete(options)` ({@link StoragePool.delete}): the same call, one name for it.
 *   This alias stays for existing code and keeps its message (`Cannot delete storage pool "x": ...`).
 *
 * @param pool an inactive pool
 * @param flags `VIR_STORAGE_POOL_DELETE_*` (0: the default)
 * @throws {LibvirtError} when the pool is running, or its directory is not empty
 *
 * @example
 * ```ts
 * import { Connection, defineStoragePool } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<pool type='dir'><name>docs-pool</name><target><path>/docs-pool</path></target></pool>";
 * using pool = await defineStoragePool(conn, xml);
 * await pool.build();
 * await pool.delete(); // was: await deleteStoragePool(pool)
 * await pool.undefine(); // the definition goes last
 * ```
 */
export async function deleteStoragePool(pool: StoragePool, flags = 0): Promise<void> {
  await asOperation(pool, "delete", () => pool.delete(checkFlags(flags, "delete a storage pool")));
}

/**
 * Removes a pool's persistent definition (virStoragePoolUndefine). Volumes stay on disk.
 *
 * @deprecated use `pool.undefine()` ({@link StoragePool.undefine}): the same call, one name for it. This
 *   alias stays for existing code and keeps its message (`Cannot undefine storage pool "x": ...`).
 *
 * @param pool an inactive, persistent pool
 * @throws {OperationInvalidError} when the pool is running or transient
 *
 * @example
 * ```ts
 * import { Connection, defineStoragePool, isNotFound, lookupStoragePool } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<pool type='dir'><name>docs-pool</name><target><path>/docs-pool</path></target></pool>";
 * using pool = await defineStoragePool(conn, xml);
 * await pool.undefine(); // was: await undefineStoragePool(pool)
 * console.log(await lookupStoragePool(conn, "docs-pool").catch(isNotFound)); // true: no such pool now
 * ```
 */
export async function undefineStoragePool(pool: StoragePool): Promise<void> {
  await asOperation(pool, "undefine", () => pool.undefine());
}

/**
 * Creates a volume in a pool from XML (virStorageVolCreateXML), e.g. from {@link qcow2OverlayXml}.
 *
 * @param pool a running pool
 * @param xml the volume XML
 * @param flags {@link StorageVolumeCreateFlag}s
 * @returns a handle to the new volume
 * @throws {LibvirtError} with libvirt's reason when the XML is invalid, the name is taken or the
 *   backing file cannot be read
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, createVolume, lookupStoragePool } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using pool = await lookupStoragePool(conn, "default-pool");
 * using vol = await createVolume(pool, "<volume><name>docs.img</name><capacity unit='GiB'>1</capacity></volume>");
 * console.log(await vol.info()); // { type: "file", capacityBytes: 1073741824, allocationBytes: ... }
 * await vol.delete();
 * ```
 */
export function createVolume(pool: StoragePool, xml: string, flags = 0): Promise<StorageVolume> {
  try {
    checkInstance(pool, StoragePool, "create a volume", "pool", A_STORAGE_POOL);
    checkString(xml, "create a volume", "xml");
    checkFlags(flags, "create a volume");
  } catch (error) {
    return Promise.reject(error);
  }
  // the volume's name is read out of the XML only to word an error
  return asOperation(
    pool,
    () => `create volume ${describeXml(xml)} in`,
    () => pool.storageVolCreateXml(xml, flags),
  );
}

/**
 * Looks a volume up by name in a pool (virStorageVolLookupByName).
 *
 * @param pool a running pool
 * @param name the volume's name in the pool, e.g. "web1.qcow2"
 * @returns a handle to free with `using`
 * @throws {NotFoundError} when the pool has no such volume
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, isNotFound, lookupStoragePool, lookupVolume } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using pool = await lookupStoragePool(conn, "default-pool");
 * const vol = await lookupVolume(pool, "web1.qcow2").catch((error) => isNotFound(error) ? undefined : Promise.reject(error));
 * console.log(vol?.name ?? "web1.qcow2 is not in default-pool");
 * ```
 */
export async function lookupVolume(pool: StoragePool, name: string): Promise<StorageVolume> {
  checkInstance(pool, StoragePool, "look up a volume", "pool", A_STORAGE_POOL);
  checkString(name, "look up a volume", "name");
  return await asOperation(
    pool,
    `look up volume ${JSON.stringify(name)} in`,
    () => pool.storageVolLookupByName(name),
  );
}

/**
 * Lists the volumes of a running pool in one call (virStoragePoolListAllVolumes).
 *
 * @param pool a running pool
 * @returns handles the caller frees
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, listVolumes, lookupStoragePool } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using pool = await lookupStoragePool(conn, "default-pool");
 * for (using vol of await listVolumes(pool)) console.log(vol.name, await vol.path());
 * ```
 */
export async function listVolumes(pool: StoragePool): Promise<StorageVolume[]> {
  checkInstance(pool, StoragePool, "list volumes", "pool", A_STORAGE_POOL);
  return await asOperation(pool, "list the volumes of", () => pool.listAllVolumes(0));
}

/** Options for {@link qcow2OverlayXml}. */
export interface Qcow2OverlayOptions {
  /** The new volume's name in its pool, e.g. "web1.qcow2". */
  name: string;
  /** The size the guest sees; default: the backing image's size. */
  capacityBytes?: number | bigint;
  /** The backing image's path on the host. It is only read, never written. */
  backingPath: string;
  /** The backing image's format: "qcow2", "raw", ... Always give it: probing formats is unsafe. */
  backingFormat: string;
}

/**
 * Builds the volume XML of a qcow2 overlay (copy-on-write layer) on a backing image, for
 * {@link createVolume}. Every value is escaped.
 *
 * @param options name, backing image path and format, optional capacity
 * @returns the volume XML
 * @throws {TypeError} when a value contains a character XML cannot carry, or a required one is empty
 * @throws {RangeError} when `capacityBytes` is not a non-negative integer
 *
 * @example
 * ```ts
 * import { qcow2OverlayXml } from "@deno-libvirt/deno-libvirt";
 * const xml = qcow2OverlayXml({
 *   name: "web1.qcow2",
 *   capacityBytes: 10 * 2 ** 30,
 *   backingPath: "/var/lib/libvirt/images/debian12.qcow2",
 *   backingFormat: "qcow2",
 * });
 * console.log(xml.includes("<backingStore>")); // true
 * ```
 */
export function qcow2OverlayXml(options: Qcow2OverlayOptions): string {
  const { name, capacityBytes, backingPath, backingFormat } = options;
  for (
    const [field, value] of [["name", name], ["backingPath", backingPath], ["backingFormat", backingFormat]]
  ) {
    if (typeof value !== "string" || value === "") {
      throw new TypeError(`Cannot build overlay volume XML: ${field} must be a non-empty string`);
    }
  }
  let capacity = "";
  if (capacityBytes !== undefined) {
    const valid = typeof capacityBytes === "bigint"
      ? capacityBytes >= 0n
      : Number.isSafeInteger(capacityBytes) && capacityBytes >= 0;
    if (!valid) {
      throw new RangeError(
        `Cannot build overlay volume XML: capacityBytes must be a non-negative integer, got ${
          String(capacityBytes)
        }`,
      );
    }
    capacity = `\n  <capacity unit='bytes'>${capacityBytes}</capacity>`;
  }
  return `<volume type='file'>
  <name>${escapeXml(name)}</name>${capacity}
  <target>
    <format type='qcow2'/>
  </target>
  <backingStore>
    <path>${escapeXml(backingPath)}</path>
    <format type='${escapeXml(backingFormat)}'/>
  </backingStore>
</volume>
`;
}
