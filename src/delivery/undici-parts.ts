/**
 * The two parts of undici the sender uses, Pool and buildConnector, required from their own files
 * rather than from 'undici': its index loads every other part too (fetch, WebSocket, EventSource,
 * the mock agent, the cache, cookies, whose module reads globalThis.Headers and so loads Node's
 * own copy of undici besides), ~0.1 s of the dispatcher thread's CPU at every start for nothing
 * the sender runs. They are the same classes the index exports (it requires these files); their
 * types are undici's.
 */
import { createRequire } from 'node:module';
import type * as undici from 'undici';

const require = createRequire(import.meta.url);

export const Pool: typeof undici.Pool = require('undici/lib/dispatcher/pool.js');
export type Pool = undici.Pool;
export const buildConnector: typeof undici.buildConnector = require('undici/lib/core/connect.js');
