// Process exit with libvirt's event loop: a script that ends right after one call crashed natively at
// exit in 1-2% of runs (heap corruption, SIGSEGV/SIGABRT) while the loop's worker isolate was torn down
// during the main thread's exit(). The fix (lib/_event_loop_worker.ts#workerRun): the stopped worker
// parks in a futex instead of ending. docs/design.md, "Stopping the event loop".
import assert from "node:assert/strict";
import { denoChildArgs, runDeno } from "./_helpers.ts";

const script = new URL("./fixtures/exit_crash.ts", import.meta.url).pathname;
const linux = Deno.build.os === "linux";

function run(...args: string[]) {
  return runDeno(denoChildArgs("run", "--allow-all", script, "test:///default", ...args));
}

Deno.test({
  name: "exit: once the loop stopped at unload, its worker thread sleeps in a futex, not tearing down",
  ignore: !linux, // the probe reads /proc/self/task
  fn: async () => {
    // deterministic, unlike the crash: before the fix the worker went back to its event loop
    // (epoll_wait) and was torn down while the process exited
    for (const close of ["close", "noclose"]) {
      const { code, stdout, stderr } = await run("loop", close, "pool", "probe");
      assert.equal(code, 0, stderr);
      assert.deepEqual(stdout.trim().split("\n"), ["ok", "parked"], `${close}: ${stdout}${stderr}`);
    }
  },
});

Deno.test("exit: 32 processes that end right after one call all exit 0, with and without the loop", async () => {
  const modes: string[][] = [];
  for (const loop of ["loop", "noloop"]) {
    for (const close of ["close", "noclose"]) {
      for (const kind of ["pool", "conn"]) modes.push([loop, close, kind]);
    }
  }
  const failures: string[] = [];
  const RUNS = 32, BATCH = 8;
  for (let start = 0; start < RUNS; start += BATCH) {
    await Promise.all(Array.from({ length: BATCH }, async (_, i) => {
      const mode = modes[(start + i) % modes.length];
      const { code, stdout, stderr } = await run(...mode);
      if (code !== 0 || stdout.trim() !== "ok" || stderr !== "") {
        failures.push(
          `${mode.join(" ")}: exit ${code}, stdout ${JSON.stringify(stdout)}, stderr ${stderr.slice(-400)}`,
        );
      }
    }));
  }
  assert.deepEqual(failures, [], `${failures.length} of ${RUNS} exits failed`);
});
