/**
 * Where the API commands of the CLI (events, endpoints, deliveries, listen) find a running Herald:
 * flags, then HERALD_URL and HERALD_TOKEN (or HERALD_ADMIN_TOKEN), then http://127.0.0.1:8080 and the
 * admin token a local `herald serve` saved in its data directory. Client-side settings: the server's
 * own come from load-config.ts. As there, an empty flag or variable (`HERALD_TOKEN=`) counts as unset.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ADMIN_TOKEN_FILE } from './admin-token.ts';
import { pickSetting } from './parse-setting.ts';

export interface ConnectionFlags {
  url?: string;
  token?: string;
  dataDir?: string;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/**
 * The URL and token to use; `token` is undefined when none was found anywhere. For messages:
 * `urlSource` is the flag or variable the URL came from (`--url`, `HERALD_URL`; `--url` for the
 * default), `urlFrom` the same but null for the default, `tokenFile` the admin-token file looked at.
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): { url: string; urlSource: string; urlFrom: string | null; token: string | undefined; tokenFile: string } {
  const pick = (flag: string, value: string | undefined, name: string) =>
    pickSetting({ name: flag, value }, { name, value: env[name] });
  const url = pick('--url', flags.url, 'HERALD_URL');
  const token =
    pick('--token', flags.token, 'HERALD_TOKEN') ?? pick('--token', undefined, 'HERALD_ADMIN_TOKEN');
  const dataDir = pick('--data-dir', flags.dataDir, 'HERALD_DATA_DIR');
  const tokenFile = join(resolve(dataDir?.value ?? './herald-data'), ADMIN_TOKEN_FILE);
  return {
    url: url?.value ?? DEFAULT_API_URL,
    urlSource: url?.source ?? '--url',
    urlFrom: url?.source ?? null,
    token: token?.value ?? savedToken(tokenFile),
    tokenFile,
  };
}

function savedToken(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
