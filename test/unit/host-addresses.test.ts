/** This host's own public addresses, as the SSRF guard reads them (a stub interface table, no I/O). */
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { test } from 'node:test';
import { hostAddressReader } from '../../src/delivery/host-addresses.ts';

const nic = (address: string, internal = false): NetworkInterfaceInfo =>
  ({
    address,
    family: address.includes(':') ? 'IPv6' : 'IPv4',
    internal,
    netmask: '',
    mac: '',
    cidr: null,
  }) as NetworkInterfaceInfo;

test('the public addresses of every interface, read again at most once a second', () => {
  let table: Record<string, NetworkInterfaceInfo[]> = {
    lo: [nic('127.0.0.1', true), nic('::1', true)],
    eth0: [nic('8.8.8.8'), nic('10.0.0.5'), nic('fe80::1'), nic('2606:4700:4700::1111')],
  };
  let reads = 0;
  let now = 0;
  const own = hostAddressReader(
    () => {
      reads++;
      return table;
    },
    () => now,
  );
  const shown = () => own().map((b) => (b.length === 4 ? [...b].join('.') : b.length));
  assert.deepEqual(
    shown(),
    ['8.8.8.8', 16],
    'private, link-local and loopback ones are judged as such already',
  );
  // an address that changes (DHCP, IPv6 temporary addresses) is seen within a second
  table = { eth0: [nic('8.8.4.4')] };
  now = 500;
  assert.deepEqual(shown(), ['8.8.8.8', 16]);
  now = 1_001;
  assert.deepEqual(shown(), ['8.8.4.4']);
  assert.equal(reads, 2);
});

test('a reading that fails (out of file descriptors) keeps the last one and is tried again next time', () => {
  let fail = false;
  let reads = 0;
  let now = 0;
  const own = hostAddressReader(
    () => {
      reads++;
      if (fail) throw Object.assign(new Error('uv_interface_addresses returned EMFILE'), { code: 'EMFILE' });
      return { eth0: [nic('8.8.8.8')] };
    },
    () => now,
  );
  assert.equal(own().length, 1);
  fail = true;
  now = 2_000;
  assert.equal(own().length, 1, 'the last reading, no throw');
  assert.equal(own().length, 1);
  assert.equal(reads, 3, 'tried again at the next call');
  fail = false;
  assert.equal(own().length, 1);
  assert.equal(reads, 4);
  assert.equal(own().length, 1);
  assert.equal(reads, 4, 'read again only after a second');
});
