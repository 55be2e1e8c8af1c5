/**
 * @internal The top-level sections of a description: the range name, the snapshot name, the hosts and
 * the storage pool, and the base images.
 *
 * @module
 */
import type { Checker, Obj } from "./checker.ts";
import type { BaseImageSpec, HostSpec, Range } from "./types.ts";

/** Letter or digit first (every guest name, which is also its DHCP host name, starts with it). */
const RANGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
/** A libvirt URI: a scheme, "://", and no white space. */
const URI = /^[a-z][a-z0-9+.-]*:\/\/[^\s]*$/i;

/** The range name, or undefined (recorded) when unusable. */
export function checkRangeName(c: Checker, root: Obj): string | undefined {
  const name = c.string(root.name, ["name"]);
  if (name !== undefined && !RANGE_NAME.test(name)) {
    c.add(
      ["name"],
      `range name ${
        c.q(name)
      } is not safe: use 1-32 letters, digits, "_" or "-", starting with a letter or digit (no "."; it prefixes volume names)`,
    );
    return undefined;
  }
  return name;
}

/** The hosts by id. */
export function checkHosts(c: Checker, root: Obj): Map<string, HostSpec> {
  const hosts = new Map<string, HostSpec>();
  c.list(root.hosts, ["hosts"], true, "host (id and uri)").forEach((h, i) => {
    const o = c.object(h, ["hosts", i], ["id", "uri"], ["id", "uri"]);
    if (!o) return;
    const id = c.name(o.id, ["hosts", i, "id"], "host id");
    let uri = c.string(o.uri, ["hosts", i, "uri"]);
    if (uri !== undefined && !URI.test(uri)) {
      c.add(["hosts", i, "uri"], `${c.q(uri)} is not a libvirt URI (e.g. "qemu:///system")`);
      uri = undefined;
    }
    if (id === undefined || uri === undefined) return;
    if (hosts.has(id)) c.add(["hosts", i, "id"], `duplicate host id ${c.q(id)}`);
    else hosts.set(id, { id, uri });
  });
  return hosts;
}

/** The pool volumes go into: an existing one, or one the range makes of a directory. */
export function checkStorage(c: Checker, root: Obj, name: string | undefined): Range["pool"] {
  let pool: Range["pool"] = { name: `${name}.pool`, created: true };
  if (root.storage === undefined) {
    c.add(["storage"], "is required (missing): name an existing pool (pool) or a directory (path)");
    return pool;
  }
  const s = c.object(root.storage, ["storage"], ["pool", "path"], []);
  if (!s) return pool;
  const poolName = c.name(s.pool, ["storage", "pool"], "pool name");
  const path = c.absolutePath(s.path, ["storage", "path"]);
  if (s.pool !== undefined && s.path !== undefined) {
    c.add(["storage", "path"], "give pool (an existing pool) or path (a pool the range creates), not both");
  } else if (poolName !== undefined) pool = { name: poolName, created: false };
  else if (path !== undefined) pool = { name: `${name}.pool`, created: true, path };
  else if (s.pool === undefined && s.path === undefined) c.add(["storage"], "needs pool or path");
  return pool;
}

/** The base images by id. */
export function checkBaseImages(c: Checker, root: Obj): Map<string, BaseImageSpec> {
  const images = new Map<string, BaseImageSpec>();
  c.list(root.baseImages, ["baseImages"], false).forEach((b, i) => {
    const o = c.object(b, ["baseImages", i], ["id", "path", "format", "source"], ["id", "path"]);
    if (!o) return;
    const id = c.name(o.id, ["baseImages", i, "id"], "base image id");
    const path = c.absolutePath(o.path, ["baseImages", i, "path"]);
    const format = o.format === undefined ? "qcow2" : c.oneOf(
      o.format,
      ["baseImages", i, "format"],
      [
        "qcow2",
        "raw",
      ] as const,
    );
    const source = o.source === undefined ? undefined : c.absolutePath(o.source, ["baseImages", i, "source"]);
    if (id === undefined || path === undefined || format === undefined) return;
    if (o.source !== undefined && source === undefined) return;
    if (images.has(id)) c.add(["baseImages", i, "id"], `duplicate base image id ${c.q(id)}`);
    else images.set(id, { id, path, format, ...(source === undefined ? {} : { source }) });
  });
  return images;
}
