/**
 * `upRange`'s network phase: each non-external network of the plan defined and started, or kept (its
 * DHCP hosts brought in line, live).
 *
 * @module
 */
import { defineNetwork, lookupNetwork } from "../../network.ts";
import { networkXml } from "../_libvirt.ts";
import { rangeDhcpHosts, syncDhcpHosts } from "../network_live.ts";
import type { UpContext } from "./context.ts";

/** @internal The network phase (per host, in description order). */
export async function upNetworks(c: UpContext): Promise<void> {
  const { range, plan, steps, pool, stepName, created, limit } = c;
  // networks (per host, in description order)
  const networkWork = plan.items.filter((i) =>
    i.kind === "network" && !(range.description.networks ?? []).find((n) => n.name === i.name)?.external
  );
  await steps.phase("network", networkWork, (i) => ({ target: i.name, host: i.host }), async (i) => {
    const spec = range.description.networks!.find((n) => n.name === i.name)!;
    return await pool(i.host).use(async (conn) => {
      if (i.action === "create") {
        await steps.act("network", i.name, i.host);
        using network = await defineNetwork(conn, networkXml(range, spec, i.host));
        steps.mark(stepName(i));
        created.push(`network ${JSON.stringify(i.name)} on ${i.host}`);
        await network.create();
        return "created";
      }
      using network = await lookupNetwork(conn, i.name);
      // a guest (or reservation) added to the description: its DHCP entry goes into the network
      // that exists, live, without restarting it (lib/range/network_live.ts)
      if (spec.dhcp) {
        const sync = await syncDhcpHosts(network, rangeDhcpHosts(range, spec, i.host));
        for (const h of sync.added) {
          created.push(`dhcp host ${h.mac} ${h.ip} on network ${JSON.stringify(i.name)} on ${i.host}`);
        }
      }
      if (!(await network.isActive())) await network.create();
      return "kept";
    });
  }, limit);
}
