// The libvirt side of range automation: the XML of range networks, volumes and domains (all tagged
// with the range's name), reading the tags back, and bounded parallel work over a host's pool.
import { getDomainMetadata } from "../domain.ts";
import type { Domain } from "../domain.ts";
import { buildDomainXml, metadataXml, parseMetadataXml } from "../domain_xml.ts";
import { parseCidr } from "../ip/addresses.ts";
import { PLAN_NAMESPACE } from "../ip/target.ts";
import { escapeXml } from "../xml.ts";
import { type ExpandedGuest, type NetworkSpec, type Range, RANGE_NAMESPACE } from "./description.ts";

function ipText(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
}

/** The `<range:tags>` element of something the range created. */
function tagXml(range: string, extra: Record<string, string | number> = {}): string {
  return metadataXml({ range, ...extra }, "range", RANGE_NAMESPACE);
}

/** Reads the range name out of an XML document's `<range:tags>` metadata, if any. */
export function rangeTagOf(xml: string): Record<string, string> | undefined {
  const match = /<([A-Za-z_][\w.-]*):tags\s+xmlns:\1=["']([^"']+)["'][^>]*>[\s\S]*?<\/\1:tags>/.exec(xml);
  if (!match || match[2] !== RANGE_NAMESPACE) return undefined;
  return parseMetadataXml(match[0]);
}

/** The range a domain belongs to (its metadata tag), or undefined. */
export async function domainRange(domain: Domain): Promise<string | undefined> {
  const xml = await getDomainMetadata(domain, RANGE_NAMESPACE);
  return xml === undefined ? undefined : parseMetadataXml(xml).range;
}

/** The network XML: forward mode, gateway, DHCP pool, reservations (explicit and planned), tag. */
export function networkXml(range: Range, spec: NetworkSpec, hostId: string): string {
  const cidr = parseCidr(spec.subnet);
  const gateway = ipText(cidr.base + 1n);
  const mask = ipText(((1n << 32n) - 1n) ^ ((1n << BigInt(32 - cidr.bits)) - 1n));
  let xml = `<network><name>${escapeXml(spec.name)}</name><metadata>${
    tagXml(range.name, { host: hostId })
  }</metadata>`;
  if (spec.mode === "nat") xml += "<forward mode='nat'/>";
  if (spec.bridge) xml += `<bridge name='${escapeXml(spec.bridge)}' stp='on' delay='0'/>`;
  xml += `<ip address='${gateway}' netmask='${mask}'>`;
  if (spec.dhcp) {
    xml += `<dhcp><range start='${spec.dhcp.start}' end='${spec.dhcp.end}'/>`;
    const seen = new Set<string>();
    const hosts = [
      ...(spec.reservations ?? []),
      ...range.guests.filter((g) => g.hostId === hostId).flatMap((g) =>
        g.nics.filter((n) => n.network === spec.name && n.address).map((n) => ({
          mac: n.mac,
          address: n.address!,
          name: g.name,
        }))
      ),
    ];
    for (const h of hosts) {
      if (seen.has(h.mac)) continue;
      seen.add(h.mac);
      xml += `<host mac='${h.mac}' ip='${h.address}'${h.name ? ` name='${escapeXml(h.name)}'` : ""}/>`;
    }
    xml += "</dhcp>";
  }
  return xml + "</ip></network>";
}

/** A qcow2 volume: an overlay of the base image, or an empty data disk. */
export function volumeXml(guest: ExpandedGuest): string {
  const capacity = `<capacity unit='MiB'>${guest.diskMiB}</capacity>`;
  const backing = guest.baseImage
    ? `<backingStore><path>${escapeXml(guest.baseImage.path)}</path><format type='${
      escapeXml(guest.baseImage.format ?? "qcow2")
    }'/></backingStore>`
    : "";
  return `<volume type='file'><name>${
    escapeXml(guest.volume)
  }</name>${capacity}<target><format type='qcow2'/></target>${backing}</volume>`;
}

/** The domain XML of a range guest, tagged, with its planned addresses in the IP plan metadata. */
export function guestXml(range: Range, guest: ExpandedGuest, volumePath: string): string {
  const xml = buildDomainXml({
    name: guest.name,
    type: guest.type,
    memoryMiB: guest.memoryMiB,
    vcpus: guest.vcpus,
    disks: [{ path: volumePath, format: "qcow2" }],
    nics: guest.nics.map((n) => ({ network: n.network, mac: n.mac, model: "virtio" })),
    guestAgent: guest.agent,
    ...(guest.kernel ? { kernel: guest.kernel } : {}),
    ...(guest.type !== "test" ? { serial: { type: "pty" as const } } : {}),
    metadata: {
      namespace: RANGE_NAMESPACE,
      prefix: "range",
      values: { range: range.name, guest: guest.guestId, index: guest.index, host: guest.hostId },
    },
    onPoweroff: "destroy",
    onReboot: "restart",
    onCrash: "destroy",
  });
  const planned = guest.nics.filter((n) => n.address);
  if (planned.length === 0) return xml;
  const plan = `<ip:plan xmlns:ip='${PLAN_NAMESPACE}'>${
    planned.map((n) => `<ip:nic mac='${n.mac}' address='${n.address}'/>`).join("")
  }</ip:plan>`;
  return xml.replace("<metadata>", `<metadata>${plan}`);
}

/**
 * Runs `fn` over `items` with at most `limit` in flight; every item runs (a failure does not stop the
 * others) and the outcomes come back in order.
 */
export async function settleAll<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: "fulfilled", value: await fn(items[i]) };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** An Error from anything thrown. */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
