/**
 * The one check of an http(s) URL Herald is given (endpoint and callback URLs through the API,
 * HERALD_OPERATOR_WEBHOOK_URL and HERALD_PUBLIC_URL in the configuration): absolute, http or
 * https, its host written where it belongs, not port 0, no credentials in it.
 */

/** The parsed URL, or what is wrong with it (a phrase that follows the field's name). */
export function checkHttpUrl(value: string): { url: URL } | { problem: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: 'must be an absolute http or https URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: 'must use http or https' };
  // The WHATWG parser takes the path for the host when none is written (`http:///x`, `http:/x`
  // become `http://x/`). Read the URL as it does: leading C0 controls and spaces dropped, tabs and
  // newlines dropped anywhere, and `\` a slash in http(s) URLs.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: those are what the parser drops
  const written = value.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+/, '');
  const afterScheme = written.slice(written.indexOf(':') + 1);
  if (!/^[\\/]{2}[^\\/?#]/.test(afterScheme)) {
    return { problem: 'must name a host after "//" (e.g. https://hooks.example.com/path)' };
  }
  if (url.port === '0') return { problem: 'must not use port 0' };
  if (url.username || url.password) return { problem: 'must not contain credentials' };
  return { url };
}

/**
 * `value` as a message may quote it: a user name and password in it become `***`. A URL the parser
 * cannot read is masked from its scheme to its last `@`, which may be part of the password.
 */
export function withoutCredentials(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value.replace(/^([a-z][a-z0-9+.-]*:\/*)?.*@/i, '$1***@');
  }
  if (!url.username && !url.password) return value;
  url.username = '***';
  url.password = '';
  return url.href;
}

/**
 * `value` as a message may quote a webhook URL: as it was written up to its host and port, then
 * `…` for its path, query and fragment, which hold a chat or automation service's token (as the
 * operator webhook's log lines leave them out: src/operator/url-origin.ts). A user and password
 * before the host are masked (`***@`), as by withoutCredentials. The host ends where the parser
 * ends it, at the first `/`, `\`, `?` or `#`; an `@` after that is either in the path or query (its
 * token may follow it) or in a password holding one of those (its user and the start of it come
 * before): the text cannot tell which, so nothing after the scheme is quoted. Read from the text,
 * not the parsed URL, so that a URL refused for how its host is written is quoted as written
 * (`https:/host/…`).
 */
export function withoutPathOrCredentials(value: string): string {
  const [, scheme = '', slashes = '', after = ''] =
    /^([a-z][a-z0-9+.-]*:)?([\\/]*)([\s\S]*)$/i.exec(value) ?? [];
  const hostEnd = after.search(/[\\/?#]/);
  const authority = hostEnd === -1 ? after : after.slice(0, hostEnd);
  const rest = hostEnd === -1 ? '' : after.slice(hostEnd);
  if (rest.includes('@')) return `${scheme}${slashes}…`;
  const at = authority.lastIndexOf('@');
  const host = authority.slice(at + 1);
  const tail = rest === '' || rest === '/' ? rest : /^[\\/]/.test(rest) ? '/…' : '…';
  return `${scheme}${slashes}${at === -1 ? '' : '***@'}${host}${tail}`;
}
