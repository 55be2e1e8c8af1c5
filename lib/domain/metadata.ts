/**
 * A domain's namespaced metadata elements: read and write them through the one-call methods
 * {@link Domain.getMetadata} and {@link Domain.setMetadata}, with the checks and "absent" semantics
 * ranges and IP plans rely on.
 *
 * @module
 */
import { asOperation } from "../_handle.ts";
import { ErrorCode } from "../error_codes.ts";
import { LibvirtError } from "../errors.ts";
import { validateMetadataNamespace, validateMetadataPrefix } from "../domain_xml.ts";
import type { Domain } from "../objects/domain.ts";

/** Which definition a metadata or configuration change affects (`VIR_DOMAIN_AFFECT_*`). */
export interface AffectOptions {
  /** The running domain (`VIR_DOMAIN_AFFECT_LIVE`). */
  live?: boolean;
  /** The persistent definition (`VIR_DOMAIN_AFFECT_CONFIG`). Neither: the current one. */
  config?: boolean;
}

function affectFlags(options: AffectOptions): number {
  return (options.live ? 1 : 0) | (options.config ? 2 : 0);
}

const METADATA_ELEMENT = 2;

/**
 * Reads a namespaced metadata element of a domain: {@link Domain.getMetadata} (virDomainGetMetadata),
 * with absent meaning undefined.
 *
 * @param domain the domain
 * @param namespaceUri the element's namespace URI, e.g. "https://example.org/range/1"
 * @param options live / config (default: the current definition)
 * @returns the element's XML (libvirt re-serializes it, with its own prefix), or undefined when absent
 * @throws {LibvirtError} when libvirt cannot read it (other than the element being absent)
 *
 * @example
 * ```ts
 * import { Connection, getDomainMetadata, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * console.log(await getDomainMetadata(dom, "https://example.org/docs/absent")); // undefined
 * ```
 */
export async function getDomainMetadata(
  domain: Domain,
  namespaceUri: string,
  options: AffectOptions = {},
): Promise<string | undefined> {
  if (typeof namespaceUri !== "string" || namespaceUri.includes("\0")) {
    throw new TypeError(
      `Cannot read metadata of domain ${JSON.stringify(domain.name)}: namespaceUri must be a string ` +
        "without NUL characters",
    );
  }
  const flags = affectFlags(options);
  try {
    return await asOperation(
      domain,
      `read metadata ${JSON.stringify(namespaceUri)} of`,
      () => domain.getMetadata(METADATA_ELEMENT, namespaceUri, flags),
    );
  } catch (error) {
    if (error instanceof LibvirtError && error.code === ErrorCode.NO_DOMAIN_METADATA) return undefined;
    throw error;
  }
}

/** A namespaced metadata element to write, for {@link setDomainMetadata}. */
export interface DomainMetadataElement {
  /** The namespace URI that identifies the element, e.g. "https://example.org/range/1". */
  namespaceUri: string;
  /** The namespace prefix libvirt writes (an XML name such as "range"). */
  prefix: string;
  /** The element, e.g. `<tags><tag key="role">victim</tag></tags>` (well-formed, unprefixed), or null to remove it. */
  xml: string | null;
}

/**
 * Sets or removes a namespaced metadata element of a domain: {@link Domain.setMetadata}
 * (virDomainSetMetadata), with the namespace and prefix checked first.
 *
 * @param domain the domain
 * @param element `namespaceUri`, `prefix` and `xml` (null removes the element)
 * @param options live / config (default: the current definition)
 * @throws {TypeError} naming the field when the namespace is not an absolute URI libvirt can write
 *   back (RFC 3986 characters, no "&" or "'", see `validateMetadataNamespace`), the prefix is not an XML
 *   name, or `xml` is neither a string nor null
 * @throws {LibvirtError} when libvirt rejects the element (e.g. XML that is not well-formed)
 *
 * @example
 * ```ts
 * import { Connection, getDomainMetadata, lookupDomain, setDomainMetadata } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * const namespaceUri = "https://example.org/docs/tags/1";
 * const xml = `<tags><tag key="role">victim</tag></tags>`;
 * await setDomainMetadata(dom, { namespaceUri, prefix: "tags", xml }, { live: true });
 * console.log(await getDomainMetadata(dom, namespaceUri)); // <tags><tag key="role">victim</tag></tags>
 * await setDomainMetadata(dom, { namespaceUri, prefix: "tags", xml: null }, { live: true }); // removed again
 * ```
 */
export function setDomainMetadata(
  domain: Domain,
  element: DomainMetadataElement,
  options?: AffectOptions,
): Promise<void>;
/**
 * Sets or removes a namespaced metadata element of a domain, with four positional arguments.
 *
 * @deprecated pass the element as an object: `setDomainMetadata(dom, { namespaceUri, prefix, xml }, options)`
 *
 * @param domain the domain
 * @param namespaceUri the namespace URI that identifies the element
 * @param prefix the namespace prefix libvirt writes (an XML name such as "range")
 * @param xml the element (well-formed, unprefixed), or null to remove it
 * @param options live / config (default: the current definition)
 * @throws {TypeError} naming the argument when the namespace, prefix or xml is unusable
 * @throws {LibvirtError} when libvirt rejects the element (e.g. XML that is not well-formed)
 *
 * @example
 * ```ts
 * import { Connection, lookupDomain, setDomainMetadata } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * // was: await setDomainMetadata(dom, "urn:example:notes", "notes", "<note/>", { live: true });
 * await setDomainMetadata(dom, { namespaceUri: "urn:example:notes", prefix: "notes", xml: "<note/>" }, { live: true });
 * ```
 */
export function setDomainMetadata(
  domain: Domain,
  namespaceUri: string,
  prefix: string,
  xml: string | null,
  options?: AffectOptions,
): Promise<void>;
export async function setDomainMetadata(
  domain: Domain,
  element: DomainMetadataElement | string,
  ...rest: [options?: AffectOptions] | [prefix: string, xml: string | null, options?: AffectOptions]
): Promise<void> {
  const positional = typeof element === "string";
  const { namespaceUri, prefix, xml } = positional
    ? { namespaceUri: element, prefix: rest[0] as string, xml: rest[1] as string | null }
    : checkElement(domain, element);
  const options = ((positional ? rest[2] : rest[0]) ?? {}) as AffectOptions;
  const action = `set metadata of domain ${JSON.stringify(domain.name)}`;
  const field = (name: string) => positional ? name : `element.${name}`;
  validateMetadataNamespace(namespaceUri, field("namespaceUri"), action);
  validateMetadataPrefix(prefix, field("prefix"), action);
  if (xml !== null && typeof xml !== "string") {
    throw new TypeError(
      `Cannot ${action}: ${field("xml")} must be a string (the element) or null (to remove it)`,
    );
  }
  if (xml !== null && xml.includes("\0")) {
    throw new TypeError(
      `Cannot ${action}: ${field("xml")} contains a NUL character, which libvirt cannot take`,
    );
  }
  const flags = affectFlags(options);
  await asOperation(
    domain,
    `${xml === null ? "remove" : "set"} metadata ${JSON.stringify(namespaceUri)} of`,
    () => domain.setMetadata(METADATA_ELEMENT, xml, prefix, namespaceUri, flags),
  );
}

function checkElement(domain: Domain, element: unknown): DomainMetadataElement {
  if (element === null || typeof element !== "object") {
    throw new TypeError(
      `Cannot set metadata of domain ${JSON.stringify(domain.name)}: element must be ` +
        "{ namespaceUri, prefix, xml }, got " + (element === null ? "null" : typeof element),
    );
  }
  return element as DomainMetadataElement;
}
