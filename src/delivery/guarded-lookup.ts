/**
 * The SSRF guard's connect-time half: a `lookup` for net/tls.connect that resolves a name and
 * refuses it when any resolved address is not allowed. Because it runs inside connect, on the very
 * addresses the socket then dials, a name that resolves to a public address for a pre-check and to
 * 127.0.0.1 for the connection (DNS rebinding) is still refused.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import {
  type Cidr,
  type IpBytes,
  isAddressAllowed,
  isLocalhostName,
  LOCALHOST_ADDRESSES,
  parseIpLiteral,
  refusalReason,
} from '../domain/address-classifier.ts';
import type { BlockedAddress } from './blocked-address-log.ts';

/** A resolver with dns.lookup's `all: true` shape; tests inject a stub that returns loopback only. */
export type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

/** The error the guard raises; classified as error kind `blocked` (by its code). */
export class BlockedAddressError extends Error {
  readonly code = 'HERALD_ERR_BLOCKED';
  /**
   * `host`: an address as the URL wrote it, or (`resolved`) a name one of whose addresses was
   * refused. That address is not said: the message goes into the attempt the endpoint's project
   * reads, and Herald's resolver answers names the internet cannot (split-horizon DNS, /etc/hosts),
   * so it would tell a tenant where db.internal is.
   */
  constructor(host: string, resolved = false) {
    super(
      `${resolved ? `${host} resolves to an address that` : `address ${host}`} is not allowed (private, loopback or reserved; see HERALD_ALLOW_NETWORKS)`,
    );
    this.name = 'BlockedAddressError';
  }
}

/** The system resolver (getaddrinfo, so /etc/hosts counts), every address at once. */
export const systemLookup: LookupAll = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

/** The function net.connect calls as `lookup` (with `all: true` when it races address families). */
export type ConnectLookup = (
  hostname: string,
  options: { all?: boolean; family?: number | string },
  callback: LookupCallback,
) => void;

/**
 * Wraps `resolveAll` so that a name is refused as a whole when ANY of its addresses is not allowed:
 * otherwise a name with one public and one private address would let the socket race to the
 * private one. `own`: this host's public addresses, judged as loopback (host-addresses.ts).
 * `onBlocked`: told which address was refused and why, for Herald's own log (blocked-address-log.ts);
 * the error, which the attempt records, does not say it.
 */
export function guardedLookup(
  resolveAll: LookupAll,
  allow: readonly Cidr[],
  own: () => readonly IpBytes[] = () => [],
  onBlocked: (refused: BlockedAddress) => void = () => {},
): ConnectLookup {
  return (hostname, options, callback) => {
    // localhost names are loopback without asking anyone (RFC 6761): both loopback addresses, of
    // which those the allowlist opens are used; with neither allowed the name is refused.
    const answer = isLocalhostName(hostname) ? Promise.resolve(localhostAnswer(allow)) : resolveAll(hostname);
    answer.then(
      (resolved) => {
        if (resolved === null) {
          onBlocked({ host: hostname, address: parseIpLiteral('127.0.0.1')!, reason: 'loopback' });
          callback(new BlockedAddressError(`${hostname} (loopback)`), []);
          return;
        }
        if (resolved.length === 0) {
          const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
          callback(err, []);
          return;
        }
        const self = own();
        const refused = resolved.find((a) => !isAddressAllowed(a.address, allow, self));
        if (refused) {
          const address = parseIpLiteral(refused.address);
          const reason = address && refusalReason(address, allow, self);
          if (address && reason) onBlocked({ host: hostname, address, reason });
          callback(new BlockedAddressError(hostname, true), []);
          return;
        }
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const wanted = family === 4 || family === 6 ? resolved.filter((a) => a.family === family) : resolved;
        if (wanted.length === 0) {
          const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
          callback(err, []);
          return;
        }
        if (options.all) {
          callback(null, wanted);
          return;
        }
        const first = wanted[0]!;
        callback(null, first.address, first.family);
      },
      (error: Error) => callback(error, []),
    );
  };
}

/** The loopback addresses a localhost name may use under `allow`, or null when none. */
function localhostAnswer(allow: readonly Cidr[]): LookupAddress[] | null {
  const open = LOCALHOST_ADDRESSES.filter((a) => isAddressAllowed(a.address, allow));
  return open.length > 0 ? open.map((a) => ({ ...a })) : null;
}
