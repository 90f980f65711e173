/**
 * Where the API commands of the CLI (events, endpoints, deliveries, listen) find a running Herald:
 * flags, then HERALD_URL and HERALD_TOKEN (or HERALD_ADMIN_TOKEN), then http://127.0.0.1:8080 and the
 * admin token a local `herald serve` saved in its data directory, which goes only to a URL on this
 * machine: that token is the local server's, and a --url elsewhere (a forgotten --token) would hand
 * it to another server. Client-side settings: the server's own come from load-config.ts. As there,
 * an empty flag or variable (`HERALD_TOKEN=`) counts as unset.
 */
import { join, resolve } from 'node:path';
import { isLoopbackUrl } from '../domain/loopback-url.ts';
import { ADMIN_TOKEN_FILE } from './admin-token.ts';
import { pickSetting } from './parse-setting.ts';
import { DATA_DIR_FILE_BOUND, readStartFile } from './read-start-file.ts';

export interface ConnectionFlags {
  url?: string;
  token?: string;
  dataDir?: string;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/**
 * The URL and token to use; `token` is undefined when none was found anywhere. For messages:
 * `urlSource` is the flag or variable the URL came from (`--url`, `HERALD_URL`; `--url` for the
 * default), `urlFrom` the same but null for the default, `tokenFile` the admin-token file looked at
 * (only for a URL on this machine: `savedTokenApplies`).
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): {
  url: string;
  urlSource: string;
  urlFrom: string | null;
  token: string | undefined;
  /**
   * Where `token` came from, for messages: `--token`, `HERALD_TOKEN`, `HERALD_ADMIN_TOKEN`, or
   * `tokenFile` (the saved admin token); null when there is none.
   */
  tokenSource: string | null;
  /** Whether HERALD_ADMIN_TOKEN is set too, behind the token taken (for the 401's words). */
  adminTokenShadowed: boolean;
  tokenFile: string;
  /** Whether the URL is on this machine, where the saved admin token may go. */
  savedTokenApplies: boolean;
} {
  const pick = (flag: string, value: string | undefined, name: string) =>
    pickSetting({ name: flag, value }, { name, value: env[name] });
  const url = pick('--url', flags.url, 'HERALD_URL');
  const token =
    pick('--token', flags.token, 'HERALD_TOKEN') ?? pick('--token', undefined, 'HERALD_ADMIN_TOKEN');
  const dataDir = pick('--data-dir', flags.dataDir, 'HERALD_DATA_DIR');
  const tokenFile = join(resolve(dataDir?.value ?? './herald-data'), ADMIN_TOKEN_FILE);
  const target = url?.value ?? DEFAULT_API_URL;
  const local = onThisMachine(target);
  const saved = token === null && local ? savedToken(tokenFile) : undefined;
  return {
    url: target,
    urlSource: url?.source ?? '--url',
    urlFrom: url?.source ?? null,
    token: token?.value ?? saved,
    tokenSource: token?.source ?? (saved === undefined ? null : tokenFile),
    adminTokenShadowed:
      token !== null && token.source !== 'HERALD_ADMIN_TOKEN' && Boolean(env.HERALD_ADMIN_TOKEN?.trim()),
    tokenFile,
    savedTokenApplies: local,
  };
}

/**
 * A loopback address, or `localhost`: not `*.localhost`, which the API client resolves through the
 * system resolver, and which glibc with `hosts: files dns` asks a DNS server for (its answer would
 * get the token). `herald listen` answers those names itself; the client does not.
 */
function onThisMachine(url: string): boolean {
  try {
    const parsed = new URL(url);
    return isLoopbackUrl(parsed) && !parsed.hostname.toLowerCase().replace(/\.$/, '').endsWith('.localhost');
  } catch {
    return false; // not a URL: refused when the client is made, naming the setting
  }
}

function savedToken(file: string): string | undefined {
  try {
    return readStartFile(file, 'HERALD_ADMIN_TOKEN', DATA_DIR_FILE_BOUND).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The process's environment, which settings come from: read here, in src/config, and handed on
 * (the CLI's run carries it to its commands, src/cli/cli-io.ts; tests hand their own).
 */
export function processEnvironment(): NodeJS.ProcessEnv {
  return process.env;
}
