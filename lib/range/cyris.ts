/**
 * Migration from CyRIS: translates a classic CyRIS range description (a YAML list of `host_settings`,
 * `guest_settings` and `clone_settings`) into ours. `clone_settings` carries the range: its
 * `range_id`, and per host the `instance_number`, the guests with their `number` of clones, and the
 * `topology` networks whose `members` name guest interfaces (`desktop.eth0`).
 *
 * What has no counterpart is reported in `notes`, never silently dropped: CyRIS `tasks` (accounts,
 * packages, ...) are for a configuration tool such as Ansible, fed from our inventory; the base VM's
 * XML file (`basevm_config_file`) becomes a base image path that must be checked.
 *
 * @example
 * ```ts
 * import { cyrisToRange } from "./cyris.ts";
 * const { description, notes } = cyrisToRange(`
 * - host_settings: [{ id: host_1, mgmt_addr: localhost, account: trainer }]
 * - guest_settings: [{ id: desktop, basevm_host: host_1, basevm_config_file: /images/desktop.xml, basevm_type: kvm }]
 * - clone_settings:
 *   - range_id: 7
 *     hosts:
 *     - host_id: host_1
 *       instance_number: 1
 *       guests: [{ guest_id: desktop, number: 2 }]
 *       topology: [{ type: custom, networks: [{ name: office, members: desktop.eth0 }] }]
 * `);
 * console.log(description.name, notes.length > 0); // "cyris7" true
 * ```
 *
 * @module
 */
import { parseYaml, toYaml, YAML_DEFAULT_LIMITS, YamlError } from "./_yaml.ts";
import type { GuestSpec, NetworkSpec, RangeDescription } from "./description.ts";

/** Options for {@link cyrisToRange}. */
export interface CyrisOptions {
  /** libvirt URI per CyRIS host id; default `qemu:///system` for localhost, else `qemu+ssh://account@mgmt_addr/system`. */
  uris?: Record<string, string>;
  /** Base image path per CyRIS guest id; default: `basevm_config_file` with `.xml` replaced by `.qcow2`. */
  images?: Record<string, string>;
  /** The storage pool for the overlays. Default "default". */
  pool?: string;
  /** Memory of each guest, MiB. Default 1024. */
  memoryMiB?: number;
  /** The first two octets of the generated /24 subnets. Default "10.200". */
  subnetPrefix?: string;
}

/** What {@link cyrisToRange} made. */
export interface CyrisTranslation {
  /** Our description, ready for validateRange / the YAML below. */
  description: RangeDescription;
  /** The same as YAML text, for parseRangeDescription (line numbers then refer to it). */
  yaml: string;
  /** What was translated approximately or left out, and why. */
  notes: string[];
}

type Obj = Record<string, unknown>;

function section(doc: unknown, key: string): Obj[] {
  const list = Array.isArray(doc) ? doc : [doc];
  for (const entry of list) {
    if (entry && typeof entry === "object" && key in (entry as Obj)) {
      const value = (entry as Obj)[key];
      return Array.isArray(value) ? value as Obj[] : [value as Obj];
    }
  }
  return [];
}

const ansibleGroup = (text: string) => {
  const name = text.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 63);
  return /^[A-Za-z_]/.test(name) ? name : `_${name}`.slice(0, 63);
};

const safe = (text: string) => text.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\./, "_");

/**
 * Translates a CyRIS description into a range description.
 *
 * @param text the CyRIS YAML
 * @param options URIs, image paths, pool, memory, subnets
 * @returns the description (object and YAML) and notes on what did not translate one to one
 * @throws {TypeError} when the text has no `clone_settings` or names hosts or guests it does not define
 */
export function cyrisToRange(text: string, options: CyrisOptions = {}): CyrisTranslation {
  let doc: unknown;
  try {
    doc = parseYaml(text, YAML_DEFAULT_LIMITS).value;
  } catch (error) {
    if (!(error instanceof YamlError)) throw error;
    throw new TypeError(
      `Cannot translate the CyRIS description: line ${error.line}, column ${error.column}: ${error.message}`,
    );
  }
  const notes: string[] = [];
  const hostSettings = section(doc, "host_settings");
  const guestSettings = section(doc, "guest_settings");
  const clone = section(doc, "clone_settings")[0];
  if (!clone) throw new TypeError("Cannot translate the CyRIS description: it has no clone_settings");
  const name = safe(`cyris${String(clone.range_id ?? "")}`).replace(/\./g, "_").slice(0, 32);

  const hosts = hostSettings.map((h) => {
    const id = safe(String(h.id));
    const mgmt = String(h.mgmt_addr ?? "localhost");
    const uri = options.uris?.[String(h.id)] ??
      (mgmt === "localhost" || mgmt === "127.0.0.1"
        ? "qemu:///system"
        : `qemu+ssh://${h.account ? `${h.account}@` : ""}${mgmt}/system`);
    if (h.virbr_addr) {
      notes.push(`host ${id}: virbr_addr ${h.virbr_addr} is not used: each network has its own gateway`);
    }
    return { id, uri };
  });
  const baseImages = guestSettings.map((g) => {
    const id = safe(String(g.id));
    const given = options.images?.[String(g.id)];
    const path = given ??
      String(g.basevm_config_file ?? `/var/lib/libvirt/images/${id}.xml`).replace(/\.xml$/, ".qcow2");
    if (!given) {
      notes.push(
        `guest ${id}: basevm_config_file ${
          JSON.stringify(g.basevm_config_file)
        } is a domain XML; its disk is assumed at ${JSON.stringify(path)} (pass images to override)`,
      );
    }
    if (g.tasks) notes.push(`guest ${id}: tasks are not translated: run them with Ansible on the inventory`);
    if (g.basevm_type && g.basevm_type !== "kvm") {
      notes.push(`guest ${id}: basevm_type ${g.basevm_type} is not supported; kvm assumed`);
    }
    return { id, path, format: "qcow2" };
  });
  const known = new Set(guestSettings.map((g) => String(g.id)));
  const networks: NetworkSpec[] = [];
  const guests: GuestSpec[] = [];
  const prefix = options.subnetPrefix ?? "10.200";
  for (const host of (clone.hosts ?? []) as Obj[]) {
    const hostId = safe(String(host.host_id));
    if (!hosts.some((h) => h.id === hostId)) {
      throw new TypeError(
        `Cannot translate the CyRIS description: clone host ${
          JSON.stringify(host.host_id)
        } is not in host_settings`,
      );
    }
    const instances = Number(host.instance_number ?? 1);
    for (let k = 1; k <= instances; k++) {
      const tag = instances > 1 ? `i${k}-` : "";
      // guest id -> its NICs by ethN index
      const nicsOf = new Map<string, { eth: number; network: string }[]>();
      for (const topology of (host.topology ?? []) as Obj[]) {
        if (topology.type !== undefined && topology.type !== "custom") {
          notes.push(`topology type ${JSON.stringify(topology.type)} is treated as custom`);
        }
        for (const net of (topology.networks ?? []) as Obj[]) {
          const netName = safe(`${name}-${tag}${String(net.name)}`);
          networks.push({
            name: netName,
            mode: "isolated",
            subnet: `${prefix}.${networks.length}.0/24`,
            dhcp: {
              start: `${prefix}.${networks.length}.100`,
              end: `${prefix}.${networks.length}.250`,
            },
          });
          if (net.gateway) {
            notes.push(
              `network ${netName}: gateway ${net.gateway} becomes the host's address on the network`,
            );
          }
          const members = Array.isArray(net.members)
            ? net.members.map(String)
            : String(net.members ?? "").split(",").map((m) => m.trim()).filter(Boolean);
          for (const member of members) {
            const [guestId, ifc = "eth0"] = member.split(".");
            const eth = Number(/(\d+)$/.exec(ifc)?.[1] ?? 0);
            nicsOf.set(guestId, [...(nicsOf.get(guestId) ?? []), { eth, network: netName }]);
          }
        }
      }
      for (const g of (host.guests ?? []) as Obj[]) {
        const guestId = String(g.guest_id);
        if (!known.has(guestId)) {
          throw new TypeError(
            `Cannot translate the CyRIS description: clone guest ${
              JSON.stringify(guestId)
            } is not in guest_settings`,
          );
        }
        if (g.entry_point) {
          notes.push(
            `guest ${guestId}: entry_point is not translated: trainees reach guests by the inventory`,
          );
        }
        if (g.tasks) {
          notes.push(
            `guest ${guestId}: clone tasks are not translated: run them with Ansible on the inventory`,
          );
        }
        guests.push({
          id: safe(`${tag}${guestId}`),
          baseImage: safe(guestId),
          memory: options.memoryMiB ?? 1024,
          count: Number(g.number ?? 1),
          host: hostId,
          // Ansible groups: the guest across instances (`desktop`) and the instance (`instance_2`)
          ...(instances > 1
            ? { groups: [ansibleGroup(guestId), `instance_${k}`].filter((x, j, all) => all.indexOf(x) === j) }
            : {}),
          nics: (nicsOf.get(guestId) ?? []).sort((a, b) => a.eth - b.eth).map((n) => ({
            network: n.network,
          })),
        });
      }
    }
  }
  const description: RangeDescription = {
    name,
    hosts,
    storage: { pool: options.pool ?? "default" },
    networks,
    baseImages,
    guests,
  };
  return { description, yaml: toYaml(description), notes: [...new Set(notes)] };
}
