// The connection's option and report types (what an open takes, what a close gives back), apart from
// the class: they are what a caller reads first, and lib/connection/_open.ts decides on OpenOptions
// without importing the class (which imports it: a cycle otherwise).
import type { AuthOptions } from "./auth.ts";

/** Options for {@link Connection.open}. */
export interface OpenOptions {
  /** Open read-only (`VIR_CONNECT_RO`): allowed to non-admin users, refuses changes and guest-agent calls. */
  readOnly?: boolean;
  /** Credentials for URIs that ask for them. */
  auth?: AuthOptions;
  /**
   * Keepalive for remote connections: a ping every `interval` seconds, the connection declared dead
   * after `count` unanswered ones. Default `{ interval: 5, count: 5 }` while the event loop runs
   * (see setEventLoopEnabled); false disables it. Ignored by drivers without keepalive (the in-process
   * test driver).
   */
  keepAlive?: { interval: number; count: number } | false;
  /**
   * Whether this connection rides on libvirt's event loop (one worker thread per process, started at
   * the first open that wants it). libvirt attaches a connection to the loop only while it opens, and
   * only when the loop runs by then, so the choice is made here:
   *
   * - `true` (the default of `Connection.open`): start the loop before opening, as libvirt-python
   *   does after `virEventRegisterDefaultImpl()`. The connection then has keepalive (remote URIs),
   *   notices a dead socket without a call, and serves nonblocking streams and consoles.
   * - `"auto"` (the default of {@link ConnectionPool} and {@link PoolRegistry}): the loop for remote
   *   transports (`+tcp`, `+tls`, `+ssh`, `+libssh`, `+libssh2`, `+ext`, or a host without a
   *   transport), where keepalive is what tells a silent peer from a slow one; none for local URIs
   *   (`qemu:///system`, `test+unix:///default`, in-process drivers), where a dead daemon is an EOF
   *   on the next call and the loop would only cost two wakeups of its thread per call. An explicit
   *   `keepAlive` asks for the loop too.
   * - `false`: never start it (saves the worker's start, ~25 ms idle, 80-100 ms on a loaded machine).
   *
   * The loop is process-wide and, once started, stays for the life of the process. So without `true`,
   * a loop some other part of the process started already is still used: libvirt attaches every
   * connection opened while it runs. One `Connection.open(uri)` with the default options starts it (as
   * does an event subscription: lib/events.ts opens a connection of its own), and from then on pools
   * (`"auto"`) and lean connections (`false`) opened in the same process ride on it too: keepalive on
   * remote URIs, event dispatch and close detection on its thread, the loop's wakeups per remote call. {@link Connection.eventLoop} tells which way it went. A
   * connection without the loop makes blocking streams (uploads, downloads) and refuses nonblocking
   * ones and consoles with a TypeError that names this option.
   */
  eventLoop?: boolean | "auto";
  /**
   * Run this connection's calls on the calling thread instead of Deno's blocking pool: no thread hop
   * per call (~20-60 µs each over a local socket). Each call then blocks the isolate (timers, other
   * connections) until libvirt answers, and calls on this connection run one at a time anyway: for
   * sequential scripts on an in-process driver or a local socket. Not for pools, remote URIs or
   * servers. Default false.
   */
  blocking?: boolean;
}

/** A libvirt or hypervisor version. */
export interface Version {
  /** The major version: 9 in "9.0.0". */
  major: number;
  /** The minor version: 0 in "9.0.0". */
  minor: number;
  /** The release (micro) number: the last 0 in "9.0.0". */
  release: number;
  /** libvirt's encoding: major * 1,000,000 + minor * 1,000 + release. */
  number: number;
  /** "9.0.0" */
  text: string;
}

/** What {@link Connection.close} found. */
export interface CloseReport {
  /** libvirt's remaining reference count after the close: 0 means nothing of this connection leaked. */
  remainingReferences: number;
  /** Handles (domains, ...) still open at close, which the close freed. */
  freedHandles: number;
}

/** Something a connection frees when it closes (domain handles and the like). */
export interface ConnectionChild {
  /** Releases the child's libvirt reference; a second call does nothing. */
  free(): void;
}
