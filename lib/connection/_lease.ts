// A pool lease's hold on a connection, as the Connection class keeps it for a lease's view (see
// leaseView in lib/connection.ts): the state a release flips and the errors a view gives once its lease
// ended or when a shared view is asked to close. Apart from the class so its open/close/call paths
// read as the checks they make.

/** A pool lease's hold on a connection: `released` turns every call through the view away. */
export interface LeaseState {
  released: boolean;
  /** The shared view handles made through any lease belong to: never released, cannot close. */
  shared?: true;
}

/** The error of a call (or close) through a lease's view after the lease was released. */
export function releasedError(operation: string): TypeError {
  return new TypeError(`Cannot ${operation}: the lease on this connection was released`);
}

/** The error of closing the shared view the handles made through any lease belong to. */
export function sharedCloseError(uri: string): TypeError {
  return new TypeError(
    `Cannot close the connection to ${
      JSON.stringify(uri)
    }: it belongs to a ConnectionPool (handles made in a lease keep using it); close the pool instead`,
  );
}
