/**
 * A request Herald may have carried out although the CLI got no answer saying so: no answer at all
 * after it was sent (noAnswer), or a 5xx. `events send` then says which idempotency key to send it
 * again with; the commands that make an endpoint, an API key or a portal link, which have no such
 * key, say it may have been made and how to find it, as running them again would make a second
 * (and so when Ctrl-C stops them before the answer: making).
 */
import { constants as osConstants } from 'node:os';
import { HeraldApiError, HeraldNetworkError } from '@herald/client/errors';
import { type ConnectionFlags, resolveConnection } from '../config/client-connection.ts';
import { withoutCredentials } from '../domain/http-url.ts';
import { noAnswer } from './api-connection.ts';
import { cliIo } from './cli-io.ts';
import { CommandError } from './run-command.ts';
import { visible } from './terminal-text.ts';

/**
 * A 5xx answer (its last try's): the request may have been carried out, by that try or an earlier
 * one the client sent again. Null for any other error.
 */
export function failedAfterSending(error: unknown, flags: ConnectionFlags): Error | null {
  if (!(error instanceof HeraldApiError) || error.status < 500) return null;
  // Herald's own.
  if (!error.code.startsWith('http_')) return error;
  // Not in Herald's error format: a 502, 503 or 504 is a proxy's before Herald (docs/deployment.md
  // "Behind a proxy"), whose upstream closed the connection after the request (a crash after its
  // commit; Envoy says 503 "disconnect/reset before headers") or did not answer in time: Herald may
  // have stored it (the client sends such a 503 again only with the event's key). Any other
  // (`http_500`) is from something else at --url: said as such by the CLI's error handling.
  if (error.status !== 502 && error.status !== 503 && error.status !== 504) return null;
  const { url } = resolveConnection(flags, cliIo().env);
  return new Error(
    `${withoutCredentials(url)} answered ${error.status}, not in Herald's error format: a proxy's answer, which comes after it passed the request on to Herald`,
  );
}

/** What went wrong (noAnswer or failedAfterSending) when the request may have been carried out; else null. */
export function sentWithoutAnswer(error: unknown, flags: ConnectionFlags): Error | null {
  // Cut off while being written, or refused: Herald had none of it whole (noAnswer words it).
  if (error instanceof HeraldNetworkError && error.notStored) return null;
  return noAnswer(error, flags) ?? failedAfterSending(error, flags);
}

/**
 * For a request that makes something (`made`: what may have been made, and how to find or end it,
 * as a sentence): a CommandError saying what went wrong and then `made`, when the request may have
 * been carried out; `error` itself otherwise.
 */
export function mayHaveMade(error: unknown, flags: ConnectionFlags, made: string): unknown {
  const lost = sentWithoutAnswer(error, flags);
  if (!lost) return error;
  const said = lost.message.replace(/[.?!]?$/, (end) => end || '.');
  return new CommandError(`${said} ${made}`);
}

/**
 * `request`, one that makes something, awaited: a failure after it may have been carried out is
 * worded by mayHaveMade, and Ctrl-C or a stop (SIGINT, SIGTERM) before its answer ends the process
 * with `made` on stderr and exit code 128 + the signal (130, 143), where it ended without a word.
 */
export async function making<T>(request: Promise<T>, flags: ConnectionFlags, made: string): Promise<T> {
  const stopped = (signal: NodeJS.Signals) => {
    cliIo().stderr.write(`herald: ${visible(`stopped by ${signal} before Herald answered: ${made}`)}\n`);
    process.exit(128 + osConstants.signals[signal]);
  };
  process.once('SIGINT', stopped).once('SIGTERM', stopped);
  try {
    return await request;
  } catch (error) {
    throw mayHaveMade(error, flags, made);
  } finally {
    process.off('SIGINT', stopped).off('SIGTERM', stopped);
  }
}
