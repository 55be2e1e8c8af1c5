/**
 * @internal A CyRIS clone host's `topology`: its networks, their `members` and `gateway`, and each
 * guest's NICs by interface number, with every member located at its own column in the file.
 *
 * @module
 */
import { type Checker, near, type Obj, type Path, pathText } from "../description/checker.ts";

const ETH = /^eth(0|[1-9][0-9]?)$/;

/** The members of a network: "a.eth0, b.eth1" or a list; each with its column in the file. */
function members(
  c: Checker,
  text: string,
  value: unknown,
  p: Path,
): { member: string; path: Path; at?: { line: number; column: number } }[] {
  if (Array.isArray(value)) {
    return value.map((m, i) => ({
      member: String(m).trim(),
      path: [...p, i],
      at: c.locate([...p, i], false),
    }));
  }
  if (typeof value !== "string") {
    c.add(p, `must be "guest.ethN" names separated by ",", got ${c.q(value)}`);
    return [];
  }
  const start = c.locate(p, false);
  const line = start ? text.split("\n")[start.line - 1] ?? "" : "";
  let from = start ? start.column - 1 : 0;
  return value.split(",").map((m) => m.trim()).filter(Boolean).map((member) => {
    const i = line.indexOf(member, from);
    if (i >= 0) from = i + member.length;
    return { member, path: p, at: start && i >= 0 ? { line: start.line, column: i + 1 } : start };
  });
}

/** An issue at a member of a "members" string, whose column is the member's own. */
export function addAt(
  c: Checker,
  path: Path,
  at: { line: number; column: number } | undefined,
  message: string,
): void {
  if (c.issues.length >= c.limits.maxIssues) return void c.omitted++;
  c.issues.push({ path: pathText(path), ...(at ?? c.locate(path, false) ?? {}), message });
}

/** "did you mean" the closest known name, else the known names. */
export function suggest(c: Checker, name: string, known: Iterable<string>): string {
  const all = [...known];
  const close = all.find((k) => near(k, name));
  return close ? `did you mean ${c.q(close)}?` : `known: ${c.known(all)}`;
}

/** Numbers where CyRIS reads text (`name: 10`, `account: 123`). */
export function text_(value: unknown): unknown {
  return typeof value === "number" ? String(value) : value;
}

/** A network of the topology. */
export interface CyrisNetwork {
  /** The CyRIS network name. */
  name: string;
  /** Where it is in the CyRIS file. */
  path: Path;
}

/** Each guest's NICs by interface number, with where each was named. */
type NicsByGuest = Map<
  string,
  Map<number, { network: string; path: Path; at?: { line: number; column: number } }>
>;

/** A network of the topology as read: its members and gateway unchecked. */
type TopologyNet = { name: string; path: Path; members: ReturnType<typeof members>; gateway?: unknown };

/** The clone host's topology (one, of type custom) and its networks, each name once. */
function topologyNetworks(c: Checker, text: string, hp: Path, topology: unknown): TopologyNet[] {
  const o: Obj = { topology };
  const topologies = o.topology === undefined ? [] : c.list(o.topology, [...hp, "topology"], false);
  if (topologies.length > 1) {
    c.add([...hp, "topology", 1], "CyRIS reads one topology per host: merge its networks into the first");
  }
  const topo = topologies.length > 0
    ? c.object(topologies[0], [...hp, "topology", 0], ["type", "networks"], ["networks"])
    : undefined;
  if (topo && topo.type !== undefined && topo.type !== "custom") {
    c.add([...hp, "topology", 0, "type"], `type ${c.q(topo.type)} is refused: CyRIS defines only "custom"`);
  }
  const nets: TopologyNet[] = [];
  const netNames = new Set<string>();
  (topo ? c.list(topo.networks, [...hp, "topology", 0, "networks"], true, "network") : []).forEach(
    (n, ni) => {
      const np = [...hp, "topology", 0, "networks", ni];
      const no = c.object(n, np, ["name", "members", "gateway"], ["name", "members"]);
      if (!no) return;
      const netName = c.name(text_(no.name), [...np, "name"], "network name");
      if (netName === undefined) return;
      if (netNames.has(netName)) return c.add([...np, "name"], `duplicate network ${c.q(netName)}`);
      netNames.add(netName);
      const list = members(c, text, no.members, [...np, "members"]);
      nets.push({ name: netName, path: np, members: list, gateway: no.gateway });
    },
  );
  return nets;
}

/** Puts a guest's interface (a member or gateway "guest.ethN") on network `network`, or records why not. */
function attachMember(
  c: Checker,
  cloneGuests: Map<string, unknown>,
  nics: NicsByGuest,
  network: string,
  member: string,
  path: Path,
  at: { line: number; column: number } | undefined,
  what: string,
): void {
  const [gid, ifc, ...rest] = member.split(".");
  if (!cloneGuests.has(gid)) {
    return addAt(
      c,
      path,
      at,
      `${what} ${c.q(member)}: unknown guest ${c.q(gid)} (not in this host's guests: ${
        suggest(c, gid, cloneGuests.keys())
      })`,
    );
  }
  const m = ifc === undefined || rest.length > 0 ? null : ETH.exec(ifc);
  if (!m) {
    return addAt(
      c,
      path,
      at,
      `${what} ${c.q(member)}: write the interface as guest.ethN, e.g. "${gid}.eth0"`,
    );
  }
  const eth = Number(m[1]);
  const byEth = nics.get(gid) ?? new Map();
  const other = byEth.get(eth);
  if (other && other.network !== network) {
    return addAt(
      c,
      path,
      at,
      `${what} ${c.q(member)}: ${gid}.eth${eth} is on network ${c.q(other.network)} already`,
    );
  }
  if (!other) byEth.set(eth, { network, path, at });
  nics.set(gid, byEth);
}

/**
 * Checks a clone host's topology and assigns each guest's interfaces to networks.
 *
 * @returns the networks, and per guest id its NICs by interface number (eth0, eth1, ... without gaps
 *   when no problem was recorded)
 */
export function cyrisTopology(
  c: Checker,
  text: string,
  hp: Path,
  topology: unknown,
  cloneGuests: Map<string, unknown>,
  hostIds: Map<string, unknown>,
  notes: string[],
): { nets: CyrisNetwork[]; nics: Map<string, Map<number, { network: string }>> } {
  const nics: NicsByGuest = new Map();
  const nets = topologyNetworks(c, text, hp, topology);
  for (const net of nets) {
    const attach = (member: string, path: Path, at?: { line: number; column: number }, what = "member") =>
      attachMember(c, cloneGuests, nics, net.name, member, path, at, what);
    for (const m of net.members) attach(m.member, m.path, m.at);
    if (net.gateway !== undefined) {
      const gw = c.string(net.gateway, [...net.path, "gateway"]);
      const gid = gw?.split(".")[0];
      if (gw !== undefined && gid !== undefined && cloneGuests.has(gid)) {
        attach(gw, [...net.path, "gateway"], undefined, "gateway");
        notes.push(
          `network ${net.name}: gateway ${gw} is a guest: its NIC joins the network; DHCP still names the ` +
            "host as the router, so set the guests' routes with an execute_program task",
        );
      } else if (gw !== undefined && gid !== undefined && hostIds.has(gid)) {
        notes.push(`network ${net.name}: gateway ${gw} becomes the host's address on the network`);
      } else if (gw !== undefined) {
        c.add(
          [...net.path, "gateway"],
          `${c.q(gw)} names neither a guest of this host nor a host (guest.ethN or host.ethN): ${
            suggest(c, gid ?? gw, [...cloneGuests.keys(), ...hostIds.keys()])
          }`,
        );
      }
    }
  }
  // each guest's interfaces must be eth0, eth1, ... without gaps: ethN is its (N+1)th NIC
  for (const [gid, byEth] of nics) {
    const have = [...byEth.keys()].sort((a, b) => a - b);
    have.forEach((eth, i) => {
      if (eth === i) return;
      const at = byEth.get(eth)!;
      addAt(
        c,
        at.path,
        at.at,
        `${gid}.eth${eth}: ${gid} has ${i} interface(s) before it here (${
          have.slice(0, i).map((e) => `eth${e}`).join(", ") || "none"
        }), so eth${eth} would be its NIC number ${i + 1}: name its interfaces eth0, eth1, ... without gaps`,
      );
    });
  }
  return { nets, nics };
}
