/**
 * Headless Chromium for the browser tests: Debian's, at /usr/bin/chromium (`apt-get install -y
 * chromium`), driven by playwright-core. It reaches nothing but loopback: every host name fails to
 * resolve except localhost and 127.0.0.1, so no DNS query or request leaves the machine, and
 * nothing of its own (updates, sync, QUIC probes) runs in the background.
 */
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function launchLoopbackChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
      '--disable-sync',
    ],
  });
}
