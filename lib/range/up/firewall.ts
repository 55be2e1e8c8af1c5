/**
 * `upRange`'s firewall phase: the range's nwfilters (lib/range/firewall.ts) defined before the domains
 * whose NICs reference them.
 *
 * @module
 */
import { escapeXml } from "../../xml.ts";
import { firewallFilters, firewallRedefinitionXml } from "../firewall.ts";
import type { UpContext } from "./context.ts";
import type { UpRecord } from "./record.ts";

/** @internal The firewall phase. */
export async function upFirewall(c: UpContext, record: UpRecord): Promise<void> {
  const { range, plan, steps, pool, stepName, created, limit } = c;
  const { ledgers, changed, saveChanged, forget } = record;
  // firewall filters (lib/range/firewall.ts), before the domains whose NICs reference them; a kept one
  // is defined again, so that a changed rule reaches the running guests (libvirt re-applies it)
  const filterWork = plan.items.filter((i) => i.kind === "nwfilter");
  try {
    await steps.phase("firewall", filterWork, (i) => ({ target: i.name, host: i.host }), async (i) => {
      // none: its guest kind lost its last rule, and the filter is emptied (plan.ts)
      const filter = firewallFilters(range, i.host).find((f) => f.name === i.name) ??
        { name: i.name, guestId: "", xml: `<filter name='${escapeXml(i.name)}' chain='root'></filter>` };
      return await pool(i.host).use(async (conn) => {
        await steps.act("firewall", i.name, i.host);
        try {
          const xml = i.action === "create" ? filter.xml : await firewallRedefinitionXml(conn, filter);
          (await conn.nwFilterDefineXml(xml)).free();
        } catch (error) {
          if (i.action === "create") await forget("nwfilter", i.name, i.host, conn);
          throw error;
        }
        if (i.action !== "create") return "kept";
        steps.mark(stepName(i));
        created.push(`nwfilter ${JSON.stringify(i.name)} on ${i.host}`);
        ledgers.get(i.host)!.get("nwfilter", i.name)!.state = "created";
        changed.add(i.host);
        return "created";
      });
    }, limit);
  } finally {
    await saveChanged();
  }
}
