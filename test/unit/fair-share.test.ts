/** How delivery slots are shared between projects (src/delivery/fair-share.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectRoomNow } from '../../src/delivery/fair-share.ts';

/** The defaults: 1024 per process, 768 per project, 64 per endpoint (the reserve: 256). */
const room = (own: number, free: number) =>
  projectRoomNow({ own, free, projectCap: 768, processCap: 1024, smallProject: 64 });

test('an idle process gives one project up to its cap', () => {
  assert.equal(room(0, 1024), 768);
  assert.equal(room(700, 324), 68);
  assert.equal(room(768, 256), 0);
});

test('the last 256 free slots go only to projects with fewer than 64 in flight', () => {
  // A second tenant next to one at its cap: 64 of the reserve, then nothing.
  assert.equal(room(0, 256), 64);
  assert.equal(room(63, 193), 1);
  assert.equal(room(64, 192), 0);
  // A third: the reserve's next 64.
  assert.equal(room(0, 192), 64);
  // A large project with free slots above the reserve uses those, not the reserve.
  assert.equal(room(100, 300), 44);
  assert.equal(room(100, 256), 0);
  // A small one may take its 64 across the line and then only what is above the reserve.
  assert.equal(room(10, 400), 54 + 90);
});

test('never more than the free slots, never negative', () => {
  assert.equal(room(0, 10), 10);
  assert.equal(room(0, 0), 0);
  assert.equal(room(0, -5), 0);
  assert.equal(room(900, 500), 0);
});

test('with the project cap at the process cap there is no reserve', () => {
  const all = (own: number, free: number) =>
    projectRoomNow({ own, free, projectCap: 1024, processCap: 1024, smallProject: 64 });
  assert.equal(all(0, 1024), 1024);
  assert.equal(all(1000, 24), 24);
  assert.equal(all(500, 3), 3);
});
