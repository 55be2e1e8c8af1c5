/**
 * @internal The `firewall` section: rules `{ from, to, allow }` restricting what reaches the `to`
 * guests from a source (a network of the description, a guest kind with planned addresses, or
 * `any`), checked field by field with located errors; docs/range.md describes the semantics.
 *
 * @module
 */
import type { Checker, Obj, Path } from "./checker.ts";
import type { ExpandedGuest, FirewallRuleSpec } from "./types.ts";

/** An allowed service: "tcp/22", "udp/53", "tcp/8000-8100", "icmp" or "all". */
const SERVICE = /^(?:(tcp|udp)\/([0-9]{1,5})(?:-([0-9]{1,5}))?|(icmp)|(all))$/;

/** A checked rule, with its field for errors found after expansion. */
export interface CheckedRule {
  rule: FirewallRuleSpec;
  path: Path;
}

function checkService(c: Checker, value: unknown, path: Path): string | undefined {
  const text = c.string(value, path);
  if (text === undefined) return undefined;
  const m = SERVICE.exec(text.toLowerCase());
  const fix = 'write "tcp/PORT", "udp/PORT", "tcp/FIRST-LAST" (a port range), "icmp" or "all", e.g. "tcp/22"';
  if (!m) {
    c.add(path, `${c.q(text)} is not a service: ${fix}`);
    return undefined;
  }
  if (m[4] || m[5]) return m[4] ?? m[5];
  const first = Number(m[2]);
  const last = m[3] === undefined ? first : Number(m[3]);
  for (const [port, text2] of [[first, m[2]], [last, m[3] ?? m[2]]] as const) {
    if (port < 1 || port > 65535 || (text2.length > 1 && text2.startsWith("0"))) {
      c.add(path, `${c.q(text)}: port ${text2} is not a port number from 1 to 65535 (no leading zeros)`);
      return undefined;
    }
  }
  if (last < first) {
    c.add(
      path,
      `${c.q(text)}: the range ends (${last}) before it starts (${first}): write ${m[1]}/${last}-${first}`,
    );
    return undefined;
  }
  return last === first ? `${m[1]}/${first}` : `${m[1]}/${first}-${last}`;
}

/** Resolves a rule's `from`: "any", "network:NAME", "guest:ID" or a bare name of either. */
function checkFrom(
  c: Checker,
  value: unknown,
  path: Path,
  networks: ReadonlySet<string>,
  guests: ReadonlySet<string>,
): string | undefined {
  const text = c.string(value, path);
  if (text === undefined) return undefined;
  if (text === "any") return "any";
  const known = `networks: ${c.known(networks)}; guests: ${c.known(guests)}; or "any"`;
  const prefixed = /^(network|guest):(.*)$/.exec(text);
  if (prefixed) {
    const [, kind, name] = prefixed;
    const pool = kind === "network" ? networks : guests;
    if (!pool.has(name)) {
      c.add(path, `unknown ${kind} ${c.q(name)} (${known})`);
      return undefined;
    }
    return text;
  }
  const isNetwork = networks.has(text);
  const isGuest = guests.has(text);
  if (isNetwork && isGuest) {
    c.add(
      path,
      `${c.q(text)} is both a network and a guest: write "network:${text}" or "guest:${text}"`,
    );
    return undefined;
  }
  if (!isNetwork && !isGuest) {
    c.add(path, `unknown source ${c.q(text)} (${known})`);
    return undefined;
  }
  return `${isNetwork ? "network" : "guest"}:${text}`;
}

/**
 * The firewall section, before expansion: every field checked, sources and targets resolved.
 *
 * @param c the checker
 * @param root the description
 * @param networks the names of the description's networks
 * @param guests the ids of its guest kinds
 * @returns the checked rules (normalized: `from` as "any", "network:NAME" or "guest:ID"; services
 *   in lower case)
 */
export function checkFirewall(
  c: Checker,
  root: Obj,
  networks: ReadonlySet<string>,
  guests: ReadonlySet<string>,
): CheckedRule[] {
  const rules: CheckedRule[] = [];
  const seen = new Map<string, number>();
  c.list(root.firewall, ["firewall"], false).forEach((r, i) => {
    const p: Path = ["firewall", i];
    const o = c.object(r, p, ["from", "to", "allow"], ["from", "to", "allow"]);
    if (!o) return;
    const from = checkFrom(c, o.from, [...p, "from"], networks, guests);
    let to = c.string(o.to, [...p, "to"]);
    if (to !== undefined && !guests.has(to)) {
      c.add(
        [...p, "to"],
        `unknown guest ${c.q(to)}: a rule protects the guests of one kind (known: ${c.known(guests)})`,
      );
      to = undefined;
    }
    const allow: string[] = [];
    let bad = false;
    c.list(o.allow, [...p, "allow"], false).forEach((s, j) => {
      const service = checkService(c, s, [...p, "allow", j]);
      if (service === undefined) bad = true;
      else if (!allow.includes(service)) allow.push(service);
    });
    if (from === undefined || to === undefined || bad || o.allow === undefined) return;
    if (from === `guest:${to}`) {
      c.add(
        [...p, "from"],
        `a guest kind's traffic to itself is not filtered: name another source than ${c.q(to)}`,
      );
      return;
    }
    const key = `${from}\0${to}`;
    if (seen.has(key)) {
      c.add(
        [...p, "from"],
        `a second rule from ${c.q(from)} to ${c.q(to)}: merge its allow list into firewall[${seen.get(key)}]`,
      );
      return;
    }
    seen.set(key, i);
    rules.push({ rule: { from, to, allow }, path: p });
  });
  return rules;
}

/**
 * After expansion: a guest named as a source needs a planned address on every NIC (the filter
 * matches its addresses), and a protected guest needs a NIC for the filter to sit on.
 *
 * @param c the checker
 * @param rules the checked rules
 * @param guests the expanded guests
 */
export function checkFirewallAddresses(c: Checker, rules: CheckedRule[], guests: ExpandedGuest[]): void {
  for (const { rule, path } of rules) {
    if (rule.from.startsWith("guest:")) {
      const id = rule.from.slice("guest:".length);
      const missing = guests.find((g) =>
        g.guestId === id && (g.nics.length === 0 || g.nics.some((n) => !n.address))
      );
      if (missing) {
        c.add(
          [...path, "from"],
          `guest ${c.q(id)} has ${
            missing.nics.length === 0 ? "no NIC" : "a NIC without a planned address"
          }: a rule can name a guest as its source only by its planned addresses; give each of its NICs an address, or name its network`,
        );
      }
    }
    const target = guests.find((g) => g.guestId === rule.to);
    if (target && target.nics.length === 0) {
      c.add([...path, "to"], `guest ${c.q(rule.to)} has no NIC for the firewall to filter: give it nics`);
    }
  }
}
