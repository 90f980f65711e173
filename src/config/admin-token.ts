import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error.ts';
import { makeDirectory } from './make-directory.ts';
import type { RawSetting } from './parse-setting.ts';

/** File in the data directory that keeps a generated admin token across restarts. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** Shortest admin token accepted from an operator: anything shorter is guessable. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/** HERALD_ADMIN_TOKEN as the operator set it: long enough, no spaces. */
export function parseAdminToken(setting: RawSetting): string {
  if (setting.value.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(setting.value)) {
    throw new ConfigError(
      setting.source,
      `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters without spaces (try: openssl rand -base64 32)`,
    );
  }
  return setting.value;
}

export interface ResolvedAdminToken {
  token: string;
  /** True only when this call created the token (the caller prints it, once). */
  generated: boolean;
  /** Where a generated token is kept. */
  file: string;
}

/**
 * The admin token to use when the operator set none: the one kept in `<dataDir>/admin-token`, or a
 * new one (32 random bytes, base64url) written there with mode 0600. Keeping it means a restart does
 * not lock out every script that already uses it. The file is written under a temporary name and
 * then hard-linked into place (atomic, fails if the name exists), so two processes starting on one
 * data directory agree on a single token and neither ever reads a half-written file.
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
    return { token, generated: true, file };
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
}

function readTokenFile(file: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    // ENOTDIR: a part of the data directory's path is a file, so there is no token file either;
    // creating the directory then fails, naming HERALD_DATA_DIR (resolveAdminToken).
    if (isErrno(cause, 'ENOENT') || isErrno(cause, 'ENOTDIR')) return null;
    throw new ConfigError('HERALD_ADMIN_TOKEN', `cannot read ${file}`, { cause });
  }
  const token = text.trim();
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ConfigError(
      'HERALD_ADMIN_TOKEN',
      `${file} holds no usable token (at least ${MIN_ADMIN_TOKEN_LENGTH} characters); delete it to generate a new one`,
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
    kept = readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
  if (kept.length === 0) return null;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(kept), digest(token)) ? null : file;
}
