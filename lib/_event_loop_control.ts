// The event loop's shared control buffer layout, in a module of its own: the main thread needs it from
// the first open, the worker module (large: it embeds the event tables) only when a loop starts.

/**
 * Where the worker and the main thread meet in the shared control buffer (Int32 slots): `stop` the main
 * thread asks the loop to stop, `posted` counts the commands it posted (the worker compares it with the
 * commands it handled), `left` is set by the worker once its loop has left libvirt for good, and
 * `park` is never written: the stopped worker waits on it for `parkMs` (through the process's exit).
 */
export const CONTROL = { stop: 0, posted: 1, left: 2, park: 3, bytes: 16, parkMs: 10_000 } as const;
