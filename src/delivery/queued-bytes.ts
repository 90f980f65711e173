/**
 * The payloads that claimed deliveries waiting in endpoint queues (endpoint-queues.ts) hold,
 * bounded by HERALD_DELIVERY_BYTES_IN_FLIGHT as the attempts in flight are (byte-budget.ts), and
 * shared between projects the same way (fair-share.ts). Slots and the byte budget bound what runs,
 * not what waits: a project's deliveries that cannot start (its share of the bytes in flight taken)
 * are queued, up to a cap's worth per endpoint, and each distinct event holds its own payload. So
 * 120 distinct 1 MiB events to 20 slow endpoints of one project ran the dispatcher thread of a
 * process under `--max-old-space-size=160` out of heap, with 17 MiB counted in flight.
 *
 * Counted per copy held: deliveries of one event share its payload when it is large
 * (shared-payloads.ts: one event object), so an event counts once however many of its deliveries
 * wait; a small one's deliveries each hold their own. Pure bookkeeping: a delivery that does not
 * fit is not queued but handed back, and its endpoint is left out of claims until it would fit
 * (claim-loop.ts), so one tenant's large events at its share do not stop another tenant's claims.
 *
 * A payload larger than the reserve (the part of the bound no one project may hold) gets a turn
 * (`takeTurn`, given by endpoint-queues.ts): while it waits, the others fit only in what its bytes
 * leave (nothing, when it is larger than the bound), so the room it needs comes as the deliveries
 * queued now start or go back. Up to the reserve, a project holding nothing gets room as the other
 * projects' shares leave it; a larger one needed room that other projects' queues kept taken for
 * as long as their traffic went on (one larger than the whole bound needed nothing queued at all),
 * and its endpoint waited, left out of claims, while their streams lasted.
 */
import type { HeraldEvent } from '../domain/types.ts';
import type { ClaimedDelivery } from '../store/store.ts';
import { projectRoomNow } from './fair-share.ts';

export interface QueuedBytesOptions {
  /** The bytes queued deliveries may hold together (HERALD_DELIVERY_BYTES_IN_FLIGHT). */
  limitBytes: number;
  /** The share of it one project may hold (perProjectConcurrency / concurrency). */
  projectShare: number;
  /** Below this share held a project may use the reserve (perEndpointConcurrency / concurrency). */
  smallShare: number;
}

export interface QueuedBytes {
  /** Bytes held by queued deliveries' payloads. */
  readonly used: number;
  /** Deliveries queued (each counted, however many share an event's copy). */
  readonly count: number;
  /** Whether `claimed` would fit now (its event's copy is already held: it always does). */
  fits(claimed: ClaimedDelivery): boolean;
  /** Counts `claimed` as queued. */
  add(claimed: ClaimedDelivery): void;
  /** `claimed` waits no more (started, handed back, dropped). */
  remove(claimed: ClaimedDelivery): void;
  /**
   * Whether `bytes` more for `projectId` would fit now; for endpoint `key`, the turn's holder when
   * it is that endpoint (the others fit only in what the turn's bytes leave).
   */
  fitsBytes(projectId: string, bytes: number, key?: string | null): boolean;
  /** The bytes no one project may hold (limit minus a project's share): larger ones take a turn. */
  readonly reserve: number;
  /** The endpoint whose delivery has the turn, and its bytes; null when none has. */
  readonly turn: Turn | null;
  /** Gives the turn to endpoint `key`'s delivery of `bytes` (replacing any). */
  takeTurn(key: string, projectId: string, bytes: number): void;
  /** The turn is over (its delivery queued, or its time up). */
  endTurn(): void;
  /** The bytes of `claimed`'s payload (UTF-8), worked out once per event. */
  bytesOf(claimed: ClaimedDelivery): number;
}

export interface Turn {
  key: string;
  projectId: string;
  bytes: number;
}

interface Held {
  count: number;
  bytes: number;
}

export function createQueuedBytes(options: QueuedBytesOptions): QueuedBytes {
  const { limitBytes } = options;
  const projectCap = limitBytes * options.projectShare;
  const smallProject = limitBytes * options.smallShare;
  let used = 0;
  let count = 0;
  const byProject = new Map<string, number>();
  /** Each event copy held by queued deliveries, with how many hold it. */
  const held = new Map<HeraldEvent, Held>();
  const sizes = new WeakMap<HeraldEvent, number>();

  const bytesOf = (claimed: ClaimedDelivery): number => {
    let bytes = sizes.get(claimed.event);
    if (bytes === undefined) {
      const payload = claimed.payloadJson ?? JSON.stringify(claimed.event.payload) ?? '';
      bytes = Buffer.byteLength(payload, 'utf8');
      sizes.set(claimed.event, bytes);
    }
    return bytes;
  };
  let turn: Turn | null = null;
  /**
   * Within the whole bound and the project's share; with nothing queued at all anything fits (an
   * event larger than the bound waits alone), and a project holding nothing fits its share. While
   * another endpoint's delivery has the turn, only within what its bytes leave of the bound.
   */
  const fitsBytes = (projectId: string, bytes: number, key?: string | null) => {
    const kept = turn !== null && turn.key !== key ? Math.min(turn.bytes, limitBytes) : 0;
    if (used === 0 && kept === 0) return true;
    const free = limitBytes - kept - used;
    if (bytes > free) return false;
    const own = byProject.get(projectId) ?? 0;
    if (own === 0) return true;
    return bytes <= projectRoomNow({ own, free, projectCap, processCap: limitBytes, smallProject });
  };

  return {
    get used() {
      return used;
    },
    get count() {
      return count;
    },
    fits: (claimed) =>
      held.has(claimed.event) ||
      fitsBytes(claimed.delivery.projectId, bytesOf(claimed), claimed.delivery.endpointId),
    fitsBytes,
    bytesOf,
    reserve: Math.max(0, limitBytes - projectCap),
    get turn() {
      return turn;
    },
    takeTurn(key, projectId, bytes) {
      turn = { key, projectId, bytes };
    },
    endTurn() {
      turn = null;
    },
    add(claimed) {
      count++;
      const h = held.get(claimed.event);
      if (h) {
        h.count++;
        return;
      }
      const bytes = bytesOf(claimed);
      held.set(claimed.event, { count: 1, bytes });
      used += bytes;
      const projectId = claimed.delivery.projectId;
      byProject.set(projectId, (byProject.get(projectId) ?? 0) + bytes);
    },
    remove(claimed) {
      const h = held.get(claimed.event);
      if (!h) return;
      count--;
      if (--h.count > 0) return;
      held.delete(claimed.event);
      used -= h.bytes;
      const projectId = claimed.delivery.projectId;
      const left = (byProject.get(projectId) ?? h.bytes) - h.bytes;
      if (left <= 0) byProject.delete(projectId);
      else byProject.set(projectId, left);
    },
  };
}
