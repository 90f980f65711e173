/**
 * A preload (`node --import`) for a child process whose clock must differ from the others' (a host
 * with broken NTP) without root: Date.now and `new Date()` answer HERALD_TEST_CLOCK_SHIFT_MS later.
 * Test-only; Herald itself reads the clock through Date.now.
 */
const shift = Number(process.env.HERALD_TEST_CLOCK_SHIFT_MS ?? 0);
const realNow = Date.now;
const RealDate = Date;
Date.now = () => realNow() + shift;
globalThis.Date = class extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(realNow() + shift);
    // @ts-expect-error the same arguments Date takes
    else super(...args);
  }
} as DateConstructor;
