/**
 * Base images to every host: during `up`, each host that runs guests of a base image and whose
 * storage pool lacks the image's `path` gets it uploaded over the libvirt connection itself (no scp,
 * no shared file system): a sparse upload into a new volume of that pool, with byte progress, then
 * verified by reading it back from the host and comparing its SHA-256 with the source's. Once per
 * host and image, whatever the number of guests.
 *
 * Ownership: the uploaded volume is recorded in the range's ownership record on that host
 * (docs/range.md), `intent` before it is created and `created` only once verified. A crash or failure
 * part-way therefore leaves at most an `intent` entry; when it is marked made (written right after the
 * create), the next `up` deletes that half-made volume and uploads again, and `down` removes it; an
 * intent never made leaves a volume found there to whoever put it there. A verified image is a base image like any other: `down` keeps
 * it (other ranges' overlays may already back onto it, and uploading it again costs a full copy).
 *
 * Why read it back: libvirt has no call that hashes a volume on the host. Comparing sizes or
 * allocations proves nothing about the bytes; downloading the volume makes the host's libvirtd read
 * the file it wrote and send its bytes back, so the hash covers the whole path (this process, the
 * connection, the host's daemon, its disk). Holes travel as holes both ways, so a sparse image costs
 * its data twice over the wire, not its size.
 *
 * @example
 * ```ts
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { parseRangeDescription, upRange } from "@deno-libvirt/deno-libvirt/range";
 * // bring a range up, showing base images as they travel to the hosts that lack them
 * export async function up(file: string): Promise<void> {
 *   await using pools = new PoolRegistry();
 *   const range = parseRangeDescription(await Deno.readTextFile(file), file);
 *   const result = await upRange(range, pools, {
 *     onImageProgress: (p) => console.log(p.image, p.host, p.stage, p.bytes, "/", p.totalBytes),
 *   });
 *   for (const i of result.images) console.log(i.image, i.host, i.action);
 * }
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Connection } from "../connection.ts";
import { isNotFound } from "../errors.ts";
import type { ConnectionPool } from "../pool.ts";
import {
  createVolume,
  listAllStoragePools,
  lookupVolume,
  type StoragePool,
  type StorageVolume,
} from "../storage.ts";
import { downloadVolume, uploadVolume } from "../stream.ts";
import { decodeXmlText, escapeXml } from "../xml.ts";
import type { Ledger } from "./_libvirt.ts";
import type { BaseImageSpec, Range } from "./description.ts";
import type { RangePhase } from "./types.ts";

/**
 * Byte progress of one base image going to one host.
 *
 * @example
 * ```ts
 * import type { BaseImageProgress } from "@deno-libvirt/deno-libvirt/range";
 * const show = (p: BaseImageProgress) =>
 *   `${p.image} -> ${p.host}: ${p.stage} ${Math.round((100 * p.bytes) / p.totalBytes)}%`;
 * console.log(show({ image: "golden", host: "h2", stage: "upload", bytes: 512, totalBytes: 1024 }));
 * ```
 */
export interface BaseImageProgress {
  /** The base image's id. */
  image: string;
  /** The host id. */
  host: string;
  /** "upload": bytes sent to the host; "verify": bytes read back from it and hashed. */
  stage: "upload" | "verify";
  /** Bytes done in this stage (data and holes). */
  bytes: number;
  /** The image's size in bytes. */
  totalBytes: number;
}

/**
 * The options of `upRange` about base images.
 *
 * @example
 * ```ts
 * import type { BaseImageOptions } from "@deno-libvirt/deno-libvirt/range";
 * const options: BaseImageOptions = { onImageProgress: (p) => console.log(p.host, p.stage, p.bytes) };
 * console.log(typeof options.onImageProgress);
 * ```
 */
export interface BaseImageOptions {
  /** Called as bytes of a base image travel; must not throw (a throw is ignored). */
  onImageProgress?: (progress: BaseImageProgress) => void;
}

/**
 * What happened to one base image on one host (`UpResult.images`).
 *
 * @example
 * ```ts
 * import type { BaseImageOutcome } from "@deno-libvirt/deno-libvirt/range";
 * const outcomes: BaseImageOutcome[] = [{ image: "golden", host: "h2", action: "uploaded", bytes: 1024 }];
 * console.log(outcomes.filter((o) => o.action === "uploaded" || o.action === "replaced").length);
 * ```
 */
export interface BaseImageOutcome {
  /** The base image's id. */
  image: string;
  /** The host id. */
  host: string;
  /**
   * "present": the host's pool has it; "uploaded": sent and verified now; "replaced": a half-made
   * upload of an earlier `up` (an `intent` in the record) was deleted and the image sent again;
   * "unchecked": its directory is in no running storage pool of the host, so libvirt cannot tell.
   */
  action: "present" | "uploaded" | "replaced" | "unchecked";
  /** The SHA-256 (hex) of the image verified on the host ("uploaded" and "replaced" only). */
  sha256?: string;
  /** Bytes the image holds (its size), for uploads. */
  bytes?: number;
  /** Time the upload and the verification took, ms. */
  tookMs?: number;
}

/** @internal What `up` lends the image step: its steps, pools and ownership records. */
export interface ImageContext {
  range: Range;
  /** The host's pool. */
  pool: (hostId: string) => ConnectionPool;
  /** The host's ownership record (made from its survey on first use). */
  ledger: (hostId: string) => Ledger;
  /** Writes the host's record, through `held` when given. */
  save: (hostId: string, held?: Connection) => Promise<void>;
  /** Runs one phase of `up` (progress events, failures collected). */
  phase: <T>(
    phase: RangePhase,
    items: readonly T[],
    describe: (item: T) => { target: string; host: string },
    fn: (item: T) => Promise<"created" | "kept" | "removed" | "ok">,
    limit: number,
  ) => Promise<void>;
  /** The test hook before each step. */
  act: (phase: RangePhase, target: string, host: string) => Promise<void>;
  /** The operation's not-done list, and marking a step done. */
  steps: { notDone: Set<string>; mark(step: string): void };
  limit: number;
  options: BaseImageOptions;
  /** The operation's signal: aborts an upload or verification in flight. */
  signal?: AbortSignal;
  created: string[];
  kept: string[];
}

/**
 * @internal The SHA-256 of a file's bytes (holes read as zeros), hex.
 *
 * @param path the file
 * @param options a `signal`, checked between the 1 MiB chunks of a whole image: on abort the file is
 *   closed and the call rejects with the signal's reason
 * @returns the digest and the size
 * @throws {Deno.errors.NotFound} and other file errors
 * @throws the signal's reason on abort
 * @example
 * ```ts
 * import { sha256File } from "./images.ts";
 * const file = await Deno.makeTempFile();
 * await Deno.writeTextFile(file, "abc");
 * const { sha256, bytes } = await sha256File(file);
 * console.log(bytes, sha256.startsWith("ba7816bf")); // 3 true
 * await Deno.remove(file);
 * ```
 */
export async function sha256File(
  path: string,
  options: { signal?: AbortSignal } = {},
): Promise<{ sha256: string; bytes: number }> {
  const { signal } = options;
  signal?.throwIfAborted();
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(1 << 20);
  let bytes = 0;
  for (;;) {
    signal?.throwIfAborted();
    const n = await file.read(buffer);
    if (n === null) break;
    hash.update(buffer.subarray(0, n));
    bytes += n;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** The target directory of a pool from its XML, without a trailing slash. */
function poolDirectory(xml: string): string | undefined {
  const paths = [...xml.matchAll(/<target>\s*<path>([^<]*)<\/path>/g)];
  if (paths.length !== 1) return undefined;
  const path = decodeXmlText(paths[0][1].trim());
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The running pool whose directory holds `path`, or undefined. */
async function poolHolding(conn: Connection, path: string): Promise<StoragePool | undefined> {
  const pools = await listAllStoragePools(conn, { active: true });
  let found: StoragePool | undefined;
  try {
    for (const p of pools) {
      if (found) break;
      if (poolDirectory(await p.xmlDesc()) === dirname(path)) found = p;
    }
  } finally {
    for (const p of pools) if (p !== found) p.free();
  }
  return found;
}

/** A raw volume of exactly `bytes` bytes, nothing allocated: the upload writes the image verbatim. */
function uploadVolumeXml(name: string, bytes: number): string {
  return `<volume type='file'><name>${escapeXml(name)}</name><capacity unit='bytes'>${bytes}</capacity>` +
    `<allocation unit='bytes'>0</allocation><target><format type='raw'/></target></volume>`;
}

/**
 * @internal The image phase of `up`: every base image a host's guests use is made present in the
 * host's pool (uploaded and verified when missing), once per host and image.
 */
export async function provideBaseImages(ctx: ImageContext): Promise<BaseImageOutcome[]> {
  const { range } = ctx;
  const work: { hostId: string; image: BaseImageSpec }[] = [];
  for (const host of range.description.hosts) {
    const images = new Map<string, BaseImageSpec>();
    for (const g of range.guests) {
      // the test driver's volumes have no files behind them: nothing to upload or to check
      if (g.hostId === host.id && g.baseImage && g.type !== "test") images.set(g.baseImage.id, g.baseImage);
    }
    for (const image of images.values()) work.push({ hostId: host.id, image });
  }
  const outcomes: BaseImageOutcome[] = [];
  if (work.length === 0) return outcomes;
  // the source's hash: read once per image, whatever the number of hosts
  const sources = new Map<string, Promise<{ sha256: string; bytes: number }>>();
  const sourceOf = (image: BaseImageSpec) => {
    let s = sources.get(image.id);
    if (!s) {
      s = sha256File(image.source ?? image.path, { signal: ctx.signal });
      sources.set(image.id, s);
      s.catch(() => {});
    }
    return s;
  };
  const step = (w: { hostId: string; image: BaseImageSpec }) =>
    `provide base image ${JSON.stringify(w.image.id)} on ${w.hostId}`;
  for (const w of work) ctx.steps.notDone.add(step(w));
  await ctx.phase("image", work, (w) => ({ target: w.image.id, host: w.hostId }), async (w) => {
    const outcome = await ctx.pool(w.hostId).use((conn) =>
      provideOne(ctx, conn, w.hostId, w.image, sourceOf)
    );
    outcomes.push(outcome);
    ctx.steps.mark(step(w));
    const what = `base image ${JSON.stringify(w.image.id)} on ${w.hostId}`;
    if (outcome.action === "uploaded" || outcome.action === "replaced") {
      ctx.created.push(`${what} (${outcome.action}, sha256 ${outcome.sha256!.slice(0, 12)}...)`);
      return "created";
    }
    ctx.kept.push(
      outcome.action === "present"
        ? what
        : `${what}: ${w.image.path} is in no running storage pool there, so it was not checked`,
    );
    return "kept";
  }, ctx.limit);
  return outcomes;
}

/**
 * Looks for the image's volume in its pool: "present" when it is there and not a half-made upload of
 * ours; else whether a half-made one was deleted (the upload then replaces it).
 */
async function clearExisting(
  ctx: ImageContext,
  conn: Connection,
  p: StoragePool,
  hostId: string,
  image: BaseImageSpec,
  ledger: Ledger,
  name: string,
): Promise<"present" | boolean> {
  const lookup = async () => {
    try {
      return await lookupVolume(p, name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return undefined;
    }
  };
  let existing = await lookup();
  if (!existing) {
    await p.refresh(); // a file put there since the pool last looked
    existing = await lookup();
  }
  let replacing = false;
  if (existing) {
    const entry = ledger.get("volume", name, p.name);
    if (entry?.state !== "intent" || !entry.made) {
      existing.free();
      if (entry?.state === "intent") {
        // an earlier up's intent that never made the volume: this one is someone's, not the range's
        ledger.delete("volume", name, p.name);
        await ctx.save(hostId, conn);
      }
      return "present";
    }
    // an upload of an earlier up that never got verified: ours, half-made; it goes
    try {
      await ctx.act("image", `delete half-made ${image.id}`, hostId);
      await existing.delete();
    } finally {
      existing.free();
    }
    replacing = true;
  }
  return replacing;
}

/** The local source's digest and size, or an error saying how to give one. */
async function expectedSource(
  image: BaseImageSpec,
  hostId: string,
  sourceOf: (image: BaseImageSpec) => Promise<{ sha256: string; bytes: number }>,
): Promise<{ sha256: string; bytes: number }> {
  const source = image.source ?? image.path;
  let expected: { sha256: string; bytes: number };
  try {
    expected = await sourceOf(image);
  } catch (error) {
    throw new Error(
      `Cannot upload base image ${
        JSON.stringify(image.id)
      } to ${hostId}: ${image.path} is missing there and ` +
        `the local copy ${source} cannot be read (${
          error instanceof Error ? error.message : String(error)
        }): give baseImages[].source, a copy on the machine running up`,
      { cause: error },
    );
  }
  return expected;
}

/** Uploads the source into the new volume and reads it back; returns the SHA-256 read back. */
async function uploadAndVerify(
  ctx: ImageContext,
  volume: StorageVolume,
  image: BaseImageSpec,
  hostId: string,
  source: string,
  expected: { sha256: string; bytes: number },
): Promise<string> {
  const report = (stage: BaseImageProgress["stage"], bytes: number) => {
    try {
      ctx.options.onImageProgress?.({
        image: image.id,
        host: hostId,
        stage,
        bytes,
        totalBytes: expected.bytes,
      });
    } catch {
      // a progress display must not break the upload
    }
  };
  await uploadVolume(volume, source, {
    sparse: true,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onProgress: (t) => report("upload", t.dataBytes + t.holeBytes),
  });
  await ctx.act("image", `verify ${image.id}`, hostId);
  const hash = createHash("sha256");
  let held = 0;
  await downloadVolume(
    volume,
    new WritableStream<Uint8Array>({
      write(chunk) {
        hash.update(chunk);
        held += chunk.length;
      },
    }),
    {
      sparse: true,
      onProgress: (t) => report("verify", t.dataBytes + t.holeBytes),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    },
  );
  const sha256 = hash.digest("hex");
  if (sha256 !== expected.sha256 || held !== expected.bytes) {
    throw new Error(
      `Cannot upload base image ${JSON.stringify(image.id)} to ${hostId}: what its pool now holds ` +
        `(${held} bytes, sha256 ${sha256}) is not the source (${expected.bytes} bytes, sha256 ${expected.sha256}); ` +
        "the volume was removed",
    );
  }
  return sha256;
}

async function provideOne(
  ctx: ImageContext,
  conn: Connection,
  hostId: string,
  image: BaseImageSpec,
  sourceOf: (image: BaseImageSpec) => Promise<{ sha256: string; bytes: number }>,
): Promise<BaseImageOutcome> {
  const p = await poolHolding(conn, image.path);
  if (!p) return { image: image.id, host: hostId, action: "unchecked" };
  try {
    const name = basename(image.path);
    const ledger = ctx.ledger(hostId);
    const existing = await clearExisting(ctx, conn, p, hostId, image, ledger, name);
    if (existing === "present") return { image: image.id, host: hostId, action: "present" };
    const replacing = existing;
    const source = image.source ?? image.path;
    const expected = await expectedSource(image, hostId, sourceOf);
    const t0 = performance.now();
    ledger.set({ kind: "volume", name, pool: p.name, path: image.path, state: "intent" });
    await ctx.save(hostId, conn);
    let volume;
    try {
      await ctx.act("image", `upload ${image.id}`, hostId);
      volume = await createVolume(p, uploadVolumeXml(name, expected.bytes));
    } catch (error) {
      // not made, or "already exists": someone made it meanwhile, and it is theirs
      ledger.delete("volume", name, p.name);
      await ctx.save(hostId, conn).catch(() => {});
      throw error;
    }
    try {
      // made: from here the volume is provably the range's (a later up or down removes it half-made)
      ledger.get("volume", name, p.name)!.made = true;
      await ctx.save(hostId, conn);
      const sha256 = await uploadAndVerify(ctx, volume, image, hostId, source, expected);
      const entry = ledger.get("volume", name, p.name)!;
      entry.state = "created";
      await ctx.save(hostId, conn);
      return {
        image: image.id,
        host: hostId,
        action: replacing ? "replaced" : "uploaded",
        sha256,
        bytes: expected.bytes,
        tookMs: Math.round(performance.now() - t0),
      };
    } catch (error) {
      // ours and unverified: removed, and so dropped from the record; if the removal fails, the
      // intent stays for the next up (which replaces it) or down (which removes it)
      try {
        await volume.delete();
        ledger.delete("volume", name, p.name);
        await ctx.save(hostId, conn);
      } catch {
        // reported through the step's own error
      }
      throw error;
    } finally {
      volume.free();
    }
  } finally {
    p.free();
  }
}
