/**
 * The backlog scenario's claim probe also times claims that leave an endpoint out, as the
 * dispatcher leaves out one it is saturated on: before, it only ever timed claims of everything
 * due, so the path a saturated endpoint's backlog sends every claim down was never measured.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeClaims } from '../../bench/lib/claim-probe.ts';
import { createDatabase, launchHerald } from '../../bench/lib/herald-process.ts';

test('the probe claims the other endpoints’ work behind a backlog it leaves out', async () => {
  const db = await createDatabase('sqlite');
  try {
    // Role api: nothing is delivered, everything stays pending (the receiver is never reached).
    const api = await launchHerald(db, { role: 'api' });
    let saturated: string;
    try {
      const big = await api.api.createProject('big');
      saturated = await api.api.createEndpoint(big, 'http://127.0.0.1:9/big');
      const other = await api.api.createProject('other');
      await api.api.createEndpoint(other, 'http://127.0.0.1:9/other');
      for (let seq = 0; seq < 3_000; seq += 500) await api.api.sendBatch(big, seq, 500);
      await api.api.sendBatch(other, 0, 300); // behind the backlog in due order
    } finally {
      await api.stop();
    }
    const probe = await probeClaims(db.url, db.dataDir, 3_000, saturated);
    assert.equal(probe.rounds * probe.limit, 2_560);
    assert.ok(probe.p50Ms > 0);
    assert.ok(probe.leavingOut, 'claims leaving the endpoint out were timed');
    // All 300 of the other endpoint's, none of the 3,000 left out (10 claims of 256 could take 2,560).
    assert.equal(probe.leavingOut.claimed, 300);
    assert.ok(probe.leavingOut.p50Ms >= 0 && probe.leavingOut.maxMs >= probe.leavingOut.p50Ms);
    // The first series handed its claims back: a probe again finds the same.
    const again = await probeClaims(db.url, db.dataDir, 3_000, saturated);
    assert.equal(again.leavingOut?.claimed, 300);
    assert.equal((await probeClaims(db.url, db.dataDir, 3_000)).leavingOut, undefined);
  } finally {
    db.dispose();
  }
});
