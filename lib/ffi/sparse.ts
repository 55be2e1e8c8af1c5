// Where a sparse file's data is: libc lseek(SEEK_DATA / SEEK_HOLE), for sparse volume uploads.
// Deno's FsFile.seek knows only SEEK_SET/CUR/END and exposes no file descriptor.
import { cString } from "./c.ts";
import { libvirt } from "./library.ts";

const SEEK_END = 2;
const SEEK_DATA = 3;
const SEEK_HOLE = 4;

/** One run of a file: data to send, or a hole to skip. */
export interface FileSegment {
  kind: "data" | "hole";
  offset: number;
  length: number;
}

/**
 * The data and hole runs of a file, in order, covering it from 0 to its size. A filesystem without
 * SEEK_DATA support reports the whole file as data (correct, just not sparse).
 *
 * @throws {Error} naming the path when it cannot be opened
 */
export function fileSegments(path: string): { size: number; segments: FileSegment[] } {
  const { libc } = libvirt();
  const fd = libc.open(cString(path, "path"), 0 /* O_RDONLY */);
  if (fd < 0) throw new Error(`Cannot read ${JSON.stringify(path)}: open failed`);
  try {
    const size = Number(libc.lseek(fd, 0n, SEEK_END));
    const segments: FileSegment[] = [];
    let at = 0;
    while (at < size) {
      let data = Number(libc.lseek(fd, BigInt(at), SEEK_DATA));
      if (data < 0) data = size; // ENXIO: only a hole up to the end
      if (data > at) segments.push({ kind: "hole", offset: at, length: data - at });
      if (data >= size) break;
      let hole = Number(libc.lseek(fd, BigInt(data), SEEK_HOLE));
      if (hole < 0 || hole > size) hole = size;
      segments.push({ kind: "data", offset: data, length: hole - data });
      at = hole;
    }
    return { size, segments };
  } finally {
    libc.close(fd);
  }
}
