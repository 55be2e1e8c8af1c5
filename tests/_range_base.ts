// The base range description the range-description tests edit (tests/range_description_test.ts and
// tests/range_description_strict_test.ts): two hosts, a NAT and an isolated network, one base image, and
// a guest with two instances. The tests name fields by the line they are on: keep the lines where they are.
export const base: string = `name: lab
hosts:
  - id: h1
    uri: "test:///default"
  - id: h2
    uri: "test:///default"
storage:
  pool: default-pool
networks:
  - name: lab-a
    mode: nat
    subnet: 10.1.0.0/24
    dhcp: { start: 10.1.0.100, end: 10.1.0.200 }
  - name: lab-b
    mode: isolated
    subnet: 10.2.0.0/24
baseImages:
  - id: deb
    path: /images/deb.qcow2
guests:
  - id: web
    baseImage: deb
    memory: 128
    count: 2
    host: h1
    nics:
      - { network: lab-a, address: 10.1.0.10 }
      - { network: lab-b }
`;
