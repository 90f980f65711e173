/**
 * How many bytes of event payloads one Store.purgeBefore call deletes at most, the event that
 * reaches the bound included (so a call deletes at least one event when any is due). Deleting an
 * event frees every page its payload holds, and the database reads each page to free it: a batch
 * costs its payload bytes, not its event count. Bounded by events alone, a SQLite call took 50
 * events of 16 MiB (800 MiB) in ~1.1 s with the write lock and the API's thread held (accepting's
 * p99 1.1 s during the round, 11 ms after it); a PostgreSQL batch of 400 events of 4 MiB took
 * 1.7 s (~1 ms per MiB), so one of 1,000 events of 20 MiB would pass the 20 s query timeout and
 * fail, every round. SQLite's bound matches its ~4 ms time budget (sqlite/retention.ts), PostgreSQL's the ~75 ms
 * its batch of 1,000 small events takes. Counted: what a store sizes without reading the payload
 * (SQLite `octet_length`, PostgreSQL's stored size); only the payloads of events that are deleted.
 * The attempts a call deletes are bounded by the same bytes, counted by their request and response:
 * a form body, a GET query or a sha256-body is stored with each attempt as sent (~3 times the
 * payload), and by number alone a PostgreSQL batch took 300 of 1 MiB (1.3 s) where 10,000 fit.
 * A project's delete bounds each step of its history by the same bytes (sqlite/project-delete.ts,
 * postgres/project-delete.ts: attempts by request and response, events by payload, at least one
 * row a step): by number alone 240 attempts of 768 KiB went in one SQLite write of 130-170 ms, and
 * a PostgreSQL chunk of 5,000 attempts of 1 MiB would pass the 20 s query timeout on every try.
 * An object, so a test can make the bounds small.
 */
export const purgeBytes = { sqlite: 4 * 1024 * 1024, postgres: 64 * 1024 * 1024 };
