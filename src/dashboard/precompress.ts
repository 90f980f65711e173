/**
 * Precompression of the built dashboard: after `vite build`, every text file of dist/dashboard gets a
 * brotli (`.br`) and a gzip (`.gz`) sibling, made once with node:zlib at their highest settings.
 * serve.ts hands them to browsers that accept them (@fastify/static `preCompressed`: Content-Encoding,
 * Vary: Accept-Encoding, an ETag of its own), and the plain file to the others. No dependency.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'vite';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Files worth compressing: text. Images other than SVG, fonts and archives are compressed already. */
const TEXT = new Set(['.js', '.mjs', '.css', '.html', '.svg', '.json', '.txt', '.map', '.webmanifest']);

export interface Precompressed {
  /** Path relative to the directory, with `/`. */
  file: string;
  bytes: number;
  /** Size of the `.gz` written, or null when gzip would not have made it smaller (none written). */
  gzip: number | null;
  /** Size of the `.br` written, or null when brotli would not have made it smaller (none written). */
  br: number | null;
}

/** Writes `<file>.br` and `<file>.gz` beside every text file under `dir` that they make smaller. */
export async function precompressDir(dir: string): Promise<Precompressed[]> {
  const root = resolve(dir);
  const results: Precompressed[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !TEXT.has(extname(entry.name).toLowerCase())) continue;
    const path = join(entry.parentPath, entry.name);
    const content = await readFile(path);
    const [br, gz] = await Promise.all([
      brotli(content, {
        params: {
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: content.length,
        },
      }),
      gzipAsync(content, { level: constants.Z_BEST_COMPRESSION }),
    ]);
    const smaller = (compressed: Buffer) => compressed.length < content.length;
    if (smaller(br)) await writeFile(`${path}.br`, br);
    if (smaller(gz)) await writeFile(`${path}.gz`, gz);
    results.push({
      file: relative(root, path).split('\\').join('/'),
      bytes: content.length,
      gzip: smaller(gz) ? gz.length : null,
      br: smaller(br) ? br.length : null,
    });
  }
  return results.sort((a, b) => a.file.localeCompare(b.file));
}

/** Vite plugin: precompress the build's output directory once the bundle is written. */
export function precompressPlugin(): Plugin {
  let outDir = '';
  return {
    name: 'herald-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    async closeBundle() {
      await precompressDir(outDir);
    },
  };
}
