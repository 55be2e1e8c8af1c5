// libvirt's numeric versions (the daemon's, the hypervisor's, the one a symbol appeared in) as parts:
// a value type and its parser, which need no connection (tests read the versions symbols appeared in
// with it), so they live apart from the class that answers them.
import { formatVersion } from "../ffi/library.ts";

/** A libvirt or hypervisor version. */
export interface Version {
  /** The major version: 9 in "9.0.0". */
  major: number;
  /** The minor version: 0 in "9.0.0". */
  minor: number;
  /** The release (micro) number: the last 0 in "9.0.0". */
  release: number;
  /** libvirt's encoding: major * 1,000,000 + minor * 1,000 + release. */
  number: number;
  /** "9.0.0" */
  text: string;
}

/**
 * Turns libvirt's numeric version (`major * 1,000,000 + minor * 1,000 + release`, as
 * `virConnectGetLibVersion` and `virGetVersion` answer it) into its parts.
 *
 * @param number the encoded version, e.g. 9000000
 * @returns its major, minor and release parts, the number and the dotted text
 *
 * @example
 * ```ts
 * import { parseVersion } from "@deno-libvirt/deno-libvirt";
 * const version = parseVersion(9_002_001);
 * console.log(version.text, version.major, version.minor, version.release); // "9.2.1" 9 2 1
 * ```
 */
export function parseVersion(number: number): Version {
  return {
    major: Math.floor(number / 1_000_000),
    minor: Math.floor((number % 1_000_000) / 1_000),
    release: number % 1_000,
    number,
    text: formatVersion(number),
  };
}
