import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { linkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error.ts';
import { makeDirectory } from './make-directory.ts';
import type { RawSetting } from './parse-setting.ts';
import { DATA_DIR_FILE_BOUND, readStartFile } from './read-start-file.ts';

/** File in the data directory that keeps a generated admin token across restarts. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * Beside the token file while its token has not been shown: written when the token is generated,
 * removed by the start that shows it (`claimUnshownAdminToken`), which is one that listens. A
 * start that fails before (a busy port, a database it cannot open, a kill) leaves it, so the next
 * start that serves shows the token, rather than reusing one printed only by a start that failed.
 * It holds the token's SHA-256 (hex), never the token: a token file replaced by hand is not shown.
 */
export const UNSHOWN_ADMIN_TOKEN_FILE = 'admin-token.unshown';

/** Shortest admin token accepted from an operator: anything shorter is guessable. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;
/** Longest bearer token the API reads (src/api/auth.ts): a longer admin token could never be used. */
export const MAX_BEARER_TOKEN_LENGTH = 1024;

/**
 * What is wrong with `token` as an admin token, or null. Printable ASCII only: a header value
 * arrives as bytes read one character each, so a token with any other character (`ä`, sent as two
 * UTF-8 bytes) never equals what a client sends, and Node refuses control characters in headers.
 */
function adminTokenProblem(token: string): string | null {
  if (token.length < MIN_ADMIN_TOKEN_LENGTH || token.length > MAX_BEARER_TOKEN_LENGTH) {
    return `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters and at most ${MAX_BEARER_TOKEN_LENGTH}`;
  }
  if (!/^[\x21-\x7e]+$/.test(token)) return 'must be printable ASCII characters, without spaces';
  return null;
}

/** HERALD_ADMIN_TOKEN as the operator set it: a length a bearer token can have, printable ASCII. */
export function parseAdminToken(setting: RawSetting): string {
  const problem = adminTokenProblem(setting.value);
  if (problem !== null) {
    throw new ConfigError(setting.source, `${problem} (try: openssl rand -base64 32)`);
  }
  return setting.value;
}

export interface ResolvedAdminToken {
  token: string;
  /** True only when this call created the token (shown once a start listens: claimUnshownAdminToken). */
  generated: boolean;
  /** Where a generated token is kept. */
  file: string;
}

/**
 * The admin token to use when the operator set none: the one kept in `<dataDir>/admin-token`, or a
 * new one (32 random bytes, base64url) written there with mode 0600. Keeping it means a restart does
 * not lock out every script that already uses it. The file is written under a temporary name and
 * then hard-linked into place (atomic, fails if the name exists), so two processes starting on one
 * data directory agree on a single token and neither ever reads a half-written file. A new token
 * is marked as not yet shown (UNSHOWN_ADMIN_TOKEN_FILE) once it is in place.
 */
export function resolveAdminToken(dataDir: string): ResolvedAdminToken {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  const existing = readTokenFile(file);
  if (existing !== null) return { token: existing, generated: false, file };

  try {
    makeDirectory(dataDir, 0o700);
  } catch (cause) {
    throw new ConfigError(
      'HERALD_DATA_DIR',
      `cannot create data directory ${dataDir}, where a generated admin token is kept; set HERALD_DATA_DIR (or --data-dir) to a writable directory, or set HERALD_ADMIN_TOKEN`,
      { cause },
    );
  }
  const token = randomBytes(32).toString('base64url');
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, `${token}\n`, { mode: 0o600, flag: 'wx' });
    linkSync(temporary, file);
  } catch (cause) {
    // Another process put its token in place between our read and our link: use theirs.
    if (isErrno(cause, 'EEXIST')) {
      const raced = readTokenFile(file);
      if (raced !== null) return { token: raced, generated: false, file };
    }
    throw new ConfigError('HERALD_ADMIN_TOKEN', `cannot store a generated admin token in ${file}`, { cause });
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // Never created, or already gone: nothing to clean up.
    }
  }
  // After the link: a process that lost the race above must not mark the winner's token.
  try {
    writeFileSync(join(dataDir, UNSHOWN_ADMIN_TOKEN_FILE), `${digestHex(token)}\n`, { mode: 0o600 });
  } catch (cause) {
    // A token in place but never to be shown would lock the operator out: take it back.
    try {
      unlinkSync(file);
    } catch {
      // The start fails below either way, naming the file.
    }
    throw new ConfigError('HERALD_ADMIN_TOKEN', `cannot store a generated admin token in ${file}`, { cause });
  }
  return { token, generated: true, file };
}

/**
 * True when `token`, the one in `dataDir`'s token file, is still to be shown and this call took
 * the showing: the caller prints it. A listening start calls it; of several that start at once on
 * one data directory, the one whose unlink removes the mark shows the token, the others do not.
 */
export function claimUnshownAdminToken(dataDir: string, token: string): boolean {
  if (!adminTokenUnshown(dataDir, token)) return false;
  try {
    unlinkSync(join(dataDir, UNSHOWN_ADMIN_TOKEN_FILE));
    return true;
  } catch {
    return false; // another start took it first, or the directory is no longer writable
  }
}

/** Whether `token` is marked in `dataDir` as generated and not yet shown. */
export function adminTokenUnshown(dataDir: string, token: string): boolean {
  let marked: string;
  try {
    marked = readStartFile(
      join(dataDir, UNSHOWN_ADMIN_TOKEN_FILE),
      'HERALD_ADMIN_TOKEN',
      DATA_DIR_FILE_BOUND,
    ).trim();
  } catch {
    return false;
  }
  return marked === digestHex(token);
}

const digestHex = (token: string): string => createHash('sha256').update(token).digest('hex');

function readTokenFile(file: string): string | null {
  let text: string;
  try {
    text = readStartFile(file, 'HERALD_ADMIN_TOKEN', DATA_DIR_FILE_BOUND);
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause; // past its bound, or no regular file
    // ENOTDIR: a part of the data directory's path is a file, so there is no token file either;
    // creating the directory then fails, naming HERALD_DATA_DIR (resolveAdminToken).
    if (isErrno(cause, 'ENOENT') || isErrno(cause, 'ENOTDIR')) return null;
    throw new ConfigError('HERALD_ADMIN_TOKEN', `cannot read ${file}`, { cause });
  }
  const token = text.trim();
  const problem = adminTokenProblem(token);
  if (problem !== null) {
    throw new ConfigError(
      'HERALD_ADMIN_TOKEN',
      `${file} holds no usable token (it ${problem}); delete it to generate a new one`,
    );
  }
  return token;
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/**
 * The token file of `dataDir` when it holds a token other than `token`: HERALD_ADMIN_TOKEN replaced
 * a generated one, and a start without the variable would accept the file's again (a rotation that
 * meant to end it). Null when there is no such file, it cannot be read, or it holds `token`.
 */
export function staleAdminTokenFile(dataDir: string, token: string): string | null {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  let kept: string;
  try {
    kept = readStartFile(file, 'HERALD_ADMIN_TOKEN', DATA_DIR_FILE_BOUND).trim();
  } catch {
    return null;
  }
  if (kept.length === 0) return null;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(kept), digest(token)) ? null : file;
}
