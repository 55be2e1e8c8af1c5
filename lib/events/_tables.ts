// The event tables the worker and the decoders read: ids, callback signatures, registration calls, enums
// and struct layouts. Switching their source (to the generated tables under lib/ffi/_generated/, once they
// carry callback signatures) is this one import.
export {
  eventArgFfiTypes,
  eventCallbackSignatures,
  eventEnums,
  eventFamilies,
  eventIds,
  eventStructLayouts,
  memoryFailureFlags,
} from "../ffi/symbols_event.ts";
export type { EventArgType, EventCallbackName, EventFamily, EventIdEntry } from "../ffi/symbols_event.ts";
