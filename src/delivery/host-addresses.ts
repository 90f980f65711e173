/**
 * This host's own public addresses, which the SSRF guard judges as loopback (address-classifier.ts
 * isAddressAllowed): a connection to one of them never leaves the host, so it reaches services that
 * a firewall keeps from the internet. Its other addresses (loopback, private, link-local) are
 * refused as such already.
 */
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import { classifyBytes, type IpBytes, parseIpLiteral } from '../domain/address-classifier.ts';

/** How long a reading is used: addresses change (DHCP, IPv6 temporary addresses), rarely. */
const REREAD_MS = 1_000;

/**
 * A function giving the public addresses of every interface, read again when the last reading is
 * older than a second (getifaddrs: a few µs, at most once a second whatever the connection rate).
 * A reading that fails (getifaddrs opens a socket: out of file descriptors, EMFILE) keeps the
 * last one and is tried again at the next call: the attempt then fails as its own connect would.
 */
export function hostAddressReader(
  read: () => NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces,
  now: () => number = performance.now.bind(performance),
): () => readonly IpBytes[] {
  let addresses: readonly IpBytes[] = [];
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    if (now() - readAt <= REREAD_MS) return addresses;
    let table: NodeJS.Dict<NetworkInterfaceInfo[]>;
    try {
      table = read();
    } catch {
      return addresses;
    }
    readAt = now();
    addresses = Object.values(table)
      .flatMap((list) => list ?? [])
      .map((nic) => parseIpLiteral(nic.address))
      .filter((bytes): bytes is IpBytes => bytes !== null && classifyBytes(bytes) === 'public');
    return addresses;
  };
}
