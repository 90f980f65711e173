/**
 * Preload (`node --import`) that makes this Node 24 look, to the code it then runs, like an older
 * Node: it deletes the built-ins that version did not have yet (HERALD_OLDER_NODE=20.18.1, say).
 * The packaging tests run the packed @herald/* packages under it for every Node line their
 * `engines` admit, as customers on Node 20 and 22 run them: a call to a newer built-in fails there
 * as it would for them (`URL.parse is not a function` on Node 22.0). Only built-ins added since
 * Node 20 are listed (a package's oldest); behaviour that changed without a new name is not seen.
 */

/** A built-in's path from globalThis, the first Node versions that have it (one per line backported to). */
const SINCE: [path: string, firsts: string[]][] = [
  // Node 20.x lines
  ['AbortSignal.any', ['18.17.0', '20.3.0']],
  ['URL.parse', ['20.18.0', '22.1.0']],
  ['process.getBuiltinModule', ['20.16.0', '22.3.0']],
  // Node 21 (V8 11.8)
  ['Object.groupBy', ['21.0.0']],
  ['Map.groupBy', ['21.0.0']],
  ['ArrayBuffer.prototype.transfer', ['21.0.0']],
  ['ArrayBuffer.prototype.transferToFixedLength', ['21.0.0']],
  ['JSON.rawJSON', ['21.0.0']],
  ['JSON.isRawJSON', ['21.0.0']],
  ['navigator', ['21.0.0']],
  // Node 22 (V8 12.4)
  ['Promise.withResolvers', ['22.0.0']],
  ['Array.fromAsync', ['22.0.0']],
  ['Iterator', ['22.0.0']],
  ...[
    'union',
    'intersection',
    'difference',
    'symmetricDifference',
    'isSubsetOf',
    'isSupersetOf',
    'isDisjointFrom',
  ].map((name): [string, string[]] => [`Set.prototype.${name}`, ['22.0.0']]),
  ['WebSocket', ['22.0.0']],
  // Node 23 and 24
  ['Promise.try', ['23.0.0']],
  ['RegExp.escape', ['24.0.0']],
  ['Error.isError', ['24.0.0']],
  ['Float16Array', ['24.0.0']],
];

/** Iterator helpers live on the prototype of every built-in iterator, not under a global's name. */
const ITERATOR_HELPERS = [
  'map',
  'filter',
  'take',
  'drop',
  'flatMap',
  'reduce',
  'toArray',
  'forEach',
  'some',
  'every',
  'find',
];

function parse(version: string): number[] {
  return version.split('.').map(Number);
}

function atLeast(version: number[], first: number[]): boolean {
  for (let i = 0; i < 3; i++) {
    if ((version[i] ?? 0) !== (first[i] ?? 0)) return (version[i] ?? 0) > (first[i] ?? 0);
  }
  return true;
}

/**
 * Whether Node `version` has a built-in first released in `firsts`: from that release on in its own
 * line, and in every line after the newest of them (the others are backports to older lines; a
 * line in between, such as 21 for one of 22.1 backported to 20.18, never got it).
 */
export function hasBuiltin(version: string, firsts: string[]): boolean {
  const v = parse(version);
  const sameLine = firsts.find((f) => parse(f)[0] === v[0]);
  if (sameLine) return atLeast(v, parse(sameLine));
  return (v[0] ?? 0) > Math.max(...firsts.map((f) => parse(f)[0] ?? 0));
}

/** The built-ins (paths from globalThis) that Node `version` lacks. */
export function missingBuiltins(version: string): string[] {
  const missing = SINCE.filter(([, firsts]) => !hasBuiltin(version, firsts)).map(([path]) => path);
  if (missing.includes('Iterator'))
    missing.push(...ITERATOR_HELPERS.map((name) => `%IteratorPrototype%.${name}`));
  return missing;
}

const emulated = process.env.HERALD_OLDER_NODE;
if (emulated) {
  const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([].values())) as object;
  for (const path of missingBuiltins(emulated)) {
    const names = path.split('.');
    const last = names.pop() as string;
    let owner: unknown = globalThis;
    for (const name of names) {
      owner = name === '%IteratorPrototype%' ? iteratorPrototype : (owner as Record<string, unknown>)[name];
    }
    if (owner === undefined || owner === null) continue;
    if (!Reflect.deleteProperty(owner as object, last) || last in (owner as object)) {
      throw new Error(`cannot remove ${path} to look like Node ${emulated}`);
    }
  }
}
