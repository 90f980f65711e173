/**
 * A disable parks its endpoint's pending deliveries in batches of at most `rows`: the write that
 * disables it parks up to one batch (one batch in all for the endpoints it disables) and counts the
 * rest, which later writes of a batch each park, other writers getting their turn between two. One
 * commit disabling 58 endpoints parked 220,400 deliveries and held SQLite's write lock ~6.3 s,
 * stalling every accept meanwhile. An object, so a test can make batches small.
 */
export const parkBatch = { rows: 1_000 };

/**
 * Pending deliveries a disable counted but left to later writes: parked a batch at a time while the
 * endpoint is still disabled by that disable (`disabledAt`, the disable's `now`, which is also the
 * time every batch treats as now, so they park exactly what the disable counted).
 */
export interface ParkRest {
  projectId: string;
  endpointId: string;
  disabledAt: number;
}
