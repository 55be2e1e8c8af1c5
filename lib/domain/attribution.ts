// How the lifecycle operations (./lifecycle.ts, ./shutdown.ts) word their errors: in the operation's
// words (`start domain "web1"`, not the one-call method's `call virDomainCreateWithFlags on ...`), with
// the drivers' different wordings of "invalid in this state" mapped to one class.
import { phrase, reattribute } from "../_handle.ts";
import { ErrorCode, ErrorDomain } from "../error_codes.ts";
import { ConnectionLostError, LibvirtError, libvirtErrorFrom, OperationInvalidError } from "../errors.ts";
import type { Domain } from "../objects/domain.ts";

function operationOf(domain: Domain, verb: string): string {
  return phrase(verb, `domain ${JSON.stringify(domain.name)}`);
}

/** @internal An OperationInvalidError in libvirt's words, raised before libvirt is asked. */
export function invalid(domain: Domain, verb: string, why: string): OperationInvalidError {
  return new OperationInvalidError(operationOf(domain, verb), {
    code: ErrorCode.OPERATION_INVALID,
    domain: ErrorDomain.DOM,
    level: 2,
    message: `Requested operation is not valid: ${why}`,
  });
}

const stateRace =
  /already (running|active)|is not running|not running|not paused|is not active|domain is not paused/i;

/**
 * @internal Re-attributes an error to the lifecycle operation (a failed state read says "start", not
 * "get the state of"), and maps the drivers' different words for "invalid in this state" to one class.
 */
export function attribute_(error: unknown, domain: Domain, verb: string): unknown {
  if (error instanceof TypeError) return reattribute(error, operationOf(domain, verb)); // a gate refusal
  if (!(error instanceof LibvirtError)) return error;
  const operation = operationOf(domain, verb);
  const details = {
    code: error.code,
    domain: error.domain,
    level: error.level,
    message: error.libvirtMessage,
  };
  if (error.code === ErrorCode.INTERNAL_ERROR && stateRace.test(error.libvirtMessage)) {
    return new OperationInvalidError(operation, { ...details, code: ErrorCode.OPERATION_INVALID }, {
      cause: error,
    });
  }
  if (error.operation === operation) return error;
  if (error instanceof ConnectionLostError) {
    return new ConnectionLostError(operation, details, {
      cause: error,
      outcomeUnknown: error.outcomeUnknown,
    });
  }
  return libvirtErrorFrom(operation, details);
}
