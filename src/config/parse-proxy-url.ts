import { ConfigError } from './config-error.ts';
import type { DeliveryProxy } from './config-types.ts';
import type { RawSetting } from './parse-setting.ts';

/**
 * HERALD_PROXY_URL: the HTTP forward proxy deliveries go through, `http://[user:password@]host:port`.
 * Every connection to a receiver is a CONNECT tunnel through it (https receivers get TLS inside the
 * tunnel, end to end). Only `http://` proxies: CONNECT over TLS to the proxy, and SOCKS, are not
 * supported, and a path, query or fragment would mean a URL meant for something else. The
 * credentials become the `Proxy-Authorization` header and never appear in `url` (which logs show).
 */
export function parseProxyUrl(setting: RawSetting): DeliveryProxy {
  let url: URL;
  try {
    url = new URL(setting.value);
  } catch {
    throw new ConfigError(setting.source, 'expected a URL like http://proxy.internal:3128');
  }
  if (url.protocol !== 'http:') {
    throw new ConfigError(
      setting.source,
      `only http:// proxies are supported (CONNECT; https receivers still get TLS end to end), got ${url.protocol}//`,
    );
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(setting.source, 'a proxy URL has no path, query or fragment: http://host:port');
  }
  const user = decodedUserinfo(setting, url.username);
  const password = decodedUserinfo(setting, url.password);
  // RFC 7617: a user-id with a colon cannot be sent; the proxy would read a different user and
  // password, and refuse Herald (407) on every delivery.
  if (user.includes(':')) {
    throw new ConfigError(
      setting.source,
      'the user cannot hold ":" (%3A): Basic authentication ends the user at the first ":", the proxy would take the rest for the password; the password may hold it',
    );
  }
  const authorization =
    user !== '' || password !== ''
      ? `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`
      : null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port === '' ? 80 : Number(url.port);
  return { url: `http://${url.host}`, host, port, authorization, bypass: { names: [], networks: [] } };
}

/**
 * The user or password as the proxy is to get it. A `%` not followed by two hex digits (a password
 * such as `50%off` written as it is) cannot be decoded: said naming the setting, and without the
 * value, which holds the password.
 */
function decodedUserinfo(setting: RawSetting, encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new ConfigError(
      setting.source,
      'the user and password are percent-encoded in a URL: write % as %25 (and @ : / as %40 %3A %2F)',
    );
  }
}
