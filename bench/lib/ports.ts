/** Free loopback ports for the processes the benchmark starts (the tests' helper). */
export { freePort } from '../../test/support/free-port.ts';
