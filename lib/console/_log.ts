// The log file of a console capture: opened so that a planted symbolic link, a FIFO or a world-readable
// file cannot redirect or expose what a guest prints, and rotated so that it never grows past its bound.
// Private to lib/console.ts.

/**
 * Opens a log for appending. A symbolic link or anything but a regular file is refused: the guests'
 * output (text a range's trainees control) would otherwise land wherever a link planted in a shared
 * log folder points, in any file the capturing process may write; a FIFO would block the open. An
 * existing log readable by others is made private (0600) before anything is added.
 */
async function openLog(path: string): Promise<Deno.FsFile> {
  const refuse = (info: Deno.FileInfo) => {
    if (info.isSymlink) {
      throw new Error(
        `Cannot log to ${JSON.stringify(path)}: it is a symbolic link (a capture never writes through one: ` +
          "remove it, or log to another folder)",
      );
    }
    if (!info.isFile) {
      throw new Error(`Cannot log to ${JSON.stringify(path)}: it is not a regular file`);
    }
  };
  const before = await Deno.lstat(path).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  });
  if (before) refuse(before);
  const file = await Deno.open(path, { append: true, create: true, mode: 0o600 });
  try {
    const opened = await file.stat();
    const now = await Deno.lstat(path);
    refuse(now);
    if (!opened.isFile || opened.ino !== now.ino || opened.dev !== now.dev) {
      throw new Error(`Cannot log to ${JSON.stringify(path)}: it was replaced while being opened`);
    }
    if ((opened.mode ?? 0) & 0o077) await Deno.chmod(path, 0o600);
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}

/** A log file that never grows past maxBytes: a write that would rotates it first. */
export class RotatingLog {
  #file: Deno.FsFile | undefined;
  #size = 0;
  constructor(readonly path: string, readonly maxBytes: number, readonly rotations: number) {}

  async open(): Promise<void> {
    const slash = this.path.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(this.path.slice(0, slash), { recursive: true, mode: 0o700 });
    this.#file = await openLog(this.path);
    this.#size = (await this.#file.stat()).size;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      if (this.#size >= this.maxBytes) await this.#rotate();
      const part = bytes.subarray(at, at + (this.maxBytes - this.#size));
      for (let done = 0; done < part.length;) done += await this.#file!.write(part.subarray(done));
      this.#size += part.length;
      at += part.length;
    }
  }

  async #rotate(): Promise<void> {
    this.#file?.close();
    this.#file = undefined;
    if (this.rotations === 0) {
      await Deno.remove(this.path).catch(() => {});
    } else {
      for (let i = this.rotations - 1; i >= 1; i--) {
        await Deno.rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(() => {});
      }
      // a log removed meanwhile (someone cleared the folder) is simply started anew
      await Deno.rename(this.path, `${this.path}.1`).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    }
    this.#file = await openLog(this.path);
    this.#size = 0;
  }

  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}
