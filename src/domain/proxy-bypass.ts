/**
 * Which receivers are reached directly although deliveries go through an egress proxy
 * (HERALD_PROXY_BYPASS): decided on the URL's host before anything is dialled, as NO_PROXY is in
 * curl and most HTTP tooling. Pure.
 */
import { type Cidr, cidrContains, parseCidr, parseIpLiteral } from './address-classifier.ts';

/** The bypass list, parsed: host names (each with its subdomains) and networks. */
export interface ProxyBypass {
  /** Lower-case names without a leading `.` or `*.` and without a trailing dot. */
  names: readonly string[];
  /** CIDRs as HERALD_ALLOW_NETWORKS takes them (a bare address is one host). */
  networks: readonly string[];
}

/** Reads one item of the list: a network when it parses as one, else a host name; null when neither. */
export function bypassItem(item: string): { name: string } | { network: string } | null {
  // An IPv6 address may come in brackets, as URLs and many NO_PROXY lists write it: [::1], [fd00::]/8.
  const text = item
    .trim()
    .toLowerCase()
    .replace(/^\[([0-9a-f:.]+)\](\/\d+)?$/, '$1$2');
  if (/^[\d.]+(\/\d+)?$/.test(text) || text.includes(':')) {
    try {
      parseCidr(text);
      // The full prefix of the address as written (parseCidr keeps ::ffff:10.1.2.3 as 10.1.2.3/32).
      return { network: text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}` };
    } catch {
      return null;
    }
  }
  const name = text.replace(/^\*?\./, '').replace(/\.$/, '');
  return /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(name)
    ? { name }
    : null;
}

/**
 * Whether a delivery to a host (as the URL has it: brackets around IPv6) goes direct: an IP address
 * in one of the networks, or a name equal to one of the names or under it.
 */
export function proxyBypass(bypass: ProxyBypass): (hostname: string) => boolean {
  const cidrs: Cidr[] = bypass.networks.map(parseCidr);
  return (hostname) => {
    const bare = hostname.replace(/^\[|\]$/g, '');
    const literal = parseIpLiteral(bare);
    if (literal) return cidrs.some((c) => cidrContains(c, literal));
    const name = bare.toLowerCase().replace(/\.$/, '');
    return bypass.names.some((n) => name === n || name.endsWith(`.${n}`));
  };
}
