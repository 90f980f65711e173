/**
 * Where the API commands of the CLI (events, endpoints, deliveries, listen) find a running Herald:
 * flags, then HERALD_URL and HERALD_TOKEN (or HERALD_ADMIN_TOKEN), then http://127.0.0.1:8080 and the
 * admin token a local `herald serve` saved in its data directory. Client-side settings: the server's
 * own come from load-config.ts.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ADMIN_TOKEN_FILE } from './admin-token.ts';

export interface ConnectionFlags {
  url?: string;
  token?: string;
  dataDir?: string;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** The URL and token to use; `token` is undefined when none was found anywhere. */
export function resolveConnection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): { url: string; token: string | undefined } {
  return {
    url: flags.url ?? env.HERALD_URL ?? DEFAULT_API_URL,
    token:
      flags.token ??
      env.HERALD_TOKEN ??
      env.HERALD_ADMIN_TOKEN ??
      savedToken(flags.dataDir ?? env.HERALD_DATA_DIR ?? './herald-data'),
  };
}

function savedToken(dataDir: string): string | undefined {
  try {
    return readFileSync(join(resolve(dataDir), ADMIN_TOKEN_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
