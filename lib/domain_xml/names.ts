/**
 * The identifiers a domain definition carries, checked before any XML is written: the domain's name,
 * NIC MAC addresses, and the prefix and namespace URI of its metadata. Each check returns the value (a
 * MAC normalized to lower case) or throws a TypeError naming the field and the fix; lib/domain/metadata.ts
 * and the range module use them too.
 *
 * @module
 */
import { fail } from "./_fields.ts";

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,62}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/**
 * Checks a domain name the way the builder does.
 *
 * @param name the candidate
 * @returns the name, unchanged
 * @throws {TypeError} naming the rule it breaks
 * @example
 * ```ts
 * import { validateDomainName } from "@deno-libvirt/deno-libvirt";
 * console.log(validateDomainName("web-1")); // "web-1"; "web/1" throws a TypeError naming the fix
 * ```
 */
export function validateDomainName(name: string): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    const why = typeof name !== "string"
      ? "must be a string"
      : name.startsWith(".")
      ? 'must not start with "."'
      : name.length > 63
      ? `is ${name.length} characters long; the limit is 63`
      : name.length === 0
      ? "is empty"
      : "contains characters libvirt names should not";
    fail(
      "name",
      typeof name === "string" && name.length > 80 ? name.slice(0, 80) + "..." : name,
      `${why}: use 1-63 letters, digits, "-", "_" or ".", not starting with "." (e.g. "web-01")`,
    );
  }
  return name;
}

/**
 * Checks and normalizes a MAC address for a NIC.
 *
 * @param mac e.g. "52:54:00:AB:cd:01"
 * @param field how error messages name it
 * @returns the address in lower case
 * @throws {TypeError} for a malformed, multicast or all-zero address
 * @example
 * ```ts
 * import { validateMac } from "@deno-libvirt/deno-libvirt";
 * console.log(validateMac("52:54:00:AB:CD:EF")); // "52:54:00:ab:cd:ef"
 * ```
 */
export function validateMac(mac: string, field = "mac"): string {
  if (typeof mac !== "string" || !MAC.test(mac)) {
    fail(field, mac, 'is not a MAC address: use six colon-separated hex bytes, e.g. "52:54:00:12:34:56"');
  }
  const lower = mac.toLowerCase();
  if (parseInt(lower.slice(0, 2), 16) & 1) {
    fail(field, mac, 'is a multicast address (odd first byte): use a unicast one, e.g. "52:54:00:12:34:56"');
  }
  if (lower === "00:00:00:00:00:00") fail(field, mac, 'is all zeros: use e.g. "52:54:00:12:34:56"');
  return lower;
}

/** Letters, digits, "_.-", not starting with a digit, "-", "." or "xml": an XML name without a colon. */
const NCNAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/**
 * Checks a metadata namespace prefix (the XML prefix libvirt writes, `range` in `<range:tags>`).
 *
 * @param prefix the candidate
 * @param field how the error names it
 * @param action what the error says could not be done ("Cannot <action>: ...")
 * @returns the prefix, unchanged
 * @throws {TypeError} naming the field when it is not an XML name (or starts with "xml")
 *
 * @example
 * ```ts
 * import { validateMetadataPrefix } from "@deno-libvirt/deno-libvirt";
 * console.log(validateMetadataPrefix("range")); // "range"
 * ```
 */
export function validateMetadataPrefix(
  prefix: string,
  field = "metadata.prefix",
  action = "build domain XML",
): string {
  if (typeof prefix !== "string" || !NCNAME.test(prefix) || /^xml/i.test(prefix)) {
    fail(
      field,
      prefix,
      'is not an XML name: 1-64 letters, digits, "_", "." or "-", starting with a letter or "_", not with "xml" (e.g. "range")',
      action,
    );
  }
  return prefix;
}

/** RFC 3986 URI characters, less "&" and "'" (libvirt writes the namespace unescaped). */
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$()*+,;=]|%[0-9A-Fa-f]{2})+$/;

/**
 * Checks a metadata namespace URI: an absolute URI (a scheme, ":" and at least one character) of
 * RFC 3986 characters, at most 2,048 long, without "&" or "'". Those two are legal in URIs, but
 * libvirt writes the namespace into the domain XML unescaped, so a URI such as `a&b` gives a domain
 * definition that libvirt itself cannot read back.
 *
 * @param uri the candidate, e.g. "https://example.org/range/1" or "urn:example:range:1"
 * @param field how the error names it
 * @param action what the error says could not be done ("Cannot <action>: ...")
 * @returns the URI, unchanged
 * @throws {TypeError} naming the field and what is wrong
 *
 * @example
 * ```ts
 * import { validateMetadataNamespace } from "@deno-libvirt/deno-libvirt";
 * console.log(validateMetadataNamespace("urn:example:range:1")); // "urn:example:range:1"
 * ```
 */
export function validateMetadataNamespace(
  uri: string,
  field = "metadata.namespace",
  action = "build domain XML",
): string {
  if (typeof uri !== "string" || uri.length > 2048 || !URI.test(uri)) {
    const why = typeof uri !== "string"
      ? "must be a string"
      : uri.length > 2048
      ? `is ${uri.length} characters long; the limit is 2048`
      : !/^[A-Za-z][A-Za-z0-9+.-]*:./.test(uri)
      ? "is not an absolute URI (a scheme such as https: or urn: first)"
      : /[&']/.test(uri)
      ? 'contains "&" or "\'", which libvirt would write unescaped into the domain XML'
      : "contains characters a URI cannot hold (write spaces, quotes, <, > and non-ASCII as %XX)";
    fail(field, uri, `${why}: use e.g. "https://example.org/range/1" or "urn:example:range:1"`, action);
  }
  return uri;
}
