import { parseCidr } from '../domain/address-classifier.ts';
import { ConfigError } from './config-error.ts';
import { parseList, type RawSetting } from './parse-setting.ts';

/**
 * HERALD_ALLOW_NETWORKS / --allow-networks: comma-separated CIDRs (`127.0.0.0/8,10.1.0.0/16,::1/128`)
 * that delivery may reach although they are private. A bare address counts as a single host and is
 * returned with its full prefix (`10.1.2.3` → `10.1.2.3/32`). Parsed with the sender's own parser, so
 * what passes here is exactly what the SSRF guard will apply.
 */
export function parseAllowNetworks(setting: RawSetting): string[] {
  return parseList(setting).map((item) => {
    const [address = '', prefix] = item.split('/');
    // A slash with nothing after it must not silently mean /0 (every address).
    if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) {
      throw new ConfigError(setting.source, `"${item}" needs a prefix length after the slash, e.g. /8`);
    }
    try {
      parseCidr(item);
    } catch (cause) {
      throw new ConfigError(setting.source, (cause as Error).message, { cause });
    }
    // The prefix of the address as written: ::ffff:10.1.2.3 is kept as 10.1.2.3/32 by parseCidr,
    // but written back it needs /128.
    return prefix === undefined ? `${address}/${address.includes(':') ? 128 : 32}` : item;
  });
}
