import { X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';
import { ConfigError } from './config-error.ts';
import type { RawSetting } from './parse-setting.ts';
import { CA_FILE_BOUND, readStartFile } from './read-start-file.ts';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]+?\r?\n-----END CERTIFICATE-----/g;

/**
 * HERALD_TLS_CA_FILE: a PEM file of one or more CA certificates that deliveries trust besides the
 * system ones (receivers behind a private CA). Read and checked once at start, so a missing file or
 * a key pasted by mistake stops Herald with a line naming the variable instead of failing every
 * HTTPS delivery with `tls`. Returns the certificates as PEM text, nothing else from the file.
 */
export function parseTlsCaFile(setting: RawSetting): string {
  const path = resolve(setting.value);
  let text: string;
  try {
    text = readStartFile(path, setting.source, CA_FILE_BOUND);
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause; // past its bound, or no regular file
    throw new ConfigError(setting.source, `cannot read ${path}`, { cause });
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new ConfigError(setting.source, `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (cause) {
      throw new ConfigError(
        setting.source,
        `certificate ${i + 1} of ${blocks.length} in ${path} does not parse`,
        {
          cause,
        },
      );
    }
  });
  return `${blocks.join('\n')}\n`;
}
