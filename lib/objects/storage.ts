/**
 * The storage objects: {@link StoragePool} and {@link StorageVolume} (a `virStoragePoolPtr` /
 * `virStorageVolPtr` of one connection, with the one-call methods of their generated bases and the
 * older convenience members, one call each), their flags, state names and info shapes, and the
 * connection's finders (look up, list, define, create pools; look up a volume by path). The volume
 * finders of a pool are in lib/storage.ts, with the deprecated aliases of the pool's lifecycle methods.
 *
 * @module
 */
import { A_CONNECTION, checkFlags, checkInstance, checkOptions, checkString } from "../_args.ts";
import { Connection, kInternals } from "../connection.ts";
import { type HandleType, isUuid, kCall, kPointer } from "../_handle.ts";
import type { Stream } from "./stream.ts";
import { volumeDownload, type VolumeStreamOptions, volumeUpload } from "./stream_attach.ts";
import {
  cString,
  isNegative,
  isNull,
  OutSlot,
  readCString,
  takeCString,
  takePointerArray,
  toVoid,
} from "../ffi/c.ts";
import { libvirt } from "../ffi/library.ts";
import {
  decodeStoragePoolInfo,
  decodeStorageVolInfo,
  VIR_STORAGE_POOL_INFO_SIZE,
  VIR_STORAGE_VOL_INFO_SIZE,
} from "../ffi/structs.ts";
import { UUID_STRING_BUFLEN } from "../ffi/constants.ts";
import { ListStoragePoolsFlag, STORAGE_XML_INACTIVE } from "../ffi/constants.ts";
import { describeXml } from "../xml.ts";
import { StoragePoolCalls } from "./_generated/storage_pool.js";
import { StorageVolumeCalls } from "./_generated/storage_volume.js";
import { connectionOf, registerHandleFactory } from "./_registry.ts";

/** virStoragePoolBuildFlags, for {@link StoragePool.build} (or its options by name). */
export const StoragePoolBuildFlag = {
  NEW: 0,
  REPAIR: 1 << 0,
  RESIZE: 1 << 1,
  NO_OVERWRITE: 1 << 2,
  OVERWRITE: 1 << 3,
} as const;

/** virStoragePoolCreateFlags, for {@link createStoragePool} and {@link StoragePool.create}. */
export const StoragePoolCreateFlag = {
  NORMAL: 0,
  /** Build the pool first (a dir pool: create its target directory). */
  WITH_BUILD: 1 << 0,
  WITH_BUILD_OVERWRITE: 1 << 1,
  WITH_BUILD_NO_OVERWRITE: 1 << 2,
} as const;

/** virStorageVolCreateFlags, for {@link createVolume}. */
export const StorageVolumeCreateFlag = {
  PREALLOC_METADATA: 1 << 0,
  REFLINK: 1 << 1,
  /** Validate the XML against libvirt's schema (libvirt >= 8.10). */
  VALIDATE: 1 << 2,
} as const;

/** virStorageVolDeleteFlags, for {@link StorageVolume.delete}. */
export const StorageVolumeDeleteFlag = {
  NORMAL: 0,
  ZEROED: 1 << 0,
  WITH_SNAPSHOTS: 1 << 1,
} as const;

/** A storage pool's state (virStoragePoolState), lower case. */
export type StoragePoolStateName = "inactive" | "building" | "running" | "degraded" | "inaccessible";
const poolStateNames: readonly StoragePoolStateName[] = [
  "inactive",
  "building",
  "running",
  "degraded",
  "inaccessible",
];

/** A storage volume's type (virStorageVolType), lower case. */
export type StorageVolumeTypeName = "file" | "block" | "dir" | "network" | "netdir" | "ploop";

const volumeTypeNames: readonly StorageVolumeTypeName[] = [
  "file",
  "block",
  "dir",
  "network",
  "netdir",
  "ploop",
];

/**
 * What virStoragePoolGetInfo reports. Sizes are bytes, as numbers: exact up to 8 PiB
 * (`Number.MAX_SAFE_INTEGER`), off by less than one part in 10^15 beyond.
 */
export interface StoragePoolInfo {
  /** "inactive" also for states this library does not know yet. */
  state: StoragePoolStateName;
  /** The pool's total size, bytes. */
  capacityBytes: number;
  /** Bytes the pool's volumes occupy now. */
  allocationBytes: number;
  /** Bytes still free for new volumes or growth. */
  availableBytes: number;
}

/** What virStorageVolGetInfo reports. Sizes are bytes (see {@link StoragePoolInfo}). */
export interface StorageVolumeInfo {
  /** "file" also for types this library does not know yet. */
  type: StorageVolumeTypeName;
  /** The size the guest sees. */
  capacityBytes: number;
  /** The space the volume takes on the host now (a sparse or qcow2 file: less than the capacity). */
  allocationBytes: number;
}

/** Filters for {@link listAllStoragePools} (`VIR_CONNECT_LIST_STORAGE_POOLS_*`); unset means no filter. */
export interface ListStoragePoolsOptions {
  /** true: only running pools; false: only inactive ones. */
  active?: boolean;
  /** true: only defined (persistent) pools; false: only transient ones. */
  persistent?: boolean;
  /** true: only pools that start with the host; false: only those that do not. */
  autostart?: boolean;
}

/** Options for the `xmlDesc()` of pools and volumes. */
export interface StorageXmlOptions {
  /** The persistent definition (`VIR_STORAGE_XML_INACTIVE`) rather than the live state. */
  inactive?: boolean;
}

/** @internal Translates {@link ListStoragePoolsOptions} into virConnectListAllStoragePools flags. */
export function listStoragePoolsFlags(options: ListStoragePoolsOptions = {}): number {
  let flags = 0;
  if (options.active !== undefined) {
    flags |= options.active ? ListStoragePoolsFlag.ACTIVE : ListStoragePoolsFlag.INACTIVE;
  }
  if (options.persistent !== undefined) {
    flags |= options.persistent ? ListStoragePoolsFlag.PERSISTENT : ListStoragePoolsFlag.TRANSIENT;
  }
  if (options.autostart !== undefined) {
    flags |= options.autostart ? ListStoragePoolsFlag.AUTOSTART : ListStoragePoolsFlag.NO_AUTOSTART;
  }
  return flags;
}

const constructing = Symbol("deno_libvirt.storage.constructing");

const poolType: HandleType = {
  className: "StoragePool",
  noun: "storage pool",
  ref: (h) => libvirt().symbols.virStoragePoolRef(h),
  free: (h) => libvirt().symbols.virStoragePoolFree(h),
  name: (h) => libvirt().symbols.virStoragePoolGetName(h),
};

/**
 * A libvirt storage pool of one connection. Not constructible by users: get one from
 * {@link lookupStoragePool}, {@link listAllStoragePools}, {@link defineStoragePool} or {@link createStoragePool}.
 *
 * @example
 * ```ts
 * import { Connection, lookupStoragePool, type StoragePool } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using pool: StoragePool = await lookupStoragePool(conn, "default-pool");
 * console.log(pool, await pool.info()); // StoragePool { name: "default-pool" } { state: "running", capacityBytes: ... }
 * ```
 */
export class StoragePool extends StoragePoolCalls {
  #uuid: string | undefined;

  /** @internal */
  constructor(token: symbol, connection: Connection, handle: Deno.PointerObject) {
    if (token !== constructing) {
      throw new TypeError(
        "Cannot construct a StoragePool directly: use lookupStoragePool() or listAllStoragePools()",
      );
    }
    super(poolType, connection, handle);
  }

  /** The pool's UUID (local). */
  get uuid(): string {
    if (this.#uuid === undefined) {
      const buffer = new Uint8Array(UUID_STRING_BUFLEN);
      libvirt().symbols.virStoragePoolGetUUIDString(this[kPointer]("read the UUID of"), buffer);
      this.#uuid = new TextDecoder().decode(buffer.subarray(0, 36));
    }
    return this.#uuid;
  }

  /** State, capacity, allocation and free space (virStoragePoolGetInfo). */
  async info(): Promise<StoragePoolInfo> {
    const buffer = new Uint8Array(VIR_STORAGE_POOL_INFO_SIZE);
    await this[kCall](
      "get info of",
      (h) => libvirt().symbols.virStoragePoolGetInfoAsync(h, buffer),
      isNegative,
    );
    const raw = decodeStoragePoolInfo(buffer);
    return {
      state: poolStateNames[raw.state] ?? "inactive",
      capacityBytes: Number(raw.capacity),
      allocationBytes: Number(raw.allocation),
      availableBytes: Number(raw.available),
    };
  }

  /**
   * Rescans the pool's target, picking up volumes created or deleted behind libvirt's back
   * (virStoragePoolRefresh).
   *
   * @throws {OperationInvalidError} when the pool is not running
   */
  async refresh(): Promise<void> {
    await this[kCall]("refresh", (h) => libvirt().symbols.virStoragePoolRefreshAsync(h, 0), isNegative);
  }

  /** The pool's XML description (virStoragePoolGetXMLDesc). */
  async xmlDesc(options: StorageXmlOptions = {}): Promise<string> {
    const flags = options.inactive ? STORAGE_XML_INACTIVE : 0;
    const pointer = await this[kCall](
      "get the XML of",
      (h) => libvirt().symbols.virStoragePoolGetXMLDescAsync(h, flags),
      isNull,
    );
    return takeCString(pointer) ?? "";
  }

  /** True while the pool runs (virStoragePoolIsActive). */
  async isActive(): Promise<boolean> {
    const result = await this[kCall](
      "check whether {} is active",
      (h) => libvirt().symbols.virStoragePoolIsActiveAsync(h),
      isNegative,
    );
    return result === 1;
  }

  /** True when the pool is defined, false when it is transient (virStoragePoolIsPersistent). */
  async isPersistent(): Promise<boolean> {
    const result = await this[kCall](
      "check whether {} is persistent",
      (h) => libvirt().symbols.virStoragePoolIsPersistentAsync(h),
      isNegative,
    );
    return result === 1;
  }

  /** True when the pool starts with the host (virStoragePoolGetAutostart). */
  async autostart(): Promise<boolean> {
    const slot = new OutSlot();
    await this[kCall](
      "get the autostart flag of",
      (h) => libvirt().symbols.virStoragePoolGetAutostartAsync(h, slot.buffer),
      isNegative,
    );
    return slot.int32 !== 0;
  }

  /** Makes a persistent pool start with the host, or not (virStoragePoolSetAutostart). */
  async setAutostart(enabled: boolean): Promise<void> {
    await this[kCall](
      enabled ? "enable autostart of" : "disable autostart of",
      (h) => libvirt().symbols.virStoragePoolSetAutostartAsync(h, enabled ? 1 : 0),
      isNegative,
    );
  }
}

const volumeType: HandleType = {
  className: "StorageVolume",
  noun: "storage volume",
  ref: (h) => libvirt().symbols.virStorageVolRef(h),
  free: (h) => libvirt().symbols.virStorageVolFree(h),
  name: (h) => libvirt().symbols.virStorageVolGetName(h),
};

/**
 * A libvirt storage volume of one connection. Not constructible by users: get one from `lookupVolume`,
 * `listVolumes`, `createVolume` or {@link lookupVolumeByPath}.
 *
 * @example
 * ```ts
 * import { Connection, createVolume, lookupStoragePool, type StorageVolume } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using pool = await lookupStoragePool(conn, "default-pool");
 * using vol: StorageVolume = await createVolume(pool, "<volume><name>docs.img</name><capacity unit='MiB'>1</capacity></volume>");
 * console.log(vol.key, await vol.path(), (await vol.info()).capacityBytes); // "/default-pool/docs.img" ... 1048576
 * await vol.delete();
 * ```
 */
export class StorageVolume extends StorageVolumeCalls {
  #key: string | undefined;

  /** @internal */
  constructor(token: symbol, connection: Connection, handle: Deno.PointerObject) {
    if (token !== constructing) {
      throw new TypeError(
        "Cannot construct a StorageVolume directly: use lookupVolume(), listVolumes() or createVolume()",
      );
    }
    super(volumeType, connection, handle);
  }

  /** The volume's key, unique on the host (for file volumes, usually the path). Local. */
  get key(): string {
    return this.#key ??=
      readCString(libvirt().symbols.virStorageVolGetKey(this[kPointer]("read the key of"))) ?? "";
  }

  /** The volume's path on the host, e.g. "/var/lib/libvirt/images/web1.qcow2" (virStorageVolGetPath). */
  async path(): Promise<string> {
    const pointer = await this[kCall](
      "get the path of",
      (h) => libvirt().symbols.virStorageVolGetPathAsync(h),
      isNull,
    );
    return takeCString(pointer) ?? "";
  }

  /** Type, capacity and allocation (virStorageVolGetInfo). */
  async info(): Promise<StorageVolumeInfo> {
    const buffer = new Uint8Array(VIR_STORAGE_VOL_INFO_SIZE);
    await this[kCall](
      "get info of",
      (h) => libvirt().symbols.virStorageVolGetInfoAsync(h, buffer),
      isNegative,
    );
    const raw = decodeStorageVolInfo(buffer);
    return {
      type: volumeTypeNames[raw.type] ?? "file",
      capacityBytes: Number(raw.capacity),
      allocationBytes: Number(raw.allocation),
    };
  }

  /** The volume's XML description (virStorageVolGetXMLDesc). */
  async xmlDesc(options: StorageXmlOptions = {}): Promise<string> {
    const flags = options.inactive ? STORAGE_XML_INACTIVE : 0;
    const pointer = await this[kCall](
      "get the XML of",
      (h) => libvirt().symbols.virStorageVolGetXMLDescAsync(h, flags),
      isNull,
    );
    return takeCString(pointer) ?? "";
  }

  /**
   * Deletes the volume and its data (virStorageVolDelete). The handle stays to be freed.
   *
   * @param flags {@link StorageVolumeDeleteFlag}s, e.g. `ZEROED` to overwrite the data first
   * @throws {LibvirtError} when the volume is in use or already gone
   */
  delete(flags = 0): Promise<void> {
    const lib = libvirt().symbols; // not async: the gate's promise, `toVoid` its value (one promise less)
    return this[kCall]("delete", (h) => lib.virStorageVolDeleteAsync(h, flags), isNegative, toVoid);
  }

  /**
   * Starts writing `length` bytes at `offset` from `stream` into the volume (virStorageVolUpload);
   * then send the data through the stream and finish it. {@link uploadVolume} does all of it.
   *
   * @param stream a stream of this volume's connection ({@link newStream})
   * @param offset where to start writing (default 0)
   * @param length how many bytes (default 0: up to the end of the volume)
   * @param options sparse: the stream carries holes (sendHole)
   * @throws {LibvirtError} when the volume cannot be written (in use, too small, unsupported)
   * @example
   * ```ts
   * import { newStream, sendAll, type StorageVolume } from "@deno-libvirt/deno-libvirt";
   * // the test driver cannot transfer volumes: give it a volume of qemu:///system
   * export async function writeAll(vol: StorageVolume, data: Uint8Array): Promise<void> {
   *   await using stream = newStream(vol.connection);
   *   await vol.upload(stream, 0, data.length);
   *   await sendAll(stream, data);
   *   await stream.finish();
   * }
   * ```
   */
  upload(stream: Stream, offset = 0, length = 0, options: VolumeStreamOptions = {}): Promise<void> {
    return volumeUpload(this, stream, offset, length, options);
  }

  /**
   * Starts reading `length` bytes at `offset` of the volume into `stream` (virStorageVolDownload);
   * then read `stream.readable` (or recv/recvHole by hand). {@link downloadVolume} does all of it.
   *
   * @param stream a stream of this volume's connection ({@link newStream})
   * @param offset where to start reading (default 0)
   * @param length how many bytes (default 0: up to the end of the volume)
   * @param options sparse: holes arrive as holes (recvFlags stopAtHole + recvHole)
   * @throws {LibvirtError} when the volume cannot be read
   * @example
   * ```ts
   * import { newStream, type StorageVolume } from "@deno-libvirt/deno-libvirt";
   * // the test driver cannot transfer volumes: give it a volume of qemu:///system
   * export async function readAll(vol: StorageVolume): Promise<Uint8Array> {
   *   await using stream = newStream(vol.connection);
   *   await vol.download(stream);
   *   return new Uint8Array(await new Response(stream.readable).arrayBuffer());
   * }
   * ```
   */
  download(stream: Stream, offset = 0, length = 0, options: VolumeStreamOptions = {}): Promise<void> {
    return volumeDownload(this, stream, offset, length, options);
  }
}

/** @internal how argument errors name a pool. */
export const A_STORAGE_POOL = "a StoragePool (from lookupStoragePool() or listAllStoragePools())";

function adoptPool(connection: Connection) {
  return (handle: Deno.PointerValue) => new StoragePool(constructing, connection, handle!);
}

function adoptVolume(connection: Connection) {
  return (handle: Deno.PointerValue) => new StorageVolume(constructing, connection, handle!);
}

/**
 * Looks a storage pool up by name or UUID string.
 *
 * @param connection the connection to ask
 * @param key a name ("default") or a UUID
 * @returns a handle to free with `using` or {@link StoragePool.free}
 * @throws {NotFoundError} when no such pool exists
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 * @example
 * ```ts
 * import { Connection, lookupStoragePool } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using pool = await lookupStoragePool(conn, "default-pool");
 * console.log(pool.uuid, await pool.isActive()); // "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566" true
 * ```
 */
export async function lookupStoragePool(connection: Connection, key: string): Promise<StoragePool> {
  checkInstance(connection, Connection, "look up a storage pool", "connection", A_CONNECTION);
  const lib = libvirt().symbols;
  const text = cString(checkString(key, "look up a storage pool", "key"), "storage pool name");
  return await connection[kInternals].call(
    () => `look up storage pool ${JSON.stringify(key)}`,
    (h) =>
      isUuid(key)
        ? lib.virStoragePoolLookupByUUIDStringAsync(h, text)
        : lib.virStoragePoolLookupByNameAsync(h, text),
    isNull,
    adoptPool(connection),
  );
}

/**
 * Lists the storage pools of a connection in one call (virConnectListAllStoragePools).
 *
 * @param connection the connection to ask
 * @param options filters; none lists every pool
 * @returns handles the caller frees
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 * @example
 * ```ts
 * import { Connection, listAllStoragePools } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * for (using pool of await listAllStoragePools(conn, { active: true })) console.log(pool.name); // "default-pool"
 * ```
 */
export async function listAllStoragePools(
  connection: Connection,
  options: ListStoragePoolsOptions = {},
): Promise<StoragePool[]> {
  checkInstance(connection, Connection, "list storage pools", "connection", A_CONNECTION);
  checkOptions(options, "list storage pools", {
    active: "boolean",
    persistent: "boolean",
    autostart: "boolean",
  });
  const slot = new OutSlot();
  return await connection[kInternals].call(
    () => `list the storage pools of ${JSON.stringify(connection.uri)}`,
    (h) =>
      libvirt().symbols.virConnectListAllStoragePoolsAsync(h, slot.buffer, listStoragePoolsFlags(options)),
    isNegative,
    (count) => takePointerArray(slot.pointer, count).map(adoptPool(connection)),
  );
}

/**
 * Defines a persistent storage pool from XML (virStoragePoolDefineXML); it stays inactive until
 * built (if needed) and started.
 *
 * @param connection the connection to define it on
 * @param xml the pool XML (`<pool type='dir'><name>...</name><target><path>...</path></target></pool>`)
 * @returns a handle to the new pool
 * @throws {LibvirtError} with libvirt's reason when the XML is invalid or the name or target is taken
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 * @example
 * ```ts
 * import { Connection, defineStoragePool } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<pool type='dir'><name>docs-pool</name><target><path>/docs-pool</path></target></pool>";
 * using pool = await defineStoragePool(conn, xml);
 * console.log((await pool.info()).state); // "inactive"
 * await pool.undefine();
 * ```
 */
export async function defineStoragePool(connection: Connection, xml: string): Promise<StoragePool> {
  checkInstance(connection, Connection, "define a storage pool", "connection", A_CONNECTION);
  const text = cString(checkString(xml, "define a storage pool", "xml"), "storage pool XML");
  return await connection[kInternals].call(
    () => `define storage pool ${describeXml(xml)}`,
    (h) => libvirt().symbols.virStoragePoolDefineXMLAsync(h, text, 0),
    isNull,
    adoptPool(connection),
  );
}

/**
 * Creates and starts a transient storage pool from XML (virStoragePoolCreateXML); it disappears when
 * destroyed (its volumes stay on disk).
 *
 * @param connection the connection to create it on
 * @param xml the pool XML
 * @param flags {@link StoragePoolCreateFlag}s, e.g. `WITH_BUILD` to create a dir pool's directory
 * @returns a handle to the running pool
 * @throws {LibvirtError} with libvirt's reason when the XML is invalid or the pool cannot start
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 * @example
 * ```ts
 * import { Connection, createStoragePool } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<pool type='dir'><name>docs-pool</name><target><path>/docs-pool</path></target></pool>";
 * using pool = await createStoragePool(conn, xml);
 * console.log(await pool.isActive(), await pool.isPersistent()); // true false
 * await pool.destroy(); // a transient pool disappears
 * ```
 */
export async function createStoragePool(
  connection: Connection,
  xml: string,
  flags = 0,
): Promise<StoragePool> {
  checkInstance(connection, Connection, "create a storage pool", "connection", A_CONNECTION);
  const text = cString(checkString(xml, "create a storage pool", "xml"), "storage pool XML");
  checkFlags(flags, "create a storage pool");
  return await connection[kInternals].call(
    () => `create storage pool ${describeXml(xml)}`,
    (h) => libvirt().symbols.virStoragePoolCreateXMLAsync(h, text, flags),
    isNull,
    adoptPool(connection),
  );
}

/**
 * Looks a volume up by its path on the host, in whichever running pool holds it
 * (virStorageVolLookupByPath).
 *
 * @throws {NotFoundError} when no running pool has a volume at that path
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 * @example
 * ```ts
 * import { Connection, createVolume, lookupStoragePool, lookupVolumeByPath } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using pool = await lookupStoragePool(conn, "default-pool");
 * (await createVolume(pool, "<volume><name>docs.img</name><capacity>1048576</capacity></volume>")).free();
 * using vol = await lookupVolumeByPath(conn, "/default-pool/docs.img");
 * console.log(vol.name); // "docs.img"
 * await vol.delete();
 * ```
 */
export async function lookupVolumeByPath(connection: Connection, path: string): Promise<StorageVolume> {
  checkInstance(connection, Connection, "look up a volume by path", "connection", A_CONNECTION);
  const text = cString(checkString(path, "look up a volume by path", "path"), "volume path");
  return await connection[kInternals].call(
    () => `look up the volume at ${JSON.stringify(path)}`,
    (h) => libvirt().symbols.virStorageVolLookupByPathAsync(h, text),
    isNull,
    adoptVolume(connection),
  );
}

registerHandleFactory("virStoragePoolPtr", (owner, p) => adoptPool(connectionOf<Connection>(owner))(p));
registerHandleFactory("virStorageVolPtr", (owner, p) => adoptVolume(connectionOf<Connection>(owner))(p));

// The registry entries through which the layers below name StoragePool and StorageVolume
// (lib/objects/_types.ts).
declare module "./_types.ts" {
  interface ObjectClasses {
    StoragePool: StoragePool;
    StorageVolume: StorageVolume;
  }
}
