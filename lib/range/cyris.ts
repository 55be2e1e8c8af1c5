/**
 * Migration from CyRIS: translates a classic CyRIS range description (a YAML list of `host_settings`,
 * `guest_settings` and `clone_settings`) into ours. `clone_settings` carries the range: its
 * `range_id`, and per host the `instance_number`, the guests with their `number` of clones, and the
 * `topology` networks whose `members` name guest interfaces (`desktop.eth0`).
 *
 * Strict, with the CyRIS file's own lines: an unknown section or field (`instance_numbr`), a bad
 * number (`number: three`), an unknown guest in `members` (`desktp.eth1`), an interface that leaves a
 * gap (`desktop.eth3` on a guest with two NICs), a YAML syntax error: each is a
 * `RangeDescriptionError` issue with the line and column in the CyRIS text.
 *
 * The base images' `tasks` become guest tasks that `range up` carries out through the guest agent
 * (add_account, modify_account, install_package, copy_content, execute_program; lib/range/tasks.ts).
 * Every other field is translated or named in a note with its value: virbr_addr, ip_addr,
 * basevm_os_type, the emulation tasks and firewall_rules (not carried out), entry_point and
 * forwarding_rules (refused, with the reason), a guest gateway (its NIC joins the network).
 *
 * @example
 * ```ts
 * import { cyrisToRange } from "@deno-libvirt/deno-libvirt/range";
 * const { description, notes } = cyrisToRange(`
 * - host_settings: [{ id: host_1, mgmt_addr: localhost, account: trainer }]
 * - guest_settings:
 *   - id: desktop
 *     basevm_host: host_1
 *     basevm_config_file: /images/desktop.xml
 *     basevm_type: kvm
 *     tasks: [{ add_account: [{ account: daniel, passwd: theAnswer }] }]
 * - clone_settings:
 *   - range_id: 7
 *     hosts:
 *     - host_id: host_1
 *       instance_number: 1
 *       guests: [{ guest_id: desktop, number: 2 }]
 *       topology: [{ type: custom, networks: [{ name: office, members: desktop.eth0 }] }]
 * `);
 * console.log(description.name, description.guests[0].tasks?.[0].type, notes.length > 0);
 * // "cyris7" "addAccount" true
 * ```
 *
 * The code lives in `./cyris/`: `translate.ts` (sections, topology, the mapping of the range
 * validator's findings back to CyRIS fields) and `tasks.ts` (the tasks).
 *
 * @module
 */
export { type CyrisOptions, cyrisToRange, type CyrisTranslation } from "./cyris/translate.ts";
