/**
 * The one `listen` of a Herald process, with port 0 resolved first so the app knows its address.
 */
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config-types.ts';
import { deepFreeze } from './config/deep-freeze.ts';
import { defaultPublicUrl } from './config/load-config.ts';

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
    const finalConfig = config.port === 0 ? withPort(config, await findFreePort(config.host)) : config;
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
      if (!inUse || attempt >= attempts) throw error;
    }
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
