/** Loads test/fixtures/signing-vectors.json (the published vectors) with its types. */
import { readFileSync } from 'node:fs';
import type { HttpMethod, SchemeOptions, SignatureScheme } from '../src/index.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface SigningVector {
  name: string;
  description: string;
  signature: { scheme: SignatureScheme } & SchemeOptions;
  secrets: string[];
  envelope: 'standard' | 'event-data' | 'raw';
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  event: { id: string; type: string; payload: JsonValue; createdAt: string };
  timestamp: number;
  nowMs: number;
  content: JsonValue;
  signedString: string | null;
  expected: {
    method: HttpMethod;
    url: string;
    headers: Record<string, string>;
    extraHeaders: Record<string, string>;
    body: string | null;
  };
  payload: JsonValue;
}

export const VECTORS_PATH = new URL('../../../test/fixtures/signing-vectors.json', import.meta.url);

/** Every vector in the fixture file. */
export function loadVectors(): SigningVector[] {
  return (JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as { vectors: SigningVector[] }).vectors;
}

/** All headers a receiver gets for a vector (signature headers, user-agent, custom ones). */
export function receivedHeaders(vector: SigningVector): Record<string, string> {
  return { ...vector.expected.headers, ...vector.expected.extraHeaders };
}
