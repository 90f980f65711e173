/**
 * `herald event-types import FILE` through the real bin, on a SQLite data directory of its own:
 * what it refuses and what it says.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { runHerald } from './harness.ts';

describe('herald event-types import', () => {
  let dir: string;
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-cli-import-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Imports `content` (a catalog's text) into the data directory `data`. */
  const importText = (data: string, content: string | Buffer) => {
    const file = join(dir, `catalog-${++n}.json`);
    writeFileSync(file, content);
    // In this process (run-herald-in-process.ts); another working directory in one of its own.
    return { file, run: runHeraldInProcess(['event-types', 'import', file, '--data-dir', join(dir, data)]) };
  };
  const stored = async (data: string, name: string) => {
    const store = await openStore(`sqlite:${join(dir, data, 'herald.db')}`);
    try {
      const t = await store.getEventType(name);
      return { schema: t?.schema, example: t?.example };
    } finally {
      await store.close();
    }
  };

  test('an entry giving one of schema and example is checked against the stored other, as PUT checks it', async () => {
    const first = await importText('pair', JSON.stringify([{ name: 'a', schema: {}, example: 1 }])).run;
    assert.equal(first.code, 0, first.stderr);
    const schemaOnly = importText('pair', JSON.stringify([{ name: 'a', schema: { type: 'string' } }]));
    const refused = await schemaOnly.run;
    assert.equal(refused.code, 1, refused.stdout);
    assert.equal(
      refused.stderr,
      `herald: ${schemaOnly.file}: eventTypes[0] (a).schema: the stored example does not match the schema: example must be string (schema keyword #/type)\n`,
    );
    const exampleOnly = await importText(
      'pair',
      JSON.stringify([
        { name: 'a', schema: { type: 'integer' } },
        { name: 'b', example: 'x' },
      ]),
    ).run;
    assert.equal(exampleOnly.code, 0, exampleOnly.stderr);
    const wrongExample = importText('pair', JSON.stringify([{ name: 'b' }, { name: 'a', example: 'x' }]));
    const refused2 = await wrongExample.run;
    assert.equal(refused2.code, 1, refused2.stdout);
    assert.equal(
      refused2.stderr,
      `herald: ${wrongExample.file}: eventTypes[1] (a).example: against the stored schema: does not match the schema: example must be integer (schema keyword #/type)\n`,
    );
    assert.deepEqual(await stored('pair', 'a'), { schema: { type: 'integer' }, example: 1 });
  });

  test('a file starting with a UTF-8 byte-order mark (as some Windows editors save) imports', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const text = JSON.stringify({ eventTypes: [{ name: 'bom.first', example: { k: 'é' } }] });
    const run = await importText('bom', Buffer.concat([bom, Buffer.from(text)])).run;
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await stored('bom', 'bom.first'), { schema: null, example: { k: 'é' } });
  });

  test('a top-level key other than eventTypes and the notes the shipped catalogs carry is refused, naming it', async () => {
    const notes = {
      service: 'S',
      description: 'd',
      eventNames: 'n',
      recommendedEndpoint: { method: 'POST' },
    };
    const fine = await importText('keys', JSON.stringify({ ...notes, eventTypes: [{ name: 'k.one' }] })).run;
    assert.equal(fine.code, 0, fine.stderr);
    for (const [catalog, key] of [
      [{ eventTypes: [{ name: 'k.two' }], evenTypes: [{ name: 'k.three' }] }, 'evenTypes'],
      [{ eventtypes: [{ name: 'k.two' }] }, 'eventtypes'],
    ] as const) {
      const { file, run } = importText('keys', JSON.stringify(catalog));
      const refused = await run;
      assert.equal(refused.code, 1, refused.stdout);
      assert.equal(
        refused.stderr,
        `herald: ${file}: unknown top-level key "${key}": a catalog holds "eventTypes" (and may hold notes for people in "service", "description", "eventNames", "recommendedEndpoint")\n`,
      );
    }
    assert.equal((await stored('keys', 'k.two')).schema, undefined, 'nothing of a refused file stored');
  });

  test('says what it imported on stderr, as every herald: line, leaving stdout empty', async () => {
    for (const [entries, count] of [
      [[{ name: 's.one' }], '1 event type'],
      [[{ name: 's.one' }, { name: 's.two' }], '2 event types'],
    ] as const) {
      const { file, run } = importText('status', JSON.stringify(entries));
      const done = await run;
      assert.equal(done.code, 0, done.stderr);
      assert.equal(done.stdout, '');
      assert.equal(done.stderr, `herald: imported ${count} from ${file}\n`);
    }
  });

  test('run where no database is, with none named, it refuses rather than import into a new one no herald serve reads', async () => {
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    const file = join(dir, 'wrong-place.json');
    writeFileSync(file, JSON.stringify([{ name: 'w.one' }]));
    const refused = await runHerald(['event-types', 'import', file], { cwd: elsewhere });
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(refused.stdout, '');
    assert.equal(
      refused.stderr,
      `herald: there is no database at ${join(elsewhere, 'herald-data', 'herald.db')}, the default place (./herald-data in the current directory): run the import where herald serve runs, or name its database with --data-dir DIR or --database URL (or HERALD_DATA_DIR, HERALD_DATABASE_URL); nothing was imported\n`,
    );
    assert.ok(!existsSync(join(elsewhere, 'herald-data')), 'no data directory made');
    // Where serve runs (the database exists), or with the place named, it imports.
    const named = await runHerald(['event-types', 'import', file, '--data-dir', join(elsewhere, 'new')], {
      cwd: elsewhere,
    });
    assert.equal(named.code, 0, named.stderr);
    const inPlace = await runHerald(['event-types', 'import', file], {
      cwd: elsewhere,
      env: { HERALD_DATA_DIR: 'new' },
    });
    assert.equal(inPlace.code, 0, inPlace.stderr);
  });
});
