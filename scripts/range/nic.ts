// range.ts nic FILE GUEST NIC --cable down|up | --unplug, and nic FILE GUEST NETWORK --plug: exercise
// actions on a running guest's NICs.
import { attachNic, detachNic, setNicLink } from "../../lib/domain_nic.ts";
import { lookupDomain } from "../../lib/objects/domain_lookup.ts";
import type { RangeCommandContext, RangeCommandResult } from "./_context.ts";

/**
 * Pulls or plugs back a NIC's cable, unplugs a NIC, or hot-plugs a new one, and says what it did.
 *
 * @param context the checked command line (GUEST, NIC or NETWORK, the action, --mac) and the range
 * @returns exit 0 and the NIC's new state
 * @throws {Error} when GUEST is not a guest of the range, naming its guests
 */
export async function run(context: RangeCommandContext): Promise<RangeCommandResult> {
  const { range, registry, values, positionals, json, timeoutMs } = context;
  const [, , guestRef, nicRef] = positionals;
  const guest = range.guests.find((g) => g.name === guestRef || g.name === `${range.name}-${guestRef}`);
  if (!guest) {
    throw new Error(
      `Cannot find guest ${JSON.stringify(guestRef)} in range ${range.name}: its guests are ${
        range.guests.slice(0, 8).map((g) => g.name.slice(range.name.length + 1)).join(", ")
      }${range.guests.length > 8 ? ", ..." : ""}`,
    );
  }
  const output = await registry.get(guest.uri).use(async (conn) => {
    using dom = await lookupDomain(conn, guest.name);
    if (values.plug) {
      return await attachNic(dom, {
        network: nicRef,
        ...(values.mac ? { mac: values.mac as string } : {}),
      }, { timeoutMs });
    }
    if (values.unplug) return await detachNic(dom, nicRef, { timeoutMs });
    return await setNicLink(dom, nicRef, values.cable as "up" | "down");
  });
  if (!json) {
    const r = output as { mac: string; target?: string; state?: string; waitedMs?: number };
    const what = values.plug
      ? `plugged in NIC ${r.mac} on ${nicRef}${r.target ? ` (${r.target})` : ""}`
      : values.unplug
      ? `unplugged NIC ${r.mac} (released in ${r.waitedMs} ms)`
      : `cable of NIC ${r.mac}${r.target ? ` (${r.target})` : ""} ${
        r.state === "down" ? "pulled" : "plugged back"
      }`;
    console.log(`${guest.name}: ${what}`);
  }
  return { exit: 0, output };
}
