/**
 * The one `listen` of a Herald process, with port 0 resolved first so the app knows its address.
 */
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from './config/config-error.ts';
import type { Config } from './config/config-types.ts';
import { deepFreeze } from './config/deep-freeze.ts';
import { defaultPublicUrl } from './config/parse-addresses.ts';

/**
 * Listens on config.host:config.port. Port 0 is first resolved to a free port, so that the app is
 * built knowing its real address (portal links carry the public URL); if another process grabs
 * that port in the instant between, a new one is picked.
 */
export async function listenWithRetry(
  config: Config,
  build: (config: Config) => FastifyInstance,
): Promise<{ app: FastifyInstance; port: number }> {
  const attempts = config.port === 0 ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const finalConfig =
      config.port === 0
        ? withPort(
            config,
            await findFreePort(config.host).catch((error: unknown) => {
              throw listenError(error, config.host, 0);
            }),
          )
        : config;
    const app = build(finalConfig);
    // Fastify logs "Server listening at …" (one line per interface on 0.0.0.0); Herald's single
    // ready line replaces it, so the app's own logger (a child) is quiet for the listen call.
    const level = app.log.level;
    if (['info', 'debug', 'trace'].includes(level)) app.log.level = 'warn';
    try {
      await app.listen({ port: finalConfig.port, host: finalConfig.host });
      app.log.level = level;
      return { app, port: finalConfig.port };
    } catch (error) {
      app.log.level = level;
      await app.close().catch(() => undefined);
      const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!inUse || attempt >= attempts) throw listenError(error, finalConfig.host, finalConfig.port);
    }
  }
}

/**
 * A listen that failed for a reason the operator's settings explain, as a ConfigError naming the
 * setting (the start then ends with that one line); anything else as it came.
 */
export function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const options = { cause: error };
  switch (code) {
    case 'EADDRINUSE':
      return new ConfigError(
        'HERALD_PORT (--port)',
        `${address} is already in use by another process: stop it, or choose another port`,
        options,
      );
    case 'EACCES':
      return new ConfigError(
        'HERALD_PORT (--port)',
        `this process may not listen on ${address} (ports under 1024 need privileges): choose a port of 1024 or more, or put a proxy in front`,
        options,
      );
    case 'EADDRNOTAVAIL':
      return new ConfigError(
        'HERALD_HOST (--host)',
        `${host} is not an address of this machine: use 127.0.0.1, 0.0.0.0 (every interface) or one of its interfaces' addresses`,
        options,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new ConfigError(
        'HERALD_HOST (--host)',
        `"${host}" does not resolve to an address: use an IP address of this machine, 0.0.0.0 or a name it resolves`,
        options,
      );
    default:
      return error;
  }
}

/** The config with a concrete port; the public URL follows when it was the derived default. */
function withPort(config: Config, port: number): Config {
  const derived = config.publicUrl === defaultPublicUrl(config.host, config.port);
  return deepFreeze({
    ...config,
    port,
    publicUrl: derived ? defaultPublicUrl(config.host, port) : config.publicUrl,
  });
}

function findFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
