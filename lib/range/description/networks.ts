/**
 * @internal The `networks` section: names, modes, subnets (strictly parsed), DHCP pools, reservations
 * and bridges.
 *
 * @module
 */
import { broadcast, type Checker, type Cidr, contains, ipText, type Obj, type Path } from "./checker.ts";
import type { NetworkSpec, ReservationSpec } from "./types.ts";

/** A validated network with what later sections check against. */
export interface CheckedNetwork {
  spec: NetworkSpec;
  cidr: Cidr;
  /** Its position in the description (networks are created in this order). */
  index: number;
}

/** What the networks section leaves for the guests section. */
export interface CheckedNetworks {
  networks: Map<string, CheckedNetwork>;
  /** "network/address" -> the reservation's field. */
  reservedAddresses: Map<string, Path>;
  /** "network/mac" -> the reservation's field. */
  reservedMacs: Map<string, Path>;
}

const BRIDGE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

function checkDhcp(c: Checker, value: unknown, p: Path, cidr: Cidr | undefined): NetworkSpec["dhcp"] {
  const d = c.object(value, [...p, "dhcp"], ["start", "end"], ["start", "end"]);
  if (!d) return undefined;
  const start = c.ipv4(d.start, [...p, "dhcp", "start"]);
  const end = c.ipv4(d.end, [...p, "dhcp", "end"]);
  if (start === undefined || end === undefined) return undefined;
  const problems = c.issues.length + c.omitted;
  if (cidr && !contains(cidr, start)) {
    c.add([...p, "dhcp", "start"], `${ipText(start)} is outside the subnet ${cidr.text}`);
  } else if (cidr && !contains(cidr, end)) {
    c.add([...p, "dhcp", "end"], `${ipText(end)} is outside the subnet ${cidr.text}`);
  } else if (start > end) {
    c.add([...p, "dhcp", "end"], `${ipText(end)} comes before the start ${ipText(start)}`);
  } else if (cidr && start <= cidr.base + 1n) {
    c.add([...p, "dhcp", "start"], `${ipText(start)} is the network address or the gateway`);
  } else if (cidr && end >= broadcast(cidr)) {
    c.add(
      [...p, "dhcp", "end"],
      `${ipText(end)} is the broadcast address of ${cidr.text}: end the pool at ${
        ipText(broadcast(cidr) - 1n)
      }`,
    );
  }
  return c.issues.length + c.omitted > problems ? undefined : { start: ipText(start), end: ipText(end) };
}

function checkReservations(
  c: Checker,
  o: Obj,
  p: Path,
  netName: string | undefined,
  cidr: Cidr | undefined,
  out: CheckedNetworks,
): ReservationSpec[] {
  const reservations: ReservationSpec[] = [];
  c.list(o.reservations, [...p, "reservations"], false).forEach((r, j) => {
    const rp: Path = [...p, "reservations", j];
    const ro = c.object(r, rp, ["mac", "address", "name"], ["mac", "address"]);
    if (!ro) return;
    const mac = c.mac(ro.mac, [...rp, "mac"]);
    const address = c.ipv4(ro.address, [...rp, "address"]);
    const hostName = ro.name === undefined ? undefined : c.hostName(ro.name, [...rp, "name"]);
    if (address !== undefined && cidr) {
      if (!contains(cidr, address)) {
        c.add(
          [...rp, "address"],
          `${ipText(address)} is outside the subnet ${cidr.text} of network ${netName}`,
        );
        return;
      }
      if (address <= cidr.base + 1n || address === broadcast(cidr)) {
        c.add(
          [...rp, "address"],
          `${ipText(address)} is the network address, the gateway or the broadcast address of ${cidr.text}`,
        );
        return;
      }
    }
    if (mac === undefined || address === undefined || (ro.name !== undefined && hostName === undefined)) {
      return;
    }
    reservations.push({ mac, address: ipText(address), ...(hostName ? { name: hostName } : {}) });
    const addressKey = `${netName}/${ipText(address)}`;
    if (out.reservedAddresses.has(addressKey)) {
      c.add([...rp, "address"], `${ipText(address)} is reserved twice on ${netName}`);
    } else out.reservedAddresses.set(addressKey, rp);
    const macKey = `${netName}/${mac}`;
    if (out.reservedMacs.has(macKey)) c.add([...rp, "mac"], `MAC ${mac} is reserved twice on ${netName}`);
    else out.reservedMacs.set(macKey, [...rp, "mac"]);
  });
  return reservations;
}

function checkNetwork(c: Checker, n: unknown, i: number, out: CheckedNetworks): void {
  const p: Path = ["networks", i];
  const o = c.object(n, p, ["name", "mode", "subnet", "dhcp", "reservations", "bridge", "external"], [
    "name",
    "mode",
    "subnet",
  ]);
  if (!o) return;
  const netName = c.name(o.name, [...p, "name"], "network name");
  const mode = c.oneOf(o.mode, [...p, "mode"], ["nat", "isolated"] as const);
  const cidr = c.cidr(o.subnet, [...p, "subnet"]);
  let bridge: string | undefined;
  if (o.bridge !== undefined) {
    bridge = c.string(o.bridge, [...p, "bridge"]);
    if (bridge !== undefined && !BRIDGE.test(bridge)) {
      c.add(
        [...p, "bridge"],
        `${
          c.q(bridge)
        } is not a bridge name: 1-15 letters, digits, "_", "-" or ".", starting with a letter or digit`,
      );
      bridge = undefined;
    }
  }
  const external = c.boolean(o.external, [...p, "external"]);
  const dhcp = o.dhcp === undefined ? undefined : checkDhcp(c, o.dhcp, p, cidr);
  const reservations = checkReservations(c, o, p, netName, cidr, out);
  if (netName === undefined || cidr === undefined || mode === undefined) return;
  if (out.networks.has(netName)) {
    c.add([...p, "name"], `duplicate network name ${c.q(netName)}`);
    return;
  }
  for (const [other, { cidr: oc }] of out.networks) {
    if (contains(oc, cidr.base) || contains(cidr, oc.base)) {
      c.add([...p, "subnet"], `${cidr.text} overlaps ${oc.text} of network ${c.q(other)}`);
    }
  }
  out.networks.set(netName, {
    spec: {
      name: netName,
      mode,
      subnet: cidr.text,
      ...(dhcp ? { dhcp } : {}),
      reservations,
      ...(bridge !== undefined ? { bridge } : {}),
      ...(external === true ? { external: true } : {}),
    },
    cidr,
    index: i,
  });
}

/** The networks section. */
export function checkNetworks(c: Checker, root: Obj): CheckedNetworks {
  const out: CheckedNetworks = { networks: new Map(), reservedAddresses: new Map(), reservedMacs: new Map() };
  c.list(root.networks, ["networks"], false).forEach((n, i) => checkNetwork(c, n, i, out));
  return out;
}
