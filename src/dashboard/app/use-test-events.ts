/**
 * Which of the listed attempts belong to test events (sent with `test: true`, or a test send), so
 * History can mark them. An attempt does not carry its event's flag, so each distinct event is
 * looked up once (a few at a time) and remembered: an event's flag never changes. An attempt that
 * does carry a boolean `test` is taken at its word, without a lookup.
 */
import { useEffect, useState } from 'preact/hooks';
import type { HeraldClient } from './api/client.ts';
import type { Attempt } from './api/types.ts';

/** Requests in flight at once, so a long history does not flood the server. */
const PARALLEL = 4;
/** Events remembered across screens; forgotten all at once past this many (they are cheap to ask again). */
const REMEMBERED = 5000;
const remembered = new Map<string, boolean>();

/** The flag an attempt carries itself, when the server sends one. */
function carried(attempt: Attempt): boolean | undefined {
  return typeof attempt['test'] === 'boolean' ? attempt['test'] : undefined;
}

/** Distinct event ids of `attempts` whose test flag is neither carried nor known, in list order. */
export function eventsToLookUp(attempts: Attempt[], known: (eventId: string) => boolean): string[] {
  const ids = new Set<string>();
  for (const attempt of attempts)
    if (carried(attempt) === undefined && !known(attempt.eventId)) ids.add(attempt.eventId);
  return [...ids];
}

/** The ids of test events among `attempts`' events, by their carried flag or else `flagOf`. */
export function testEventIds(
  attempts: Attempt[],
  flagOf: (eventId: string) => boolean | undefined,
): Set<string> {
  const ids = new Set<string>();
  for (const attempt of attempts) if (carried(attempt) ?? flagOf(attempt.eventId)) ids.add(attempt.eventId);
  return ids;
}

export function useTestEvents(client: HeraldClient, projectId: string, attempts: Attempt[]): Set<string> {
  // Answers that arrived while this screen was shown (also kept in `remembered`, which may be cleared).
  const [flags, setFlags] = useState<ReadonlyMap<string, boolean>>(() => new Map());
  // The lookups restart when the listed events change, not on every render of a new array.
  const shown = [...new Set(attempts.map((attempt) => attempt.eventId))].join(',');

  useEffect(() => {
    let cancelled = false;
    const queue = eventsToLookUp(attempts, (id) => remembered.has(id));
    const worker = async () => {
      for (let next = queue.shift(); next && !cancelled; next = queue.shift()) {
        const eventId = next;
        try {
          const test = (await client.getEvent(projectId, eventId)).test === true;
          if (remembered.size >= REMEMBERED) remembered.clear();
          remembered.set(eventId, test);
          if (!cancelled) setFlags((previous) => new Map(previous).set(eventId, test));
        } catch {
          // An event that cannot be read (purged, a network error) is just not marked.
        }
      }
    };
    for (let i = 0; i < Math.min(PARALLEL, queue.length); i++) void worker();
    return () => {
      cancelled = true;
    };
  }, [client, projectId, shown]);

  return testEventIds(attempts, (id) => flags.get(id) ?? remembered.get(id));
}
