// CPU time of this process's threads, for benchmarks that report CPU per operation next to wall time
// (load from other processes stretches wall time far more than CPU time).

/** CPU time (ns) so far of the main thread and of all other threads of this process (alive now). */
export interface ThreadCpu {
  /** The main thread's (the isolate's: JavaScript, the event loop, FFI call setup). */
  main: number;
  /** Every other thread's: Deno's blocking pool (nonblocking FFI calls), libvirt's, V8's. */
  other: number;
}

/**
 * Reads /proc/self/task/<tid>/schedstat (its first field: time on CPU, ns) of every thread. Threads that
 * ended between two readings drop out of `other`: take both readings while the same threads live.
 *
 * @returns the main thread's and the other threads' CPU time so far
 */
export function threadCpu(): ThreadCpu {
  const pid = String(Deno.pid);
  let main = 0;
  let other = 0;
  for (const entry of Deno.readDirSync("/proc/self/task")) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`/proc/self/task/${entry.name}/schedstat`);
    } catch {
      continue; // the thread ended meanwhile
    }
    const ns = Number(text.split(" ")[0]);
    if (entry.name === pid) main += ns;
    else other += ns;
  }
  return { main, other };
}

/**
 * CPU time (ns) so far of every thread of process `pid` (e.g. libvirtd's), or NaN when unreadable.
 *
 * @param pid the process
 * @returns the sum over its threads of the first field of /proc/<pid>/task/<tid>/schedstat
 */
export function processCpu(pid: number): number {
  let total = 0;
  try {
    for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/schedstat`).split(" ")[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    return NaN;
  }
  return total;
}

let clock:
  | Deno.DynamicLibrary<{ clock_gettime: { parameters: ["i32", "buffer"]; result: "i32" } }>
  | undefined;
const timespec = new BigInt64Array(2);

/** The calling thread's CPU time so far (ns), clock_gettime(CLOCK_THREAD_CPUTIME_ID). */
export function threadCpuNs(): number {
  clock ??= Deno.dlopen("libc.so.6", { clock_gettime: { parameters: ["i32", "buffer"], result: "i32" } });
  clock.symbols.clock_gettime(3, timespec);
  return Number(timespec[0]) * 1e9 + Number(timespec[1]);
}
