// The XML parser, pinned, apart from lib/_deps.ts so that a module needing only XML does not load
// the YAML package too (a one-shot script such as scripts/vm_ip.ts pays for every module it loads).

export { XMLParser } from "npm:fast-xml-parser@5.12.1";
