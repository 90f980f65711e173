/**
 * Herald's own log line for a delivery the SSRF guard refused. The attempt says only that the name
 * resolves to an address that is not allowed (the endpoint's project reads it, and must not learn
 * what Herald's resolver answers); an operator whose receiver runs on Herald's own host (a VPS whose
 * public address the endpoint's name resolves to) saw every delivery fail so and nothing in the
 * log. This line names the host, the refused address, why, and the setting that would open it: a
 * warn line at most once per interval per reason, with the number refused in between.
 */
import { type AddressClass, formatIp, type IpBytes } from '../domain/address-classifier.ts';

/** A refusal, as the sender reports it (SenderOptions.onBlocked). */
export interface BlockedAddress {
  /** The URL's host: a name, or an address written in the URL. */
  host: string;
  /** The refused address (a name's first refused one). */
  address: IpBytes;
  /** Its class, or `own`: one of this host's own public addresses, judged as loopback. */
  reason: AddressClass | 'own';
}

export interface BlockedAddressLogger {
  warn(fields: object, message: string): void;
}

/** Why, in words. */
function because(reason: BlockedAddress['reason']): string {
  if (reason === 'own')
    return "it is this host's own public address (a connection to it never leaves the host, so the guard judges it as loopback)";
  if (reason === 'metadata') return 'it is a cloud instance metadata address';
  return `it is ${/^[aeiou]/.test(reason) ? 'an' : 'a'} ${reason} address`;
}

/** The line for one refusal: host, address, why, and what would allow it. */
export function blockedAddressLine({ host, address, reason }: BlockedAddress): string {
  const ip = formatIp(address);
  const entry = `${ip}/${ip.includes(':') ? 128 : 32}`;
  const allow =
    reason === 'metadata'
      ? `an entry naming that address alone opens it, HERALD_ALLOW_NETWORKS=${entry} (a wider network holding it never does; it hands every tenant this instance's credentials)`
      : `to deliver there, allow it: HERALD_ALLOW_NETWORKS=${entry} (comma-separated with any entries it has)`;
  const named = host.replace(/^\[|\]$/g, '') === ip ? host : `${host} (resolved to ${ip})`;
  return `delivery refused: ${named} is not allowed because ${because(reason)}; ${allow}. The attempt records it as blocked without the address`;
}

/** The sender's `onBlocked` hook for `logger`: one line per interval per reason. */
export function blockedAddressLog(
  logger: BlockedAddressLogger,
  intervalMs = 10_000,
  now: () => number = Date.now,
): (refused: BlockedAddress) => void {
  // Keyed by reason: a small fixed set (the address classes), whatever tenants' URLs hold.
  const throttles = new Map<string, { loggedAt: number; since: number }>();
  const every = `(logged at most once per ${intervalMs / 1000} s per reason)`;
  return (refused) => {
    let state = throttles.get(refused.reason);
    if (!state) {
      state = { loggedAt: Number.NEGATIVE_INFINITY, since: 0 };
      throttles.set(refused.reason, state);
    }
    const t = now();
    if (t - state.loggedAt < intervalMs) {
      state.since++;
      return;
    }
    state.loggedAt = t;
    const held = state.since;
    state.since = 0;
    logger.warn(
      {
        host: refused.host,
        address: formatIp(refused.address),
        reason: refused.reason,
        ...(held > 0 ? { refusedSinceLastLine: held } : {}),
      },
      `${blockedAddressLine(refused)} ${every}`,
    );
  };
}
