/**
 * HeraldClient's calls on a project's events (client.ts): read them, their deliveries and
 * attempts, and make a delivery due again. Sending them is in client-base.ts.
 */
import { ClientBase } from './client-base.ts';
import type { CallOptions } from './client-options.ts';
import { LIST, WITH_ID } from './expected-answers.ts';
import { seg } from './path-segment.ts';
import type {
  Attempt,
  DeliveryState,
  EventDeliveryQuery,
  EventQuery,
  EventSummary,
  HeraldEvent,
  Page,
  PageQuery,
} from './types.ts';

export class EventCalls extends ClientBase {
  /** Newest first, without deliveries (`getEvent` has them). */
  listEvents(project: string, query: EventQuery = {}, call: CallOptions = {}): Promise<Page<EventSummary>> {
    return this.request('GET', `/projects/${seg(project)}/events`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }

  getEvent(project: string, event: string, call: CallOptions = {}): Promise<HeraldEvent> {
    return this.request('GET', `/projects/${seg(project)}/events/${seg(event)}`, {
      signal: call.signal,
      expect: WITH_ID,
    });
  }

  /** The event as `listEvents` gives it (with `deliveryCount`), without reading its deliveries. */
  getEventWithoutDeliveries(project: string, event: string, call: CallOptions = {}): Promise<EventSummary> {
    return this.request('GET', `/projects/${seg(project)}/events/${seg(event)}`, {
      signal: call.signal,
      query: { deliveries: 'false' },
      expect: WITH_ID,
    });
  }

  /**
   * The event's deliveries a page at a time, in the order `getEvent` lists them (by id), optionally
   * in one status: an event may fan out to 100,000 endpoints, which `getEvent` answers at once.
   */
  listEventDeliveries(
    project: string,
    event: string,
    query: EventDeliveryQuery = {},
    call: CallOptions = {},
  ): Promise<Page<DeliveryState>> {
    return this.request('GET', `/projects/${seg(project)}/events/${seg(event)}/deliveries`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }

  listEventAttempts(
    project: string,
    event: string,
    query: PageQuery = {},
    call: CallOptions = {},
  ): Promise<Page<Attempt>> {
    return this.request('GET', `/projects/${seg(project)}/events/${seg(event)}/attempts`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }

  getAttempt(project: string, attempt: string, call: CallOptions = {}): Promise<Attempt> {
    return this.request('GET', `/projects/${seg(project)}/attempts/${seg(attempt)}`, {
      signal: call.signal,
      expect: WITH_ID,
    });
  }

  /**
   * One delivery as its event lists it (status, attempts so far, nextAttemptAt, inFlight), without
   * reading the event's other deliveries: poll this, not `getEvent`, to follow one.
   */
  getDelivery(project: string, delivery: string, call: CallOptions = {}): Promise<DeliveryState> {
    return this.request('GET', `/projects/${seg(project)}/deliveries/${seg(delivery)}`, {
      signal: call.signal,
      expect: WITH_ID,
    });
  }

  /** Makes a delivery due now (also a failed or parked one); answers the delivery. */
  retryDelivery(project: string, delivery: string, call: CallOptions = {}): Promise<DeliveryState> {
    return this.request('POST', `/projects/${seg(project)}/deliveries/${seg(delivery)}/retry`, {
      signal: call.signal,
      expect: WITH_ID,
    });
  }
}
