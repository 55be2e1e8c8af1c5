// Running commands inside a lab guest through its guest agent (guest-exec, guest-exec-status), for
// tests that check what the guest sees: its NICs' carrier, a hot-plugged NIC, which ports answer.
import { type Domain, qemuAgentCommand } from "../../mod.ts";
import { waitFor } from "./_lab.ts";

/** What a command run in the guest printed, and its exit code. */
export interface GuestExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const decode = (b64: string | undefined) =>
  b64 ? new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))) : "";

/** Waits until the guest agent answers guest-ping. */
export async function waitForAgent(dom: Domain, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    "the guest agent",
    async () => {
      await qemuAgentCommand(dom, { execute: "guest-ping" }, { timeoutMs: 2_000 });
      return true;
    },
    timeoutMs,
    500,
  );
}

/** Runs `path args...` in the guest and waits for it to exit (polling guest-exec-status). */
export async function guestExec(
  dom: Domain,
  path: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<GuestExecResult> {
  const { pid } = await qemuAgentCommand<{ pid: number }>(dom, {
    execute: "guest-exec",
    arguments: { path, arg: args, "capture-output": true },
  }, { timeoutMs: 10_000 });
  return await waitFor(
    `${path} ${args.join(" ")} to exit in the guest`,
    async () => {
      const s = await qemuAgentCommand<
        { exited: boolean; exitcode?: number; "out-data"?: string; "err-data"?: string }
      >(dom, { execute: "guest-exec-status", arguments: { pid } }, { timeoutMs: 10_000 });
      if (!s.exited) return undefined;
      return { exitCode: s.exitcode ?? -1, stdout: decode(s["out-data"]), stderr: decode(s["err-data"]) };
    },
    timeoutMs,
    200,
  );
}

/** A shell command line run by the guest's busybox sh. */
export function guestShell(dom: Domain, script: string, timeoutMs?: number): Promise<GuestExecResult> {
  return guestExec(dom, "/bin/sh", ["-c", script], timeoutMs);
}

/** The guest's interfaces as its agent reports them: name -> MAC (lower case). */
export async function guestInterfaces(dom: Domain): Promise<Map<string, string>> {
  const list = await qemuAgentCommand<{ name: string; "hardware-address"?: string }[]>(dom, {
    execute: "guest-network-get-interfaces",
  }, { timeoutMs: 10_000 });
  return new Map(list.map((i) => [i.name, (i["hardware-address"] ?? "").toLowerCase()]));
}
