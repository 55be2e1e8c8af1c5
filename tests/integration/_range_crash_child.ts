// A child process for range_crash_test.ts: `up` that stops dead half-way (the parent SIGKILLs it
// while it waits at the Nth step of a phase), or `down` in a fresh process, printing what it removed.
//
//   deno run ... _range_crash_child.ts up   <description.json> <phase> <n>
//   deno run ... _range_crash_child.ts down <description.json>
import { PoolRegistry } from "../../lib/pool.ts";
import { validateRange } from "../../lib/range/description.ts";
import { downRange } from "../../lib/range/down.ts";
import { upRange } from "../../lib/range/up.ts";

const [mode, file, phase, nth] = Deno.args;
const range = validateRange(JSON.parse(await Deno.readTextFile(file)));
const pools = new PoolRegistry({ max: 2 });
if (mode === "up") {
  let seen = 0;
  await upRange(range, pools, {
    concurrency: 1,
    waitForAddresses: false,
    beforeAction: async (action) => {
      if (action.phase !== phase || action.target.startsWith("start ")) return;
      if (++seen < Number(nth)) return;
      console.log(`HALFWAY ${action.phase} ${action.target}`);
      setInterval(() => {}, 60_000); // keeps the process alive: the parent kills it here
      await new Promise(() => {});
    },
  });
  console.log("NOT KILLED");
} else {
  const result = await downRange(range, pools);
  console.log(JSON.stringify({ removed: result.removed, kept: result.kept }));
}
await pools.closeAll();
