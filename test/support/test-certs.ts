/**
 * Certificates made at test time with the openssl CLI, in a temporary directory: a private CA, a
 * server certificate it signed for the loopback names, one for a name the tests never use, and a
 * self-signed one. Nothing is committed and nothing expires in the repository.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  /** PEM */
  cert: string;
  /** PEM */
  key: string;
  certFile: string;
}

export interface TestCerts {
  dir: string;
  /** The private CA; `ca.certFile` is what HERALD_TLS_CA_FILE points at. */
  ca: KeyPair;
  /** Signed by `ca`, valid for 127.0.0.1, ::1 and localhost. */
  loopback: KeyPair;
  /** Signed by `ca`, valid only for other.invalid: a name mismatch on loopback. */
  otherName: KeyPair;
  /** Self-signed, for 127.0.0.1: trusted by nobody. */
  selfSigned: KeyPair;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pair(dir: string, name: string): KeyPair {
  const certFile = join(dir, `${name}.pem`);
  return {
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(join(dir, `${name}.key`), 'utf8'),
    certFile,
  };
}

/** Makes the certificates (about 100 ms); call `remove()` when done. */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'herald-certs-'));
  const days = ['-days', '2'];
  openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      ...days,
      '-subj',
      '/CN=Herald Test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const leaf = (name: string, san: string) => {
    writeFileSync(
      join(dir, `${name}.ext`),
      `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
    );
    openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        ...days,
        '-extfile',
        `${name}.ext`,
      ],
      dir,
    );
  };
  leaf('loopback', 'IP:127.0.0.1,IP:::1,DNS:localhost');
  leaf('other', 'DNS:other.invalid');
  openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      'self.key',
      '-out',
      'self.pem',
      ...days,
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    dir,
  );
  return {
    dir,
    ca: pair(dir, 'ca'),
    loopback: pair(dir, 'loopback'),
    otherName: pair(dir, 'other'),
    selfSigned: pair(dir, 'self'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface HttpsReceiver {
  /** https://127.0.0.1:PORT/hook */
  url: string;
  port: number;
  /** Requests that got through the handshake. */
  requests: number;
  close(): Promise<void>;
}

/** An HTTPS server on 127.0.0.1 with `pair`, answering 200 "secure". */
export async function startHttpsReceiver(keyPair: KeyPair): Promise<HttpsReceiver> {
  const sockets = new Set<Socket>();
  const state = { requests: 0 };
  const server: Server = createServer({ cert: keyPair.cert, key: keyPair.key }, (req, res) => {
    state.requests++;
    req.resume();
    req.on('end', () => res.end('secure'));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // handshake failures are the point of some tests, not errors of the server
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}/hook`,
    port,
    get requests() {
      return state.requests;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
