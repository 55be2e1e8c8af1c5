// What discovery reads from a libvirt network is the same for every domain on it: its DHCP leases
// and its reservations. A range discovery asks for hundreds of domains at once, so each network is
// read once per short window and shared (failures too: a driver without leases says so once).
import type { Connection } from "../../connection.ts";
import { type DhcpLease, lookupNetwork } from "../../network.ts";
import { reservationsOf, subnetsOf } from "./_network_xml.ts";

const memo = new Map<string, { until: number; value: Promise<unknown> }>();

function remember<T>(key: string, ttlMs: number, produce: () => Promise<T>): Promise<T> {
  const now = performance.now();
  const hit = memo.get(key);
  if (hit && hit.until > now) return hit.value as Promise<T>;
  if (memo.size > 1024) memo.clear();
  const value = produce();
  memo.set(key, { until: now + ttlMs, value });
  return value;
}

/**
 * Every DHCP lease of a network, shared for 250 ms: short enough that a new lease is seen well
 * within waitForAddress's one-second promise, long enough that a batch reads each network once.
 */
export function networkLeases(connection: Connection, network: string): Promise<DhcpLease[]> {
  return remember(`leases ${connection.uri} ${network}`, 250, async () => {
    using net = await lookupNetwork(connection, network);
    return await net.getDhcpLeases();
  });
}

/** A network's XML, shared for 5 s: reservations and subnets both come from it. */
function networkXml(connection: Connection, network: string): Promise<string> {
  return remember(`xml ${connection.uri} ${network}`, 5_000, async () => {
    using net = await lookupNetwork(connection, network);
    return await net.xmlDesc();
  });
}

/** A network's DHCP host reservations by MAC, shared for 5 s (they change with the network's XML). */
export async function networkReservations(
  connection: Connection,
  network: string,
): Promise<Map<string, string[]>> {
  return reservationsOf(await networkXml(connection, network));
}

/** A network's subnets ("10.66.1.0/24"), from its XML's `<ip>` elements, shared for 5 s. */
export async function networkSubnets(connection: Connection, network: string): Promise<string[]> {
  return subnetsOf(await networkXml(connection, network));
}

/** Forgets everything remembered (tests). */
export function forgetNetworkFacts(): void {
  memo.clear();
}
