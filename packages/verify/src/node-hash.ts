import { createHash, createHmac } from 'node:crypto';
import type { HashProvider } from './types.ts';

/** The default {@link HashProvider}: `node:crypto`, synchronous and fast. */
export const nodeHash: HashProvider = {
  hmac(algorithm, key, parts, encoding) {
    const mac = createHmac(algorithm, key);
    for (const part of parts) mac.update(part);
    return mac.digest(encoding);
  },
  sha256(parts, encoding) {
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part);
    return hash.digest(encoding);
  },
};
