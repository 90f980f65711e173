/**
 * The files a start reads besides the database (HERALD_TLS_CA_FILE; the data directory's
 * encryption-key, admin-token and admin-token.unshown), read as text up to a bound that fits what
 * each holds, from a regular file only. One past its bound, or no regular file (a named pipe, a
 * device, a directory), is a ConfigError naming the setting, the file and the bound, and no more
 * of it is read. Until 2026-12-07 each was read whole: a 256 MiB file was read into memory before
 * it was refused as no certificate or no key, /dev/zero without end, and a named pipe no one wrote
 * to held the start forever.
 */
import { ConfigError } from './config-error.ts';
import { FileTooLargeError, NotRegularFileError, readFileUpTo } from './read-file-up-to.ts';

export interface StartFileBound {
  maxBytes: number;
  /** The bound in words, e.g. `4 MiB`. */
  size: string;
  /** What the file holds, for the refusal. */
  holds: string;
}

/**
 * HERALD_TLS_CA_FILE: 4 MiB, some 19 times Debian's whole system bundle (ca-certificates.crt,
 * 0.22 MB for ~140 public CAs), so a bundle with every public CA and private ones beside fits;
 * more is no list of CAs to trust.
 */
export const CA_FILE_BOUND: StartFileBound = {
  maxBytes: 4 * 1024 * 1024,
  size: '4 MiB',
  holds: 'a CA bundle (the whole system one is ~0.2 MiB)',
};

/**
 * The data directory's key and token files: 4 KiB, four times the longest admin token (1024
 * characters, MAX_BEARER_TOKEN_LENGTH); a key is 44 or 64 characters, the unshown mark 64.
 */
export const DATA_DIR_FILE_BOUND: StartFileBound = {
  maxBytes: 4096,
  size: '4 KiB',
  holds: 'a key or a token (at most 1024 characters)',
};

/**
 * `path` as UTF-8 text, at most `bound.maxBytes` of it; past the bound, or no regular file, a
 * ConfigError of `setting`. Other errors (ENOENT, EACCES) are thrown as they are: the caller knows
 * what a missing file means.
 */
export function readStartFile(path: string, setting: string, bound: StartFileBound): string {
  try {
    return readFileUpTo(path, bound.maxBytes, { regularOnly: true }).toString('utf8');
  } catch (error) {
    const most = `${bound.maxBytes} bytes (${bound.size})`;
    if (error instanceof FileTooLargeError) {
      const holds = error.size === null ? 'more than that' : `${error.size} bytes`;
      throw new ConfigError(
        setting,
        `${path} holds ${holds}, past ${most}, the most Herald reads of ${bound.holds}: it is not that file`,
      );
    }
    if (error instanceof NotRegularFileError) {
      throw new ConfigError(
        setting,
        `${path} is ${error.kind}, not a regular file: Herald reads ${bound.holds}, at most ${most}, from a regular file only`,
      );
    }
    throw error;
  }
}
