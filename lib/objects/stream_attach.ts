/**
 * The calls that attach a {@link Stream} to an object (virDomainOpenConsole, virDomainOpenChannel,
 * virDomainScreenshot, virStorageVolUpload, virStorageVolDownload): one call each; the Domain and
 * StorageVolume methods of the same names delegate here.
 *
 * @module
 */
import type { ObjectHandle } from "../_handle.ts";
import { kCall, kHold } from "../_handle.ts";
import { cString, isNegative, isNull, takeCString } from "../ffi/c.ts";
import { libvirt } from "../ffi/library.ts";
import { holding } from "../ffi/marshal.ts";
import {
  DomainChannelFlag,
  DomainConsoleFlag,
  StorageVolDownloadFlag,
  StorageVolUploadFlag,
} from "../ffi/constants.ts";
import { newStream, type NewStreamOptions, type Stream } from "./stream.ts";
import { eventLoopEnabled } from "../event_loop.ts";

// The calls that attach a stream to an object: Domain and StorageVolume methods delegate here.

/** Options for `dom.openConsole()`. */
export interface OpenConsoleOptions extends NewStreamOptions {
  /** `VIR_DOMAIN_CONSOLE_FORCE`: take the console over from another session instead of failing. */
  force?: boolean;
  /** `VIR_DOMAIN_CONSOLE_SAFE`: fail unless the driver can guarantee exclusive access. */
  safe?: boolean;
}

/** Options for `dom.openChannel()`. */
export interface OpenChannelOptions extends NewStreamOptions {
  /** `VIR_DOMAIN_CHANNEL_FORCE`: take the channel over from another session instead of failing. */
  force?: boolean;
}

/** Options for `vol.upload()` and `vol.download()`. */
export interface VolumeStreamOptions {
  /** `VIR_STORAGE_VOL_{UPLOAD,DOWNLOAD}_SPARSE_STREAM`: holes travel as holes (sendHole/recvHole). */
  sparse?: boolean;
}

function labelled(stream: Stream, label: string): Stream {
  stream.label = label;
  return stream;
}

/** @internal virDomainOpenConsole on a new stream; dom.openConsole() delegates here. */
export async function domainOpenConsole(
  dom: ObjectHandle,
  devName: string | undefined,
  options: OpenConsoleOptions = {},
): Promise<Stream> {
  const stream = newStream(dom.connection, {
    ...options,
    // a console waits for output: nonblocking unless the process disabled the loop (a connection
    // opened without it is refused with the fix named, rather than given a console that holds it)
    nonblocking: options.nonblocking ?? eventLoopEnabled(),
    label: options.label ??
      `console${devName ? ` ${JSON.stringify(devName)}` : ""} of domain ${JSON.stringify(dom.name)}`,
  });
  const flags = (options.force ? DomainConsoleFlag.FORCE : 0) | (options.safe ? DomainConsoleFlag.SAFE : 0);
  const name = devName === undefined ? null : cString(devName, "devName");
  try {
    await dom[kCall](
      `open the console${devName ? ` ${JSON.stringify(devName)}` : ""} of`,
      (h) =>
        holding(
          "virDomainOpenConsole",
          [[stream, "st", kHold]],
          (held) => libvirt().symbols.virDomainOpenConsoleAsync(h, name, held[0], flags),
        ),
      isNegative,
    );
  } catch (error) {
    stream.free();
    throw error;
  }
  return stream;
}

/** @internal virDomainOpenChannel on a new stream; dom.openChannel() delegates here. */
export async function domainOpenChannel(
  dom: ObjectHandle,
  name: string,
  options: OpenChannelOptions = {},
): Promise<Stream> {
  const stream = newStream(dom.connection, {
    ...options,
    label: options.label ?? `channel ${JSON.stringify(name)} of domain ${JSON.stringify(dom.name)}`,
  });
  const channel = cString(name, "channel name");
  try {
    await dom[kCall](
      `open channel ${JSON.stringify(name)} of`,
      (h) =>
        holding(
          "virDomainOpenChannel",
          [[stream, "st", kHold]],
          (held) =>
            libvirt().symbols.virDomainOpenChannelAsync(
              h,
              channel,
              held[0],
              options.force ? DomainChannelFlag.FORCE : 0,
            ),
        ),
      isNegative,
    );
  } catch (error) {
    stream.free();
    throw error;
  }
  return stream;
}

/** @internal virDomainScreenshot; dom.screenshot() delegates here. Returns the MIME type. */
export async function domainScreenshot(dom: ObjectHandle, stream: Stream, screen = 0): Promise<string> {
  checkCount(screen, "screen");
  const pointer = await dom[kCall](
    `take a screenshot of screen ${screen} of`,
    (h) =>
      holding(
        "virDomainScreenshot",
        [[stream, "stream", kHold]],
        (held) => libvirt().symbols.virDomainScreenshotAsync(h, held[0], screen, 0),
      ),
    isNull,
  );
  labelled(stream, `screenshot of domain ${JSON.stringify(dom.name)}`);
  return takeCString(pointer) ?? "";
}

function checkCount(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Invalid ${field} ${value}: pass a non-negative integer`);
  }
}

/** @internal virStorageVolUpload; vol.upload() delegates here. */
export async function volumeUpload(
  vol: ObjectHandle,
  stream: Stream,
  offset = 0,
  length = 0,
  options: VolumeStreamOptions = {},
): Promise<void> {
  checkCount(offset, "offset");
  checkCount(length, "length");
  const flags = options.sparse ? StorageVolUploadFlag.SPARSE_STREAM : 0;
  await vol[kCall](
    "start an upload to",
    (h) =>
      holding(
        "virStorageVolUpload",
        [[stream, "stream", kHold]],
        (held) =>
          libvirt().symbols.virStorageVolUploadAsync(h, held[0], BigInt(offset), BigInt(length), flags),
      ),
    isNegative,
  );
  labelled(stream, `upload to storage volume ${JSON.stringify(vol.name)}`);
}

/** @internal virStorageVolDownload; vol.download() delegates here. */
export async function volumeDownload(
  vol: ObjectHandle,
  stream: Stream,
  offset = 0,
  length = 0,
  options: VolumeStreamOptions = {},
): Promise<void> {
  checkCount(offset, "offset");
  checkCount(length, "length");
  const flags = options.sparse ? StorageVolDownloadFlag.SPARSE_STREAM : 0;
  await vol[kCall](
    "start a download from",
    (h) =>
      holding(
        "virStorageVolDownload",
        [[stream, "stream", kHold]],
        (held) =>
          libvirt().symbols.virStorageVolDownloadAsync(h, held[0], BigInt(offset), BigInt(length), flags),
      ),
    isNegative,
  );
  labelled(stream, `download from storage volume ${JSON.stringify(vol.name)}`);
}
