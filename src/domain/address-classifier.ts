/**
 * The SSRF guard's pure half: parses IP literals in every spelling browsers and resolvers accept
 * and says whether delivery may connect to them. Only public unicast addresses are allowed unless
 * an operator allowlists a CIDR (HERALD_ALLOW_NETWORKS).
 */

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'reserved'
  | 'benchmarking'
  | 'documentation'
  | 'metadata'
  | 'site-local'
  | 'teredo';

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
export type IpBytes = Uint8Array;

export interface Cidr {
  bytes: IpBytes;
  prefix: number;
}

/** Parses one IPv4 part: decimal, 0x hex or leading-zero octal (as inet_aton and WHATWG URL do). */
function parseV4Part(part: string): number | null {
  if (part === '') return null;
  if (/^0x[0-9a-f]*$/i.test(part)) return part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return Number.parseInt(part.slice(1), 8);
  if (/^(0|[1-9]\d*)$/.test(part)) return Number(part);
  return null;
}

/**
 * IPv4 in any inet_aton spelling: 127.0.0.1, 127.1, 2130706433, 0x7f000001, 0177.0.0.1, trailing
 * dot(s). WHATWG URL strips one trailing dot but keeps `127.0.0.1..` as a "name" that some resolvers
 * still answer with 127.0.0.1, so every trailing dot goes.
 */
export function parseIPv4(input: string): IpBytes | null {
  const text = input.replace(/\.+$/, '');
  const parts = text.split('.');
  if (parts.length === 0 || parts.length > 4) return null;
  const nums = parts.map(parseV4Part);
  if (nums.some((n) => n === null || !Number.isFinite(n))) return null;
  const values = nums as number[];
  const last = values[values.length - 1]!;
  const head = values.slice(0, -1);
  if (head.some((n) => n > 255)) return null;
  if (last >= 256 ** (5 - values.length)) return null;
  let value = last;
  head.forEach((n, i) => {
    value += n * 256 ** (3 - i);
  });
  return Uint8Array.of((value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255);
}

/** IPv6 (with optional brackets, zone id and a dotted IPv4 tail). */
export function parseIPv6(input: string): IpBytes | null {
  let text = input.replace(/^\[/, '').replace(/\]$/, '');
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (!text.includes(':')) return null;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    // a dotted IPv4 tail becomes the last two groups
    const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(tail) ? parseIPv4(tail) : null;
    if (!v4) return null;
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const parse = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const halves = text.split('::');
  let groups: number[];
  if (halves.length === 2) {
    const left = parse(halves[0]!);
    const right = parse(halves[1]!);
    if (!left || !right) return null;
    const fill = 8 - left.length - right.length;
    if (fill < 1) return null;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else if (halves.length === 1) {
    const all = parse(text);
    if (all?.length !== 8) return null;
    groups = all;
  } else {
    return null;
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 255;
  });
  return bytes;
}

/** Parses an IP literal in any spelling, or null when `host` is a name to resolve. */
export function parseIpLiteral(host: string): IpBytes | null {
  const h = host.trim().toLowerCase();
  if (h.includes(':') || h.startsWith('[')) return parseIPv6(h);
  return parseIPv4(h);
}

/**
 * Do the first `prefix` bits of `bytes`, read from byte `from` on, match `base` (missing bytes of
 * `base` are zeros)? Reads in place: the delivery guard runs this for every attempt, and copying
 * the bytes or the base allocated on each.
 */
function inRange(bytes: IpBytes, base: ArrayLike<number>, prefix: number, from = 0): boolean {
  for (let bit = 0; bit < prefix; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((bytes[from + i]! & mask) !== ((base[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Are bytes `from` to `to` (exclusive) of `bytes` all zero? */
function zerosIn(bytes: IpBytes, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** IPv4 ranges, most specific first. */
const V4_RANGES: [number[], number, AddressClass][] = [
  [[169, 254, 169, 254], 32, 'metadata'], // cloud instance metadata
  [[169, 254, 170, 2], 32, 'metadata'], // AWS ECS task credentials and metadata
  [[169, 254, 170, 23], 32, 'metadata'], // AWS EKS Pod Identity agent (credentials)
  [[169, 254, 42, 42], 32, 'metadata'], // Scaleway
  [[100, 100, 100, 200], 32, 'metadata'], // Alibaba Cloud metadata
  [[192, 0, 0, 192], 32, 'metadata'], // Oracle Cloud Classic
  // Azure WireServer: a public address that only Azure VMs reach, answering them with their goal
  // state and extension settings (a GET with an `x-ms-version` header, both of which an endpoint
  // may set, and the reply is kept in the attempt history).
  [[168, 63, 129, 16], 32, 'metadata'],
  [[255, 255, 255, 255], 32, 'broadcast'],
  [[0, 0, 0, 0], 8, 'unspecified'], // "this network"
  [[10, 0, 0, 0], 8, 'private'],
  [[100, 64, 0, 0], 10, 'cgnat'],
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 0, 0, 0], 24, 'reserved'], // IETF protocol assignments
  [[192, 0, 2, 0], 24, 'documentation'],
  [[192, 88, 99, 0], 24, 'reserved'], // deprecated 6to4 relay
  [[192, 168, 0, 0], 16, 'private'],
  [[198, 18, 0, 0], 15, 'benchmarking'],
  [[198, 51, 100, 0], 24, 'documentation'],
  [[203, 0, 113, 0], 24, 'documentation'],
  [[224, 0, 0, 0], 4, 'multicast'],
  [[240, 0, 0, 0], 4, 'reserved'],
];

/** IPv6 ranges (those embedding IPv4 are handled before these). */
const V6_RANGES: [number[], number, AddressClass][] = [
  // AWS's IPv6 services: metadata ::254, EKS Pod Identity ::23 (credentials), DNS ::253, NTP ::123
  [[0xfd, 0x00, 0x0e, 0xc2], 32, 'metadata'], // fd00:ec2::/32
  [[0xfd, 0x20, 0x00, 0xce, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54], 128, 'metadata'], // fd20:ce::254 (Google)
  [[0xfd, 0x00, 0x00, 0xc1, 0, 0, 0, 0, 0, 0, 0, 0, 0xa9, 0xfe, 0xa9, 0xfe], 128, 'metadata'], // fd00:c1::a9fe:a9fe (OCI)
  [[0xfd, 0x00, 0x00, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x42], 128, 'metadata'], // fd00:42::42 (Scaleway)
  [[0xfd, 0x00, 0xa9, 0xfe, 0xa9, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01], 128, 'metadata'], // fd00:a9fe:a9fe::1 (Akamai)
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128, 'loopback'],
  [[], 128, 'unspecified'],
  [[0x20, 0x01, 0x00, 0x02, 0, 0], 48, 'benchmarking'], // 2001:2::/48
  [[0x20, 0x01, 0x00, 0x10], 28, 'reserved'], // ORCHID (deprecated)
  [[0x20, 0x01, 0x00, 0x20], 28, 'reserved'], // ORCHIDv2: identifiers, not routable hosts
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'documentation'],
  [[0x3f, 0xff, 0x00], 20, 'documentation'], // 3fff::/20 (RFC 9637)
  [[0x01, 0x00], 64, 'reserved'], // discard-only
  [[0xfc], 7, 'private'], // unique local
  [[0xfe, 0x80], 10, 'link-local'],
  [[0xfe, 0xc0], 10, 'site-local'],
  [[0xff], 8, 'multicast'],
];

/**
 * The IPv4 address an IPv6 address carries (mapped, compatible, SIIT, NAT64, 6to4), if any. Teredo's
 * are read apart (teredoIPv4s): a Teredo address is refused whatever it carries.
 */
export function embeddedIPv4(bytes: IpBytes): IpBytes | null {
  if (bytes.length !== 16) return null;
  if (isIPv4Mapped(bytes)) return bytes.slice(12); // ::ffff:a.b.c.d
  if (unroutedIPv4Form(bytes)) return bytes.slice(12);
  if (inRange(bytes, [0, 0x64, 0xff, 0x9b], 96)) return bytes.slice(12); // NAT64 64:ff9b::/96
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.slice(2, 6); // 6to4 2002::/16
  return null;
}

/**
 * ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291) or ::ffff:0:a.b.c.d (SIIT's IPv4-translated,
 * RFC 2765): outside 2000::/3, routed nowhere on the internet (RFC 6890 lists neither). On Linux with
 * the sit module loaded, sit0 holds ::<each of the host's IPv4 addresses>, so the first form of the
 * host's own public address is this host.
 */
function unroutedIPv4Form(bytes: IpBytes): boolean {
  if (zerosIn(bytes, 0, 12)) return !zerosIn(bytes, 12, 15); // not ::, ::1 (loopback) or ::0.0.0.x
  return zerosIn(bytes, 0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && zerosIn(bytes, 10, 12);
}

/**
 * Where an address of local-use NAT64 64:ff9b:1::/48 may carry its IPv4 (RFC 6052 §2.2, for the
 * prefix lengths inside it: /48, /56, /64, /96; bits 64-71 are always zero): the byte offsets.
 */
const LOCAL_NAT64_LAYOUTS: readonly (readonly number[])[] = [
  [6, 7, 9, 10],
  [7, 9, 10, 11],
  [9, 10, 11, 12],
  [12, 13, 14, 15],
];

/** Teredo's server IPv4 (bits 32-63) and client IPv4 (the last 32 bits, each flipped: RFC 4380). */
function teredoIPv4s(bytes: IpBytes): IpBytes[] {
  return [bytes.slice(4, 8), bytes.slice(12).map((b) => b ^ 0xff)];
}

/** Classifies parsed address bytes. */
export function classifyBytes(bytes: IpBytes): AddressClass {
  if (bytes.length === 4) {
    for (const [base, prefix, cls] of V4_RANGES) if (inRange(bytes, base, prefix)) return cls;
    return 'public';
  }
  const v4 = embeddedIPv4(bytes);
  if (v4) {
    const inside = classifyBytes(v4);
    // Judged by the IPv4 inside (a metadata one stays host-only in an allowlist), never public.
    return inside === 'public' && unroutedIPv4Form(bytes) ? 'reserved' : inside;
  }
  // Local-use NAT64 64:ff9b:1::/48 translates into the operator's own network, wherever the IPv4
  // sits inside it (RFC 6052 puts it in different bits per prefix length): never public, and a
  // metadata address in any of the layouts is metadata.
  if (inRange(bytes, [0, 0x64, 0xff, 0x9b, 0, 1], 48)) {
    const layouts = LOCAL_NAT64_LAYOUTS.map((at) => Uint8Array.from(at, (i) => bytes[i]!));
    if (layouts.some((v4) => classifyBytes(v4) === 'metadata')) return 'metadata';
    const tail = classifyBytes(bytes.slice(12));
    return tail === 'public' ? 'private' : tail;
  }
  // Teredo's client address is obfuscated, its traffic relayed: refused whole, as metadata when it
  // carries a metadata address (host-only in an allowlist such as ::/0).
  if (inRange(bytes, [0x20, 0x01, 0x00, 0x00], 32)) {
    return teredoIPv4s(bytes).some((v4) => classifyBytes(v4) === 'metadata') ? 'metadata' : 'teredo';
  }
  for (const [base, prefix, cls] of V6_RANGES) if (inRange(bytes, base, prefix)) return cls;
  if (!inRange(bytes, [0x20], 3)) return 'reserved'; // only 2000::/3 is global unicast
  return 'public';
}

/** Classifies an IP literal; null when the text is not an address. */
export function classifyAddress(address: string): AddressClass | null {
  const bytes = parseIpLiteral(address);
  return bytes ? classifyBytes(bytes) : null;
}

/** Parses `127.0.0.0/8` or `::1/128` (a bare address is a single host). */
export function parseCidr(text: string): Cidr {
  const [addr = '', prefixText, extra] = text.trim().split('/');
  // Config takes only the plain spellings: 010.0.0.0 would silently mean 8.0.0.0 (octal), and a
  // zone id or brackets have no place in a network.
  const plainV4 = /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/;
  const bytes =
    /^[0-9a-f:.]+$/i.test(addr) && addr.includes(':')
      ? parseIPv6(addr)
      : plainV4.test(addr)
        ? parseIPv4(addr)
        : null;
  if (!bytes || extra !== undefined)
    throw new Error(`"${text}" is not a CIDR such as 127.0.0.0/8 or ::1/128`);
  const bits = bytes.length * 8;
  // digits only: Number('') is 0, and "10.0.0.0/" must not mean every address
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
  if (prefix < 0 || prefix > bits)
    throw new Error(`"${text}" has a bad prefix length (0-${bits} after the slash)`);
  // ::ffff:10.1.2.3 is 10.1.2.3 (the same host, reached the same way), so an IPv4-mapped network
  // is kept as the IPv4 network it stands for: it then opens the plain spelling as well.
  if (prefix >= 96 && isIPv4Mapped(bytes)) return { bytes: bytes.slice(12), prefix: prefix - 96 };
  return { bytes, prefix };
}

function isIPv4Mapped(bytes: IpBytes): boolean {
  return bytes.length === 16 && zerosIn(bytes, 0, 10) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * Parses a comma-separated CIDR list (`127.0.0.0/8,::1/128`; blanks ignored), naming the bad item
 * and its position in the error.
 */
export function parseCidrList(text: string): Cidr[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.map((item, i) => {
    try {
      return parseCidr(item);
    } catch (error) {
      throw new Error(`network ${i + 1} of ${items.length}: ${(error as Error).message}`);
    }
  });
}

/**
 * Does `bytes` fall inside `cidr`? IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, the same host) match
 * IPv4 CIDRs; NAT64, 6to4 and compatible addresses do not: they reach other hosts (a gateway, a
 * relay), so allowlisting 10.0.0.0/8 must not open 2002:a00::/24 too.
 */
export function cidrContains(cidr: Cidr, bytes: IpBytes): boolean {
  return networkContains(cidr.bytes, cidr.prefix, bytes);
}

/** cidrContains for the network `base`/`prefix`, read in place (no Cidr, no copy made). */
function networkContains(base: IpBytes, prefix: number, bytes: IpBytes): boolean {
  if (base.length === 4 && bytes.length === 16) {
    return isIPv4Mapped(bytes) && inRange(bytes, base, prefix, 12);
  }
  return base.length === bytes.length && inRange(bytes, base, prefix);
}

/**
 * `localhost`, `anything.localhost`, in any case, with trailing dots: loopback by definition
 * (RFC 6761 §6.3), whatever a resolver would say. The guard answers these itself, so no DNS server
 * is ever asked about them and no DNS answer can turn them into another address.
 */
export function isLocalhostName(host: string): boolean {
  const name = host.trim().toLowerCase().replace(/\.+$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** The loopback addresses a localhost name stands for. */
export const LOCALHOST_ADDRESSES: readonly { address: string; family: 4 | 6 }[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

/**
 * The class of `bytes` on a host whose own public addresses are `own`: those are loopback. A VPS
 * has its public address on its interface, and a connection to it never leaves the host (the
 * kernel routes it over lo), past the firewall that keeps the internet from its other services.
 */
function classifyOn(bytes: IpBytes, own: readonly IpBytes[]): AddressClass {
  const kind = classifyBytes(bytes);
  return kind === 'public' && isOwnAddress(bytes, own) ? 'loopback' : kind;
}

/** Is `bytes` one of `own` (in any spelling the guard matches: an IPv4-mapped one too)? */
function isOwnAddress(bytes: IpBytes, own: readonly IpBytes[]): boolean {
  for (const o of own) if (networkContains(o, o.length * 8, bytes)) return true;
  return false;
}

/**
 * Why delivery refuses `bytes` (isAddressAllowed false): its class, or `own` for one of this
 * host's own public addresses (judged as loopback); null when it is allowed. For Herald's own log
 * (blocked-address-log.ts), never for the attempt, which a tenant reads.
 */
export function refusalReason(
  bytes: IpBytes,
  allow: readonly Cidr[],
  own: readonly IpBytes[] = [],
): AddressClass | 'own' | null {
  if (isAddressAllowed(bytes, allow, own)) return null;
  // Own first: host-addresses.ts lists public ones only, but whatever `own` holds is this host.
  return isOwnAddress(bytes, own) ? 'own' : classifyBytes(bytes);
}

/**
 * The plain spelling of `bytes`, as HERALD_ALLOW_NETWORKS takes it: dotted IPv4 (an IPv4-mapped
 * IPv6 address as its IPv4, which an IPv4 entry opens), IPv6 with its zeros compressed.
 */
export function formatIp(bytes: IpBytes): string {
  const v4 = bytes.length === 4 ? bytes : isIPv4Mapped(bytes) ? bytes.slice(12) : null;
  if (v4) return v4.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // WHATWG URL writes IPv6 hosts in their canonical (RFC 5952) form.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/**
 * May delivery connect to this address? Public ones yes (but this host's own, `own`, are
 * loopback); others only inside an allowlisted CIDR, and a cloud metadata address only when an
 * entry names that host alone: the networks operators open for their receivers hold them
 * (fd00::/8 holds AWS's fd00:ec2::254, CGNAT Alibaba's 100.100.100.200, 0.0.0.0/0 every IPv4
 * one), and nobody means to hand every tenant the instance's credentials with them.
 */
export function isAddressAllowed(
  address: string | IpBytes,
  allow: readonly Cidr[],
  own: readonly IpBytes[] = [],
): boolean {
  const bytes = typeof address === 'string' ? parseIpLiteral(address) : address;
  if (!bytes) return false;
  const kind = classifyOn(bytes, own);
  if (kind === 'public') return true;
  // No closure or copy per call: this runs for every attempt to an IP-literal host (sender.ts).
  const hostOnly = kind === 'metadata';
  for (const c of allow) {
    if (hostOnly && c.prefix !== c.bytes.length * 8) continue;
    if (networkContains(c.bytes, c.prefix, bytes)) return true;
  }
  return false;
}

/**
 * Why delivery would refuse a URL's host without resolving anything: an IP literal (`URL.hostname`
 * spelling, IPv6 in brackets) or a localhost name that the allowlist does not open. Null for other
 * names, which the guard checks when it resolves them at connect time, and for allowed addresses.
 */
export function refusedLiteralHost(host: string, allow: readonly Cidr[]): string | null {
  if (isLocalhostName(host)) {
    return LOCALHOST_ADDRESSES.some((a) => isAddressAllowed(a.address, allow)) ? null : `${host} is loopback`;
  }
  const bytes = parseIpLiteral(host);
  if (!bytes || isAddressAllowed(bytes, allow)) return null;
  const kind = classifyBytes(bytes);
  return `${host} is ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} address`;
}
