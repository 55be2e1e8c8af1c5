/**
 * Exercise actions on a running guest's NICs: pull a cable and plug it back (the link state of a
 * virtio NIC, `<link state='down'/>` through virDomainUpdateDeviceFlags), hot-plug a NIC and unplug
 * it (virDomainAttachDeviceFlags / virDomainDetachDeviceFlags, then the live definition watched until
 * the guest has released the device). NICs are named by MAC, by host device (`vnet3`), by alias
 * (`net0`) or by the network they are on (when the guest has exactly one NIC there).
 *
 * Each function orchestrates one-call methods of {@link Domain}: the live XML is read, the NIC's own
 * `<interface>` element is changed and handed back to libvirt, as `virsh domif-setlink` does, so every
 * other setting of the NIC (model, target, address, filter) stays as it is.
 *
 * @example
 * ```ts ignore
 * import { Connection, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * import { attachNic, detachNic, setNicLink } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("qemu:///system");
 * using dom = await lookupDomain(conn, "lab-web-1");
 * await setNicLink(dom, "52:54:00:12:34:56", "down"); // the guest's eth0 loses its carrier
 * await setNicLink(dom, "52:54:00:12:34:56", "up");
 * const added = await attachNic(dom, { network: "lab-dmz" });
 * await detachNic(dom, added.mac);
 * ```
 *
 * @module
 */
import { sleep } from "./_async.ts";
import type { Domain } from "./domain.ts";
import { validateMac } from "./domain_xml.ts";
import { normalizeMac } from "./ip/addresses.ts";
import { asArray, attribute, escapeXml, parseXml } from "./xml.ts";

/** One NIC of a domain's definition, with its `<interface>` element as libvirt wrote it. */
export interface DomainNic {
  /** The MAC, lower case. */
  mac: string;
  /** The interface type: "network", "bridge", "user", ... */
  type: string;
  /** The network (type network) or bridge (type bridge) it is on. */
  source?: string;
  /** The host side device of a running guest, e.g. "vnet3". */
  target?: string;
  /** The device alias of a running guest, e.g. "net0". */
  alias?: string;
  /** The NIC model, e.g. "virtio". */
  model?: string;
  /** The link state: "down" when the cable is pulled, else "up" (libvirt's default). */
  link: "up" | "down";
  /** The `<interface>` element, exactly as it appears in the domain XML. */
  xml: string;
}

const INTERFACE = /<interface\b[^>]*>[\s\S]*?<\/interface>/g;

/**
 * The NICs of a domain XML document, each with its own `<interface>` element text.
 *
 * @param xml a domain XML document (as `dom.xmlDesc()` returns it)
 * @returns one entry per `<interface>`, in document order
 *
 * @example
 * ```ts
 * import { parseNics } from "@deno-libvirt/deno-libvirt";
 * const nics = parseNics(
 *   "<domain><devices><interface type='network'><mac address='52:54:00:AA:00:01'/>" +
 *     "<source network='lan'/><link state='down'/></interface></devices></domain>",
 * );
 * console.log(nics[0].mac, nics[0].source, nics[0].link); // 52:54:00:aa:00:01 lan down
 * ```
 */
export function parseNics(xml: string): DomainNic[] {
  return [...xml.matchAll(INTERFACE)].map((m) => {
    const element = asArray(parseXml(m[0]).interface)[0];
    const type = attribute(element, "type") ?? "";
    const sourceElement = asArray(element?.source)[0];
    const source = type === "bridge"
      ? attribute(sourceElement, "bridge")
      : attribute(sourceElement, "network") ?? attribute(sourceElement, "bridge") ??
        attribute(sourceElement, "dev");
    const nic: DomainNic = {
      mac: normalizeMac(attribute(asArray(element?.mac)[0], "address")) ?? "",
      type,
      link: attribute(asArray(element?.link)[0], "state") === "down" ? "down" : "up",
      xml: m[0],
    };
    if (source !== undefined) nic.source = source;
    const target = attribute(asArray(element?.target)[0], "dev");
    if (target !== undefined) nic.target = target;
    const alias = attribute(asArray(element?.alias)[0], "name");
    if (alias !== undefined) nic.alias = alias;
    const model = attribute(asArray(element?.model)[0], "type");
    if (model !== undefined) nic.model = model;
    return nic;
  });
}

function describe(nics: DomainNic[]): string {
  if (nics.length === 0) return "it has no NIC";
  return `its NICs: ${
    nics.map((n) => `${n.mac}${n.source ? ` on ${n.source}` : ""}${n.target ? ` (${n.target})` : ""}`)
      .join(", ")
  }`;
}

/**
 * Finds one NIC among a domain's: by MAC (any case), host device (`vnet3`), alias (`net0`), or the
 * network or bridge it is on when exactly one NIC is there.
 *
 * @param nics the domain's NICs ({@link parseNics})
 * @param ref how the caller names the NIC
 * @param domainName for the message
 * @returns the NIC
 * @throws {RangeError} when no NIC, or more than one, matches: the message lists the domain's NICs
 *
 * @example
 * ```ts
 * import { findNic, parseNics } from "@deno-libvirt/deno-libvirt";
 * const nics = parseNics(
 *   "<domain><devices><interface type='network'><mac address='52:54:00:aa:00:01'/>" +
 *     "<source network='lan'/><target dev='vnet7'/></interface></devices></domain>",
 * );
 * console.log(findNic(nics, "vnet7").mac, findNic(nics, "lan").mac); // both 52:54:00:aa:00:01
 * ```
 */
export function findNic(nics: DomainNic[], ref: string, domainName = "the domain"): DomainNic {
  if (typeof ref !== "string" || ref === "") {
    throw new RangeError(`Cannot find a NIC of ${domainName}: name it by MAC, device, alias or network`);
  }
  const mac = normalizeMac(ref);
  if (mac !== undefined && /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(ref)) {
    const found = nics.find((n) => n.mac === mac);
    if (found) return found;
    throw new RangeError(`Cannot find NIC ${JSON.stringify(ref)} of ${domainName}: ${describe(nics)}`);
  }
  const byName = nics.filter((n) => n.target === ref || n.alias === ref);
  if (byName.length === 1) return byName[0];
  const bySource = nics.filter((n) => n.source === ref);
  if (bySource.length === 1) return bySource[0];
  if (bySource.length > 1) {
    throw new RangeError(
      `Cannot pick a NIC of ${domainName} by network ${
        JSON.stringify(ref)
      }: ${bySource.length} NICs are on it ` +
        `(${bySource.map((n) => n.mac).join(", ")}): name one by MAC`,
    );
  }
  throw new RangeError(`Cannot find NIC ${JSON.stringify(ref)} of ${domainName}: ${describe(nics)}`);
}

/**
 * The `<interface>` element with its link state set: an existing `<link>` is replaced, else one is
 * added. Everything else of the element is kept as it is.
 *
 * @param interfaceXml one `<interface>` element ({@link DomainNic.xml})
 * @param state "up" or "down"
 * @returns the changed element
 * @throws {RangeError} for another state, {@link TypeError} when the text is not an `<interface>`
 *
 * @example
 * ```ts
 * import { withLinkState } from "@deno-libvirt/deno-libvirt";
 * const xml = withLinkState("<interface type='network'><source network='lan'/></interface>", "down");
 * console.log(xml); // <interface type='network'><source network='lan'/><link state='down'/></interface>
 * ```
 */
export function withLinkState(interfaceXml: string, state: "up" | "down"): string {
  if (state !== "up" && state !== "down") {
    throw new RangeError(`Cannot set link state ${JSON.stringify(state)}: use "up" or "down"`);
  }
  if (!/^\s*<interface\b[\s\S]*<\/interface>\s*$/.test(interfaceXml)) {
    throw new TypeError("Cannot set the link state: the text is not one <interface> element");
  }
  const without = interfaceXml.replace(/<link\b[^>]*\/>|<link\b[^>]*>[\s\S]*?<\/link>/g, "");
  const at = without.lastIndexOf("</interface>");
  return `${without.slice(0, at)}<link state='${state}'/>${without.slice(at)}`;
}

/** Options of the NIC actions. */
export interface NicActionOptions {
  /**
   * Also change the persistent definition of a persistent domain (`VIR_DOMAIN_AFFECT_CONFIG`), so
   * that the change outlives a restart. Default false: an exercise action changes the running guest.
   */
  persist?: boolean;
}

/** What {@link setNicLink} did. */
export interface NicLinkResult {
  /** The NIC's MAC. */
  mac: string;
  /** Its host device, e.g. "vnet3". */
  target?: string;
  /** The link state before. */
  previous: "up" | "down";
  /** The link state now, read back from the live definition. */
  state: "up" | "down";
}

/**
 * Pulls a NIC's cable (`"down"`) or plugs it back (`"up"`) on a running guest: the NIC stays, the
 * guest's driver sees its carrier go away (virtio: `/sys/class/net/eth0/carrier` reads 0) or come back.
 * The live `<interface>` is updated with `<link state=.../>` (virDomainUpdateDeviceFlags, live) and
 * read back.
 *
 * @param domain a running domain
 * @param ref the NIC: MAC, host device, alias or network ({@link findNic})
 * @param state "down" to pull the cable, "up" to plug it back
 * @param options `persist` to change the persistent definition too
 * @returns the NIC and its link state before and after
 * @throws {RangeError} when no NIC (or more than one) matches `ref`, or for a bad state
 * @throws {LibvirtError} when libvirt refuses the update (the test driver has no device updates:
 *   NotSupportedError; a shut-off domain: OperationInvalidError)
 * @throws {Error} when the live definition does not show the new state afterwards
 *
 * @example
 * ```ts
 * import { type Domain, setNicLink } from "@deno-libvirt/deno-libvirt";
 * async function pullCable(dom: Domain): Promise<void> {
 *   const r = await setNicLink(dom, "lab-lan", "down");
 *   console.log(r.mac, r.previous, "->", r.state); // 52:54:00:.. up -> down
 * }
 * void pullCable;
 * ```
 */
export async function setNicLink(
  domain: Domain,
  ref: string,
  state: "up" | "down",
  options: NicActionOptions = {},
): Promise<NicLinkResult> {
  if (state !== "up" && state !== "down") {
    throw new RangeError(`Cannot set link state ${JSON.stringify(state)}: use "up" or "down"`);
  }
  const nic = findNic(parseNics(await domain.xmlDesc()), ref, JSON.stringify(domain.name));
  await domain.updateDeviceFlags(withLinkState(nic.xml, state), { live: true });
  if (options.persist && await domain.isPersistent()) {
    const stored = parseNics(await domain.xmlDesc({ inactive: true })).find((n) => n.mac === nic.mac);
    if (stored) await domain.updateDeviceFlags(withLinkState(stored.xml, state), { config: true });
  }
  const after = parseNics(await domain.xmlDesc()).find((n) => n.mac === nic.mac);
  if (after?.link !== state) {
    throw new Error(
      `Cannot set the link of NIC ${nic.mac} of ${JSON.stringify(domain.name)} ${state}: libvirt accepted ` +
        `the update but the live definition says ${after ? after.link : "the NIC is gone"}`,
    );
  }
  return { mac: nic.mac, ...(nic.target ? { target: nic.target } : {}), previous: nic.link, state };
}

/** A NIC to hot-plug. */
export interface AttachNicSpec {
  /** The libvirt network to join (or give `bridge`). */
  network?: string;
  /** A host bridge to join instead of a network. */
  bridge?: string;
  /** Its MAC; default a random one in QEMU's 52:54:00 range, not used by the domain already. */
  mac?: string;
  /** The NIC model; default "virtio". */
  model?: string;
  /** Plug it with its cable pulled (`<link state='down'/>`). Default false. */
  linkDown?: boolean;
}

/** Options for {@link attachNic}. */
export interface AttachNicOptions extends NicActionOptions {
  /** How long to wait for the NIC to appear in the live definition, ms. Default 30,000. */
  timeoutMs?: number;
  /** Aborts the wait (the NIC stays attached). */
  signal?: AbortSignal;
}

/** A NIC {@link attachNic} plugged in. */
export interface AttachedNic {
  /** Its MAC. */
  mac: string;
  /** Its host device, e.g. "vnet5". */
  target?: string;
  /** Its device alias, e.g. "net1". */
  alias?: string;
  /** Its `<interface>` element in the live definition. */
  xml: string;
}

/**
 * The `<interface>` element of a NIC to hot-plug (every value escaped).
 *
 * @param spec the network or bridge, MAC, model and link state
 * @returns the element
 * @throws {TypeError} when neither or both of `network` and `bridge` are given, or the MAC is invalid
 *
 * @example
 * ```ts
 * import { nicXml } from "@deno-libvirt/deno-libvirt";
 * console.log(nicXml({ network: "lan", mac: "52:54:00:00:00:01" }));
 * // <interface type='network'><mac address='52:54:00:00:00:01'/><source network='lan'/><model type='virtio'/></interface>
 * ```
 */
export function nicXml(spec: AttachNicSpec & { mac: string }): string {
  if ((spec.network === undefined) === (spec.bridge === undefined)) {
    throw new TypeError("Cannot describe the NIC: give exactly one of network and bridge");
  }
  const mac = validateMac(spec.mac, "mac");
  const source = spec.network !== undefined
    ? `<source network='${escapeXml(spec.network)}'/>`
    : `<source bridge='${escapeXml(spec.bridge!)}'/>`;
  return `<interface type='${spec.network !== undefined ? "network" : "bridge"}'><mac address='${
    escapeXml(mac)
  }'/>${source}<model type='${escapeXml(spec.model ?? "virtio")}'/>${
    spec.linkDown ? "<link state='down'/>" : ""
  }</interface>`;
}

function randomMac(taken: Set<string>): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(3));
    const mac = `52:54:00:${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
    if (!taken.has(mac)) return mac;
  }
}

/** Polls the live definition until `done` holds (100 ms, growing to 1 s between reads). */
async function watchLive<T>(
  domain: Domain,
  done: (nics: DomainNic[]) => T | undefined,
  what: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ value: T; waitedMs: number }> {
  const t0 = performance.now();
  let every = 100;
  for (;;) {
    signal?.throwIfAborted();
    const value = done(parseNics(await domain.xmlDesc()));
    if (value !== undefined) return { value, waitedMs: Math.round(performance.now() - t0) };
    if (performance.now() - t0 >= timeoutMs) {
      throw new DOMException(`Cannot ${what}: not done after ${timeoutMs} ms`, "TimeoutError");
    }
    await sleep(Math.min(every, Math.max(1, timeoutMs - (performance.now() - t0))), signal);
    every = Math.min(every * 2, 1000);
  }
}

/**
 * Hot-plugs a NIC into a running guest (virDomainAttachDeviceFlags, live) and waits until the live
 * definition shows it with its host device.
 *
 * @param domain a running domain
 * @param spec the network or bridge to join, MAC, model, link state
 * @param options `persist` to add it to the persistent definition too; the wait's timeout and signal
 * @returns the NIC as plugged in (MAC, host device, alias)
 * @throws {TypeError} for a bad spec; {@link RangeError} when the MAC is in use by the domain already
 * @throws {LibvirtError} when libvirt refuses (unknown network: NotFoundError; test driver:
 *   NotSupportedError)
 * @throws {DOMException} "TimeoutError" when the NIC does not show up in time, or the signal's reason
 *
 * @example
 * ```ts
 * import { attachNic, type Domain } from "@deno-libvirt/deno-libvirt";
 * async function plugIn(dom: Domain): Promise<void> {
 *   const nic = await attachNic(dom, { network: "lab-dmz" });
 *   console.log(nic.mac, nic.target); // 52:54:00:3f:1a:07 vnet9
 * }
 * void plugIn;
 * ```
 */
export async function attachNic(
  domain: Domain,
  spec: AttachNicSpec,
  options: AttachNicOptions = {},
): Promise<AttachedNic> {
  const before = parseNics(await domain.xmlDesc());
  const taken = new Set(before.map((n) => n.mac));
  const mac = spec.mac === undefined ? randomMac(taken) : normalizeMac(validateMac(spec.mac, "mac"))!;
  if (taken.has(mac)) {
    throw new RangeError(
      `Cannot attach NIC ${mac} to ${JSON.stringify(domain.name)}: ${describe(before)}; give another MAC`,
    );
  }
  const xml = nicXml({ ...spec, mac });
  await domain.attachDeviceFlags(xml, { live: true });
  if (options.persist && await domain.isPersistent()) await domain.attachDeviceFlags(xml, { config: true });
  const { value } = await watchLive(
    domain,
    (nics) => nics.find((n) => n.mac === mac && n.target !== undefined),
    `see NIC ${mac} plugged into ${JSON.stringify(domain.name)}`,
    options.timeoutMs ?? 30_000,
    options.signal,
  );
  return {
    mac,
    ...(value.target ? { target: value.target } : {}),
    ...(value.alias ? { alias: value.alias } : {}),
    xml: value.xml,
  };
}

/** Options for {@link detachNic}. */
export interface DetachNicOptions extends NicActionOptions {
  /**
   * How long to wait for the guest to release the NIC, ms. Default 30,000. libvirt asks the guest
   * (ACPI hot-unplug); a guest that ignores the request keeps the NIC, and this then throws.
   */
  timeoutMs?: number;
  /** Aborts the wait (the unplug request stands). */
  signal?: AbortSignal;
}

/** What {@link detachNic} did. */
export interface DetachedNic {
  /** The NIC's MAC. */
  mac: string;
  /** The host device it had. */
  target?: string;
  /** How long the guest took to release it, ms. */
  waitedMs: number;
}

/**
 * Unplugs a NIC from a running guest (virDomainDetachDeviceFlags, live) and waits until it is gone
 * from the live definition: libvirt asks the guest to release the device and returns at once; the
 * device is removed when the guest acknowledges.
 *
 * @param domain a running domain
 * @param ref the NIC: MAC, host device, alias or network ({@link findNic})
 * @param options `persist` to remove it from the persistent definition too; the wait's timeout and
 *   signal
 * @returns the NIC's MAC and device and how long the guest took
 * @throws {RangeError} when no NIC (or more than one) matches `ref`
 * @throws {LibvirtError} when libvirt refuses the unplug
 * @throws {DOMException} "TimeoutError" when the guest has not released it in time, or the signal's
 *   reason
 *
 * @example
 * ```ts
 * import { detachNic, type Domain } from "@deno-libvirt/deno-libvirt";
 * async function unplug(dom: Domain): Promise<void> {
 *   const gone = await detachNic(dom, "52:54:00:3f:1a:07", { timeoutMs: 30_000 });
 *   console.log(`released in ${gone.waitedMs} ms`);
 * }
 * void unplug;
 * ```
 */
export async function detachNic(
  domain: Domain,
  ref: string,
  options: DetachNicOptions = {},
): Promise<DetachedNic> {
  const nic = findNic(parseNics(await domain.xmlDesc()), ref, JSON.stringify(domain.name));
  await domain.detachDeviceFlags(nic.xml, { live: true });
  const { waitedMs } = await watchLive(
    domain,
    (nics) => nics.some((n) => n.mac === nic.mac) ? undefined : true,
    `see NIC ${nic.mac} released by ${
      JSON.stringify(domain.name)
    } (the guest did not acknowledge the unplug)`,
    options.timeoutMs ?? 30_000,
    options.signal,
  );
  if (options.persist && await domain.isPersistent()) {
    const stored = parseNics(await domain.xmlDesc({ inactive: true })).find((n) => n.mac === nic.mac);
    if (stored) await domain.detachDeviceFlags(stored.xml, { config: true });
  }
  return { mac: nic.mac, ...(nic.target ? { target: nic.target } : {}), waitedMs };
}
