import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cidrContains,
  classifyAddress,
  classifyBytes,
  embeddedIPv4,
  isAddressAllowed,
  isLocalhostName,
  parseCidr,
  parseCidrList,
  parseIpLiteral,
  refusedLiteralHost,
} from '../../src/domain/address-classifier.ts';

const dotted = (b: Uint8Array | null) => (b ? [...b].join('.') : null);

describe('IPv4 spellings (inet_aton / WHATWG)', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'], // decimal
    ['0x7f000001', '127.0.0.1'], // hex
    ['0X7F.0.0.1', '127.0.0.1'],
    ['0x7f.0x0.0x0.0x1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'], // octal
    ['017700000001', '127.0.0.1'],
    ['127.1', '127.0.0.1'], // short forms
    ['127.0.1', '127.0.0.1'],
    ['10.1', '10.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'], // trailing dot
    ['127.0.0.1..', '127.0.0.1'], // WHATWG leaves this as a "name"; resolvers may not
    ['0x7f.1.', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['0x', '0.0.0.0'],
    ['169.254.43518', '169.254.169.254'],
  ];
  for (const [input, want] of cases) test(input, () => assert.equal(dotted(parseIpLiteral(input)), want));
  test('not addresses: names, overflow, bad digits', () => {
    for (const s of [
      'example.com',
      '1.2.3.4.5',
      '256.0.0.1',
      '1.2.3.256',
      '4294967296',
      '08.0.0.1',
      '0x1g',
      '1..2',
      '',
    ])
      assert.equal(parseIpLiteral(s), null, s);
  });
});

describe('classification', () => {
  const cases: [string, string][] = [
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['2130706433', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['168.63.129.16', 'metadata'], // Azure WireServer: a public address only Azure VMs reach
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['192.88.99.1', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.1', 'documentation'],
    ['203.0.113.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    // IPv6
    ['2606:4700:4700::1111', 'public'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['[fe80::1%25eth0]', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001:2::1', 'benchmarking'],
    ['2001:10::1', 'reserved'],
    ['2001:20::1', 'reserved'],
    ['2001:4860:4860::8888', 'public'],
    ['100::1', 'reserved'],
    ['fd00:ec2::254', 'metadata'],
    ['fd20:ce::254', 'metadata'], // Google Cloud's IPv6 metadata server
    ['4000::1', 'reserved'], // outside 2000::/3
    ['::2', 'reserved'],
    // IPv4 inside IPv6
    ['::ffff:127.0.0.1', 'loopback'], // mapped, dotted
    ['::ffff:7f00:1', 'loopback'], // mapped, hex
    ['[::ffff:169.254.169.254]', 'metadata'],
    ['::ffff:8.8.8.8', 'public'],
    ['::127.0.0.1', 'loopback'], // compatible
    ['::10.0.0.1', 'private'],
    ['64:ff9b::7f00:1', 'loopback'], // NAT64
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::808:808', 'public'], // NAT64 to a public address
    ['64:ff9b:1::a9fe:a9fe', 'metadata'], // local-use NAT64
    ['64:ff9b:1::808:808', 'private'], // local-use NAT64 reaches the operator's network, never public
    ['2002:808:808::1', 'public'], // 6to4 of a public address
    ['2002:7f00:1::', 'loopback'], // 6to4
    ['2002:a9fe:a9fe::1', 'metadata'],
    ['2001::1', 'teredo'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
  ];
  for (const [input, want] of cases)
    test(`${input} → ${want}`, () => assert.equal(classifyAddress(input), want));
  test('malformed IPv6 is not an address', () => {
    for (const s of ['1::2::3', ':::', '12345::1', '1:2:3:4:5:6:7:8:9', '::ffff:999.0.0.1', 'g::1'])
      assert.equal(classifyAddress(s), null, s);
  });
});

describe('allowlists', () => {
  const loopback = ['127.0.0.0/8', '::1/128'].map(parseCidr);
  test('only public addresses without an allowlist', () => {
    assert.equal(isAddressAllowed('8.8.8.8', []), true);
    assert.equal(isAddressAllowed('2606:4700:4700::1111', []), true);
    for (const a of [
      '127.0.0.1',
      '::1',
      '10.0.0.1',
      '169.254.169.254',
      '::ffff:127.0.0.1',
      '2130706433',
      'example.com',
    ])
      assert.equal(isAddressAllowed(a, []), false, a);
  });
  test('CIDRs open exactly their range', () => {
    assert.equal(isAddressAllowed('127.0.0.1', loopback), true);
    assert.equal(isAddressAllowed('127.9.9.9', loopback), true);
    assert.equal(isAddressAllowed('::1', loopback), true);
    assert.equal(isAddressAllowed('10.0.0.1', loopback), false);
    assert.equal(isAddressAllowed('169.254.169.254', loopback), false);
    const net = [parseCidr('10.1.0.0/16')];
    assert.equal(isAddressAllowed('10.1.255.1', net), true);
    assert.equal(isAddressAllowed('10.2.0.1', net), false);
    assert.equal(isAddressAllowed('fd00::1', [parseCidr('fd00::/8')]), true);
    assert.equal(isAddressAllowed('fe80::1', [parseCidr('fd00::/8')]), false);
  });
  test('an IPv4-mapped address matches an IPv4 CIDR; other IPv4-carrying forms do not', () => {
    assert.equal(isAddressAllowed('::ffff:127.0.0.1', loopback), true);
    assert.equal(isAddressAllowed('::ffff:7f00:2', loopback), true);
    assert.equal(isAddressAllowed('2002:7f00:1::', loopback), false); // 6to4 goes to a relay
    assert.equal(isAddressAllowed('64:ff9b::7f00:1', loopback), false); // NAT64 goes to a gateway
  });
  test('an IPv4-mapped entry opens the IPv4 address it stands for, in both spellings', () => {
    for (const [entry, inside, outside] of [
      ['::ffff:10.1.2.3', '10.1.2.3', '10.1.2.4'],
      ['::ffff:10.1.2.3/128', '::ffff:10.1.2.3', '::ffff:10.1.2.4'],
      ['::ffff:10.1.0.0/112', '10.1.255.1', '10.2.0.1'],
      ['::ffff:a01:0/112', '::ffff:10.1.0.9', '10.0.0.1'],
      ['::ffff:169.254.169.254/128', '169.254.169.254', '169.254.169.253'],
    ] as const) {
      const allow = [parseCidr(entry)];
      assert.equal(isAddressAllowed(inside, allow), true, `${entry} opens ${inside}`);
      assert.equal(isAddressAllowed(outside, allow), false, `${entry} must not open ${outside}`);
    }
    // Shorter than /96 it is an IPv6 network (it holds more than mapped addresses): kept as such.
    assert.equal(parseCidr('::ffff:0:0/95').bytes.length, 16);
    // A metadata address inside a mapped network stays refused, as inside an IPv4 one.
    assert.equal(isAddressAllowed('169.254.169.254', [parseCidr('::ffff:169.254.0.0/112')]), false);
  });
  test('a network that holds a cloud metadata address does not open it; an entry naming it alone does', () => {
    // fd00::/8 is the ULA prefix most networks are written as, and holds AWS's IPv6 metadata
    // service; CGNAT (Tailscale's range) holds Alibaba's; 0.0.0.0/0 and ::/0 hold them all.
    const opened: [string, string, string][] = [
      ['fd00::/8', 'fd00::1', 'fd00:ec2::254'],
      ['fc00::/7', 'fd20:ce::1', 'fd20:ce::254'],
      ['100.64.0.0/10', '100.64.0.1', '100.100.100.200'],
      ['169.254.0.0/16', '169.254.1.1', '169.254.169.254'],
      ['169.254.0.0/16', '169.254.1.1', '::ffff:169.254.169.254'],
      ['0.0.0.0/0', '10.0.0.1', '169.254.169.254'],
      ['0.0.0.0/0', '10.0.0.1', '168.63.129.16'],
      ['::/0', 'fd00::1', 'fd00:ec2::254'],
      ['::/0', 'fe80::1', '::ffff:a9fe:a9fe'],
      // Other clouds' metadata and credential services, over plain HTTP with at most a header an
      // endpoint may set (OCI IMDSv2: `Authorization: Bearer Oracle`).
      ['169.254.0.0/16', '169.254.170.3', '169.254.170.2'], // AWS ECS task credentials and metadata
      ['0.0.0.0/0', '169.254.170.22', '169.254.170.23'], // AWS EKS Pod Identity agent
      ['169.254.0.0/16', '169.254.42.41', '169.254.42.42'], // Scaleway
      ['0.0.0.0/0', '192.0.0.193', '192.0.0.192'], // Oracle Cloud Classic
      ['fd00::/8', 'fd00:ec3::23', 'fd00:ec2::23'], // AWS EKS Pod Identity agent, IPv6
      ['fd00::/8', 'fd00:ec3::123', 'fd00:ec2::123'], // AWS's IPv6 services, fd00:ec2::/32
      ['fd00::/8', 'fd00:c1::a9fe:a9ff', 'fd00:c1::a9fe:a9fe'], // OCI instance metadata, IPv6
      ['fc00::/7', 'fd00:42::43', 'fd00:42::42'], // Scaleway, IPv6
      ['::/0', 'fd00:a9fe:a9fe::2', 'fd00:a9fe:a9fe::1'], // Akamai (Linode), IPv6
    ];
    for (const [network, other, metadata] of opened) {
      const allow = [parseCidr(network)];
      assert.equal(isAddressAllowed(other, allow), true, `${network} opens ${other}`);
      assert.equal(isAddressAllowed(metadata, allow), false, `${network} must not open ${metadata}`);
      assert.equal(refusedLiteralHost(metadata, allow), `${metadata} is a metadata address`);
    }
    const named = opened.map(([, , metadata]) => metadata);
    for (const exact of [...named, '169.254.169.254/32', 'fd00:ec2::254', 'fd00:ec2::254/128'])
      assert.equal(isAddressAllowed(exact.split('/')[0]!, [parseCidr(exact)]), true, exact);
    assert.equal(isAddressAllowed('::ffff:169.254.169.254', [parseCidr('169.254.169.254')]), true);
    assert.equal(isAddressAllowed('169.254.169.253', [parseCidr('169.254.169.254')]), false);
  });
  test("this host's own public addresses are loopback: refused unless an entry holds them", () => {
    // A VPS has its public address on its interface: connecting to it stays on this host (the
    // kernel routes it over lo), past the firewall that keeps the internet from its other services.
    const own = ['8.8.8.8', '2606:4700:4700::1111'].map((a) => parseIpLiteral(a)!);
    for (const a of ['8.8.8.8', '::ffff:8.8.8.8', '[::ffff:808:808]', '2606:4700:4700::1111'])
      assert.equal(isAddressAllowed(a, [], own), false, a);
    for (const a of ['8.8.4.4', '2606:4700:4700::1001', '64:ff9b::808:808'])
      assert.equal(isAddressAllowed(a, [], own), true, `${a} is another host`);
    assert.equal(isAddressAllowed('8.8.8.8', [parseCidr('8.8.8.8')], own), true, 'listed, it is opened');
    assert.equal(isAddressAllowed('8.8.8.8', [parseCidr('0.0.0.0/0')], own), true);
  });
  test('parseCidr: bare hosts, prefixes, refusals', () => {
    assert.equal(parseCidr('10.0.0.1').prefix, 32);
    assert.equal(parseCidr('::1').prefix, 128);
    assert.equal(parseCidr('0.0.0.0/0').prefix, 0);
    for (const bad of [
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/x',
      '10.1/8',
      '0x7f000001/8',
      'example.com/8',
      '1.2.3.4/8/8',
      '10.0.0.0/', // Number('') is 0: must not mean every address
      '10.0.0.0/ 8',
      '10.0.0.0/0x8',
      '010.0.0.0/8', // octal would silently mean 8.0.0.0
      '127.1/8',
      '[::1]/128',
      'fe80::1%eth0/64',
      '',
    ])
      assert.throws(() => parseCidr(bad), Error, bad);
  });
  test('parseCidrList: commas, blanks, and errors naming the item', () => {
    const list = parseCidrList(' 127.0.0.0/8, ::1/128 ,,10.1.2.3');
    assert.deepEqual(
      list.map((c) => [c.bytes.length, c.prefix]),
      [
        [4, 8],
        [16, 128],
        [4, 32],
      ],
    );
    assert.deepEqual(parseCidrList(''), []);
    assert.throws(() => parseCidrList('127.0.0.0/8,10.0.0.0/40'), /network 2 of 2: "10\.0\.0\.0\/40"/);
    assert.throws(() => parseCidrList('localhost'), /network 1 of 1/);
  });
});

describe('every non-public range is refused without an allowlist, in every spelling', () => {
  // One address per range, then the spellings a URL or resolver may hand the guard.
  const blocked = [
    '0.0.0.0',
    '0.255.255.255',
    '10.0.0.0',
    '10.255.255.255',
    '100.64.0.0',
    '100.127.255.255',
    '100.100.100.200',
    '127.0.0.1',
    '169.254.0.1',
    '169.254.169.254',
    '172.16.0.0',
    '172.31.255.255',
    '192.0.0.1',
    '192.0.2.255',
    '192.88.99.2',
    '192.168.0.1',
    '198.18.0.0',
    '198.19.255.255',
    '198.51.100.7',
    '203.0.113.9',
    '224.0.0.0',
    '239.1.2.3',
    '240.0.0.0',
    '255.255.255.254',
    '255.255.255.255',
    '::',
    '::1',
    'fc00::',
    'fdff:ffff::1',
    'fe80::',
    'febf::1',
    'fec0::',
    'feff::1',
    'ff00::',
    'ff0e::1',
    'fd00:ec2::254',
    '2001::',
    '2001:db8::',
    '100::',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe',
    '::169.254.169.254',
    '64:ff9b::a00:1',
    '2002:c0a8:1::',
    '2130706433',
    '0x7f000001',
    '0x7f.0.0.1',
    '0177.0.0.1',
    '0177.1',
    '127.1',
    '10.1',
    '2852039166', // 169.254.169.254
    '0xa9fea9fe',
    '0251.0376.0251.0376',
    '127.0.0.1.',
    '127.0.0.1...',
    '[::1]',
    '[::ffff:127.0.0.1]',
    '[fe80::1%25eth0]',
    'fe80::1%eth0',
    '0',
  ];
  for (const a of blocked) test(a, () => assert.equal(isAddressAllowed(a, []), false));
  test('public neighbours of the ranges stay allowed', () => {
    for (const a of [
      '1.0.0.1',
      '9.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '126.255.255.255',
      '128.0.0.0',
      '169.253.255.255',
      '169.255.0.0',
      '168.63.129.15',
      '168.63.129.17',
      '172.15.255.255',
      '172.32.0.0',
      '192.167.255.255',
      '192.169.0.0',
      '198.17.255.255',
      '198.20.0.0',
      '223.255.255.255',
      '2000::1',
      '2a00:1450::1',
      '3ffe::1',
    ])
      assert.equal(isAddressAllowed(a, []), true, a);
  });
});

describe('hostnames as WHATWG URL hands them over', () => {
  // URL parsing normalizes some spellings (0x7f.1 → 127.0.0.1, IPv4 inside IPv6 → hex) and leaves
  // others (127.0.0.1..) as names; the guard must refuse both results.
  const cases: [string, string][] = [
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://2130706433/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://%31%32%37.0.0.1/', '127.0.0.1'],
    ['http://127.0.0.1../', '127.0.0.1..'],
    ['http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ['http://[::127.0.0.1]/', '[::7f00:1]'],
    ['http://[64:ff9b::169.254.169.254]/', '[64:ff9b::a9fe:a9fe]'],
  ];
  for (const [url, hostname] of cases)
    test(url, () => {
      const host = new URL(url).hostname;
      assert.equal(host, hostname, 'URL normalization changed: revisit the guard');
      assert.notEqual(parseIpLiteral(host), null);
      assert.equal(isAddressAllowed(host, []), false);
    });
});

/** The four bytes of a dotted IPv4 address. */
const v4 = (a: string) => a.split('.').map(Number) as [number, number, number, number];
const hex = (n: number) => n.toString(16);

/**
 * Every way a URL, an inet_aton-style resolver or an IPv6 stack may spell one IPv4 address, each
 * of which reaches (or, for NAT64/6to4, is translated to) that address.
 */
function spellingsOf(address: string): string[] {
  const [a, b, c, d] = v4(address);
  const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  const hi = hex((a << 8) | b);
  const lo = hex((c << 8) | d);
  return [
    address,
    `${address}.`, // trailing dot: a fully qualified "name"
    `${address}..`,
    String(n), // decimal
    `0x${hex(n)}`, // hex
    `0X${hex(n).toUpperCase()}`,
    `0${n.toString(8)}`, // octal
    `0x${hex(a)}.0x${hex(b)}.0x${hex(c)}.0x${hex(d)}`, // hex per part
    `0${a.toString(8)}.0${b.toString(8)}.0${c.toString(8)}.0${d.toString(8)}`, // octal per part
    `${a}.${(b << 16) + (c << 8) + d}`, // a.b24
    `${a}.${b}.${(c << 8) + d}`, // a.b.c16
    `0x${hex(a)}.${b}.0${c.toString(8)}.${d}`, // mixed
    `::ffff:${address}`, // IPv4-mapped, dotted
    `::ffff:${hi}:${lo}`, // IPv4-mapped, hex
    `[::ffff:${address}]`, // bracketed, as in a URL
    `0:0:0:0:0:ffff:${hi}:${lo}`,
    `0000:0000:0000:0000:0000:FFFF:${hi.padStart(4, '0')}:${lo.padStart(4, '0')}`,
    `::${address}`, // IPv4-compatible (deprecated)
    `64:ff9b::${address}`, // NAT64 well-known prefix
    `64:ff9b::${hi}:${lo}`,
    `[64:ff9b::${hi}:${lo}]`,
    `2002:${hi}:${lo}::`, // 6to4
    `2002:${hi}:${lo}:1::1`,
  ];
}

describe('every blocked IPv4 range: first and last address, every spelling', () => {
  // DESIGN: loopback, private, link-local, CGNAT, multicast and metadata addresses are refused,
  // and so is everything else that is not public unicast.
  const ranges: [string, string, string, string][] = [
    ['0.0.0.0/8', '0.0.0.0', '0.255.255.255', 'unspecified'],
    ['10.0.0.0/8', '10.0.0.0', '10.255.255.255', 'private'],
    ['100.64.0.0/10', '100.64.0.0', '100.127.255.255', 'cgnat'],
    ['127.0.0.0/8', '127.0.0.0', '127.255.255.255', 'loopback'],
    ['169.254.0.0/16', '169.254.0.0', '169.254.255.255', 'link-local'],
    ['172.16.0.0/12', '172.16.0.0', '172.31.255.255', 'private'],
    ['192.0.0.0/24', '192.0.0.0', '192.0.0.255', 'reserved'],
    ['192.0.2.0/24', '192.0.2.0', '192.0.2.255', 'documentation'],
    ['192.88.99.0/24', '192.88.99.0', '192.88.99.255', 'reserved'],
    ['192.168.0.0/16', '192.168.0.0', '192.168.255.255', 'private'],
    ['198.18.0.0/15', '198.18.0.0', '198.19.255.255', 'benchmarking'],
    ['198.51.100.0/24', '198.51.100.0', '198.51.100.255', 'documentation'],
    ['203.0.113.0/24', '203.0.113.0', '203.0.113.255', 'documentation'],
    ['224.0.0.0/4', '224.0.0.0', '239.255.255.255', 'multicast'],
    ['240.0.0.0/4', '240.0.0.0', '255.255.255.254', 'reserved'],
    ['255.255.255.255/32', '255.255.255.255', '255.255.255.255', 'broadcast'],
    ['169.254.169.254/32', '169.254.169.254', '169.254.169.254', 'metadata'],
    ['100.100.100.200/32', '100.100.100.200', '100.100.100.200', 'metadata'],
    ['168.63.129.16/32', '168.63.129.16', '168.63.129.16', 'metadata'],
  ];
  for (const [range, first, last, cls] of ranges) {
    test(`${range} (${cls})`, () => {
      for (const address of new Set([first, last])) {
        assert.equal(classifyAddress(address), cls, address);
        for (const spelling of spellingsOf(address)) {
          assert.equal(isAddressAllowed(spelling, []), false, `${spelling} (${address}) must be refused`);
          const got = classifyAddress(spelling);
          assert.notEqual(got, null, `${spelling} must parse as an address`);
          assert.notEqual(got, 'public', spelling);
        }
      }
    });
  }

  test('the spellings of a public address are allowed (the spelling itself is not what refuses)', () => {
    for (const spelling of spellingsOf('8.8.4.4')) {
      // ::a.b.c.d (compatible, deprecated) is not routed on the internet: reserved.
      const compatible = spelling.startsWith('::') && !spelling.startsWith('::ffff');
      assert.equal(classifyAddress(spelling), compatible ? 'reserved' : 'public', spelling);
    }
  });

  test('the spellings name the same host (decoded bytes agree)', () => {
    for (const spelling of spellingsOf('127.0.0.1').filter((s) => !s.includes(':'))) {
      assert.equal(dotted(parseIpLiteral(spelling)), '127.0.0.1', spelling);
    }
  });
});

describe('every blocked IPv6 range: first and last address, every spelling', () => {
  const ranges: [string, string, string, string][] = [
    ['::/128', '::', '::', 'unspecified'],
    ['::1/128', '::1', '::1', 'loopback'],
    ['fc00::/7', 'fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'private'],
    ['fe80::/10', 'fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link-local'],
    ['fec0::/10', 'fec0::', 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'site-local'],
    ['ff00::/8', 'ff00::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'multicast'],
    ['2001:db8::/32', '2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation'],
    ['2001::/32 (Teredo)', '2001::', '2001:0:ffff:ffff:ffff:ffff:ffff:ffff', 'teredo'],
    ['100::/64 (discard)', '100::', '100::ffff:ffff:ffff:ffff', 'reserved'],
    ['fd00:ec2::254/128', 'fd00:ec2::254', 'fd00:ec2::254', 'metadata'],
    ['fd20:ce::254/128', 'fd20:ce::254', 'fd20:ce::254', 'metadata'],
  ];
  /** Long form with leading zeros, upper case, bracketed, with a zone id. */
  const spellings = (address: string): string[] => {
    const bytes = parseIpLiteral(address)!;
    const groups = Array.from({ length: 8 }, (_, i) =>
      ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16),
    );
    return [
      address,
      address.toUpperCase(),
      `[${address}]`,
      groups.join(':'),
      groups.map((g) => g.padStart(4, '0')).join(':'),
      `${address}%eth0`,
      `[${address}%25eth0]`,
    ];
  };
  for (const [range, first, last, cls] of ranges) {
    test(`${range} (${cls})`, () => {
      for (const address of new Set([first, last])) {
        for (const spelling of spellings(address)) {
          assert.equal(classifyAddress(spelling), cls, spelling);
          assert.equal(isAddressAllowed(spelling, []), false, spelling);
        }
      }
    });
  }
  test('::ffff:0:0/96 (IPv4-mapped) is judged by the IPv4 address inside, over the whole range', () => {
    assert.equal(classifyAddress('::ffff:0:0'), 'unspecified');
    assert.equal(classifyAddress('::ffff:ffff:ffff'), 'broadcast');
    assert.equal(classifyAddress('::ffff:7f00:1'), 'loopback');
    assert.equal(classifyAddress('::ffff:a00:1'), 'private');
    assert.equal(classifyAddress('::ffff:808:808'), 'public');
  });
  test('64:ff9b::/96 (NAT64) is judged by the IPv4 address inside', () => {
    assert.equal(classifyAddress('64:ff9b::'), 'unspecified');
    assert.equal(classifyAddress('64:ff9b::ffff:ffff'), 'broadcast');
    assert.equal(classifyAddress('64:ff9b::c0a8:101'), 'private');
    assert.equal(classifyAddress('64:ff9b::808:808'), 'public');
  });
  // RFC 6890 lists none of these as globally reachable; what carries an IPv4 address is judged by
  // it where a translator or relay would take it there, and is never public where nothing routes it.
  test('::/96 (IPv4-compatible, deprecated) and ::ffff:0:0/96 (SIIT): the IPv4 inside, and never public', () => {
    for (const [prefix, form] of [
      ['::', 'compatible'],
      ['::ffff:0:', 'SIIT'],
    ] as const) {
      for (const [address, cls] of [
        ['127.0.0.1', 'loopback'],
        ['169.254.169.254', 'metadata'],
        ['10.0.0.1', 'private'],
        ['192.168.1.1', 'private'],
        ['100.100.100.200', 'metadata'],
        // Not routed on the internet; on Linux with the sit module loaded, sit0 holds ::<each of
        // the host's IPv4 addresses>, so ::<its own public address> is this host.
        ['8.8.8.8', 'reserved'],
      ] as const) {
        assert.equal(classifyAddress(`${prefix}${address}`), cls, `${form} ${address}`);
        assert.equal(isAddressAllowed(`${prefix}${address}`, []), false, `${form} ${address}`);
      }
    }
    // A metadata address stays host-only inside ::/0, in these forms too.
    const everyV6 = [parseCidr('::/0')];
    assert.equal(isAddressAllowed('::ffff:0:169.254.169.254', everyV6), false);
    assert.equal(isAddressAllowed('::169.254.169.254', everyV6), false);
    assert.equal(isAddressAllowed('::ffff:0:10.0.0.1', everyV6), true);
  });
  test('64:ff9b:1::/48 (local-use NAT64): a metadata address in any RFC 6052 layout is metadata', () => {
    // 169.254.169.254 (a9.fe.a9.fe) under a /48, /56, /64 and /96 prefix (bits 64-71 are zero).
    for (const address of [
      '64:ff9b:1:a9fe:a9:fe00::',
      '64:ff9b:1:a9:fe:a9fe::',
      '64:ff9b:1:0:a9:fea9:fe00:0',
      '64:ff9b:1::a9fe:a9fe',
    ]) {
      assert.equal(classifyAddress(address), 'metadata', address);
      assert.equal(isAddressAllowed(address, [parseCidr('64:ff9b:1::/48')]), false, address);
    }
    assert.notEqual(classifyAddress('64:ff9b:1:a00:1::'), 'public'); // 10.0.0.1 under a /48
    assert.equal(isAddressAllowed('64:ff9b:1:a00:1::', [parseCidr('64:ff9b:1::/48')]), true);
  });
  test('2001::/32 (Teredo): refused whole, and metadata when its server or client is a metadata address', () => {
    // Server 169.254.169.254 in bits 32-63; client 169.254.169.254 obfuscated (each bit flipped) in the last 32.
    assert.equal(classifyAddress('2001:0:a9fe:a9fe::'), 'metadata');
    assert.equal(classifyAddress('2001:0:4136:e378:8000:63bf:5601:5601'), 'metadata');
    assert.equal(isAddressAllowed('2001:0:4136:e378:8000:63bf:5601:5601', [parseCidr('::/0')]), false);
    assert.equal(classifyAddress('2001:0:4136:e378:8000:63bf:f5ff:fffe'), 'teredo'); // client 10.0.0.1
    assert.equal(isAddressAllowed('2001:0:4136:e378:8000:63bf:f5ff:fffe', []), false);
  });
  test('2002::/16 (6to4) is judged by the IPv4 address inside', () => {
    assert.equal(classifyAddress('2002::'), 'unspecified');
    assert.equal(classifyAddress('2002:a00:1::'), 'private');
    assert.equal(classifyAddress('2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 'broadcast');
    assert.equal(classifyAddress('2002:808:808::'), 'public');
  });
  test('one bit off the mapped or compatible form, an address is not judged by the IPv4 inside', () => {
    // Every bit of the 96 before the IPv4, flipped alone: the guard reads those bytes in place
    // (zerosIn, inRange from byte 12), where an off-by-one would judge e.g. ::1:ffff:7f00:1 or
    // ::ff:808:808 (reserved) by 127.0.0.1 or 8.8.8.8.
    const loopback = [parseCidr('127.0.0.0/8')];
    const every = [parseCidr('0.0.0.0/0')];
    for (const [form, prefix] of [
      ['mapped', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]],
      ['compatible', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ] as const) {
      for (const tail of [
        [127, 0, 0, 1],
        [8, 8, 8, 8],
      ]) {
        for (let bit = 0; bit < 96; bit++) {
          const bytes = Uint8Array.from([...prefix, ...tail]);
          bytes[bit >> 3]! ^= 0x80 >> (bit & 7);
          const what = `${form} ${tail.join('.')}, bit ${bit} flipped`;
          // Judged as the IPv6 address it is: global unicast (2000::/3) only when the flip put it there.
          const global = bit === 2;
          assert.equal(embeddedIPv4(bytes), null, what);
          assert.equal(classifyBytes(bytes), global ? 'public' : 'reserved', what);
          assert.equal(cidrContains(every[0]!, bytes), false, what);
          assert.equal(isAddressAllowed(bytes, loopback), global, what);
        }
      }
    }
  });
  test('a public IPv6 address stays allowed in every spelling', () => {
    for (const s of [
      '2606:4700:4700::1111',
      '[2606:4700:4700::1111]',
      '2606:4700:4700:0:0:0:0:1111',
      '2606:4700:4700:0000:0000:0000:0000:1111',
      '2606:4700:4700::1111%eth0',
    ])
      assert.equal(isAddressAllowed(s, []), true, s);
  });
});

describe('an allowlist of one loopback host opens that host only, in any spelling', () => {
  const allow = [parseCidr('127.0.0.2/32')];
  test('the host itself, in the spellings that reach the same host', () => {
    for (const s of [
      '127.0.0.2',
      '2130706434',
      '0x7f000002',
      '0177.0.0.2',
      '127.2',
      '127.0.0.2.',
      '::ffff:127.0.0.2',
      '[::ffff:7f00:2]',
    ])
      assert.equal(isAddressAllowed(s, allow), true, s);
  });
  test('its neighbours, the rest of 127/8, ::1 and the translated forms stay refused', () => {
    for (const s of [
      '127.0.0.1',
      '127.0.0.3',
      '2130706433',
      '0x7f000001',
      '127.1',
      '::1',
      '::ffff:127.0.0.1',
      '64:ff9b::127.0.0.2', // NAT64: a gateway, not this host
      '2002:7f00:2::', // 6to4: a relay
      '::127.0.0.2', // compatible: not routed
      '0.0.0.0',
      '::',
      'localhost',
    ])
      assert.equal(isAddressAllowed(s, allow), false, s);
  });
});

describe('localhost names (RFC 6761)', () => {
  test('localhost and its subdomains, any case, trailing dots', () => {
    for (const n of [
      'localhost',
      'LOCALHOST',
      'localhost.',
      'localhost..',
      'x.localhost',
      'a.b.LocalHost.',
      ' localhost ',
    ])
      assert.equal(isLocalhostName(n), true, n);
    for (const n of ['localhost.example', 'mylocalhost', 'localhostx', 'local', '127.0.0.1', ''])
      assert.equal(isLocalhostName(n), false, n);
  });
});

describe('refusedLiteralHost: what saving an endpoint refuses without resolving anything', () => {
  const loopback = ['127.0.0.1/32', '::1/128'].map(parseCidr);
  test('addresses outside the allowlist, as URL.hostname gives them, with their class', () => {
    const cases: [string, string][] = [
      [new URL('http://0x7f000001/').hostname, '127.0.0.1 is a loopback address'],
      [new URL('http://[::ffff:10.0.0.1]/').hostname, '[::ffff:a00:1] is a private address'],
      [new URL('http://169.254.169.254/').hostname, '169.254.169.254 is a metadata address'],
      [new URL('http://0/').hostname, '0.0.0.0 is an unspecified address'],
      ['localhost', 'localhost is loopback'],
      ['api.LOCALHOST.', 'api.LOCALHOST. is loopback'],
    ];
    for (const [host, reason] of cases) assert.equal(refusedLiteralHost(host, []), reason, host);
  });
  test('public addresses, names to resolve later, and allowlisted addresses pass', () => {
    for (const host of ['93.184.215.14', '[2606:4700::1111]', 'hooks.example', 'localhost.example']) {
      assert.equal(refusedLiteralHost(host, []), null, host);
    }
    for (const host of ['127.0.0.1', '[::1]', 'localhost', new URL('http://2130706433/').hostname]) {
      assert.equal(refusedLiteralHost(host, loopback), null, host);
    }
    assert.equal(refusedLiteralHost('127.0.0.2', loopback), '127.0.0.2 is a loopback address');
  });
});
