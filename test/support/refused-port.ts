import { connect } from 'node:net';

/**
 * A port on 127.0.0.1 where a connection is refused, and stays refused while tests run side by side.
 * A port freed by closing a server does not: the kernel hands it to the next listen(0), and a test
 * running at the same time then answered where the refusal was expected (CI once saw an HTTP 503
 * there). This one is below the ephemeral range (32768-60999 on Linux), which listen(0) never
 * picks, and is checked closed before it is returned. Loopback only.
 */
export async function refusedPort(): Promise<number> {
  // Below 1024 and outside the Fetch standard's "bad ports", which some HTTP clients refuse to use.
  for (let port = 1023; port > 1000; port--) {
    if (await refuses(port)) return port;
  }
  throw new Error('no closed port found on 127.0.0.1 between 1001 and 1023');
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}
