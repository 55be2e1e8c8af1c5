// The XML parser, pinned, apart from lib/_deps.ts so that a module needing only XML does not load
// the YAML package too. The library itself no longer loads it (lib/xml.ts reads libvirt's documents,
// domain metadata included): the generator reads libvirt-api.xml with it, and tests compare with it.

export { XMLParser } from "npm:fast-xml-parser@5.12.1";
