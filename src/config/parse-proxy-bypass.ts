import { bypassItem, type ProxyBypass } from '../domain/proxy-bypass.ts';
import { ConfigError } from './config-error.ts';
import { parseList, type RawSetting } from './parse-setting.ts';

/**
 * HERALD_PROXY_BYPASS: comma-separated host names (each with its subdomains; `.example.com` and
 * `*.example.com` mean the same) and networks (`10.0.0.0/8`, a bare address is one host) that
 * deliveries reach directly although HERALD_PROXY_URL is set. Names are matched on the URL's host,
 * networks on an address written in the URL, before anything is dialled.
 */
export function parseProxyBypass(setting: RawSetting): ProxyBypass {
  const names: string[] = [];
  const networks: string[] = [];
  for (const [i, item] of parseList(setting).entries()) {
    if (item === '*') {
      throw new ConfigError(
        setting.source,
        'item "*" would bypass the proxy for every receiver: unset HERALD_PROXY_URL instead',
      );
    }
    const parsed = bypassItem(item);
    if (!parsed) {
      throw new ConfigError(
        setting.source,
        `item ${i + 1}, "${item}", is neither a host name (hooks.internal, .internal) nor a network (10.0.0.0/8)`,
      );
    }
    if ('name' in parsed) names.push(parsed.name);
    else networks.push(parsed.network);
  }
  return { names, networks };
}
