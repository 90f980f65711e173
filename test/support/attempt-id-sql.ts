/**
 * For tests that write attempts in SQL (generate_series): an attempt id for the time `t` of the
 * row (an integer column or expression named t) and its number `i`, as ids.ts makes them: `att_`
 * + 10 base-32 characters of t + 16 more. The stores bound ids by time (idLowerBound,
 * idUpperBound), so an id must hold its attempt's start.
 */
export const ATTEMPT_ID_SQL = `'att_' || (SELECT string_agg(substr('0123456789abcdefghjkmnpqrstvwxyz', ((t >> (5 * k)) & 31)::int + 1, 1), '' ORDER BY k DESC)
  FROM generate_series(0, 9) k) || lpad(i::text, 16, '0')`;
