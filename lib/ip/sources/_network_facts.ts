// What discovery reads from a libvirt network is the same for every domain on it: its DHCP leases
// and its reservations. A range discovery asks for hundreds of domains at once, so each network is
// read once per short window and shared (failures too: a driver without leases says so once).
import type { Connection } from "../../connection.ts";
import { type DhcpLease, dhcpLeases, lookupNetwork } from "../../network.ts";
import { reservationsOf } from "./plan.ts";

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
    return await dhcpLeases(net);
  });
}

/** A network's DHCP host reservations by MAC, shared for 5 s (they change with the network's XML). */
export function networkReservations(connection: Connection, network: string): Promise<Map<string, string[]>> {
  return remember(`reservations ${connection.uri} ${network}`, 5_000, async () => {
    using net = await lookupNetwork(connection, network);
    return reservationsOf(await net.xmlDesc());
  });
}

/** Forgets everything remembered (tests). */
export function forgetNetworkFacts(): void {
  memo.clear();
}
