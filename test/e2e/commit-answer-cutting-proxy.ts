/**
 * A loopback TCP proxy in front of PostgreSQL that loses a COMMIT's answer: once `cutNextCommit` is
 * set, the next COMMIT of a transaction that sent `marker` (a statement's opening words) reaches
 * PostgreSQL, which commits, and the connection is cut instead of its answer passed on (a failover,
 * a network blip while committing).
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/** The simple-query message node-postgres sends for `client.query('COMMIT')`. */
const COMMIT = Buffer.concat([Buffer.from('Q'), Buffer.from([0, 0, 0, 11]), Buffer.from('COMMIT\0')]);

/** Forwards to PostgreSQL on `port`; see above for what it cuts. */
export async function commitAnswerCuttingProxy(port: number, marker: string) {
  const statement = Buffer.from(marker);
  /** pauseOnCut: after the cut, the database gone a while (pause): the next tries' connections refused. */
  const state = { cutNextCommit: false, cut: 0, pauseOnCut: false };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    let cutOnAnswer = false;
    // Only the COMMIT of a transaction that sent the marker, not another write's.
    let marked = false;
    client.on('data', (chunk: Buffer) => {
      if (chunk.includes(statement)) marked = true;
      if (chunk.includes(COMMIT)) {
        if (state.cutNextCommit && marked) {
          state.cutNextCommit = false;
          cutOnAnswer = true;
        }
        marked = false;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutOnAnswer) {
        // PostgreSQL has committed and answered: the answer is lost with the connection.
        state.cut++;
        client.destroy();
        upstream.destroy();
        if (state.pauseOnCut) {
          state.pauseOnCut = false;
          void close();
        }
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const own = (server.address() as AddressInfo).port;
  const close = () => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  };
  return {
    state,
    port: own,
    close,
    /** As a database that went away: its connections cut, new ones refused (ECONNREFUSED) until resume. */
    pause: close,
    resume: () => new Promise<void>((r) => server.listen(own, '127.0.0.1', r)),
  };
}
