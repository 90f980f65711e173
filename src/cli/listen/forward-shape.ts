/**
 * What `herald listen` forwards and how: the request one endpoint would receive (its method,
 * headers, envelope, signature scheme and secret, event filter and dev flag), or a plain Standard
 * Webhooks shape signed with a local secret. Pure: no I/O.
 */
import { randomBytes } from 'node:crypto';
import type { Endpoint as ApiEndpoint, EventSummary as ApiEvent } from '@herald/client';
import { buildRequest } from '../../domain/build-request.ts';
import type { BuiltRequest } from '../../domain/build-request-types.ts';
import { selectEndpoints } from '../../domain/fan-out.ts';
import type { Endpoint, HeraldEvent, Json } from '../../domain/types.ts';
import { shellWord } from '../shell-word.ts';

export interface ForwardShape {
  /** Said once at start: whose settings, and which secret verifies (the local one only). */
  describe: string;
  settings: Pick<Endpoint, 'method' | 'headers' | 'envelope' | 'signature'>;
  /** The current secret. */
  secret: string;
  /**
   * Every secret valid now, current first: the schemes that carry several signatures sign with
   * each, as Herald does during a rotation's grace period.
   */
  secrets: string[];
  /** The event types forwarded (empty: all). */
  eventTypes: string[];
  /**
   * The endpoint's time limit per attempt (its timeoutMs), after which Herald gives up on an
   * attempt and sends it again later; null without an endpoint.
   */
  timeoutMs: number | null;
  /**
   * Why the endpoint is disabled (its disabledReason, `disabled` when none is given), or null when
   * it is active or there is none. Its live events are forwarded all the same: see `disabledLine`.
   */
  disabled: string | null;
  /** Test events too (an endpoint's dev flag; always without an endpoint). */
  dev: boolean;
  /**
   * The endpoint whose deliveries are mirrored (null without one). A test event goes to the
   * endpoints Herald made a delivery for, which `forwards` cannot tell from the event alone: a test
   * send (`endpoints test`) reaches its endpoint whatever its dev flag and filter, and no other.
   */
  endpointId: string | null;
  /**
   * `--types`, when given: narrows what is forwarded, test sends included. With an endpoint, only
   * the types both its filter and --types take (before 2026-12-06 --types replaced its filter for
   * live events, so types the endpoint never gets were forwarded as its).
   */
  onlyTypes: string[] | null;
}

/** What signs an endpoint's requests: `hmac-sha1-url` with a static `key` (PushPushGo's project id) never uses the secret. */
function signedWith(signature: ApiEndpoint['signature']): string {
  if (signature.scheme === 'none') return 'unsigned, as its scheme none';
  return `${signature.scheme} signature, ${signature.key !== undefined ? 'its static key' : 'its own secret'}`;
}

/**
 * As endpoint `ep` (from the API) would receive them, signed with `secrets`: its valid secrets,
 * current first (`getEndpointSecret(…).secrets`), or the current one alone.
 */
export function endpointShape(
  ep: ApiEndpoint,
  secrets: string | string[],
  types: string[] | null,
): ForwardShape {
  const all = typeof secrets === 'string' ? [secrets] : secrets;
  const secret = all[0];
  if (secret === undefined) throw new Error(`endpoint ${ep.id} has no valid secret`);
  return {
    describe: `as endpoint ${ep.id} (${signedWith(ep.signature)})`,
    settings: {
      method: ep.method as Endpoint['method'],
      headers: ep.headers,
      envelope: ep.envelope as Endpoint['envelope'],
      signature: ep.signature as Endpoint['signature'],
    },
    secret,
    secrets: all,
    // Its own filter: --types narrows it (`forwards`), as it narrows test sends.
    eventTypes: ep.eventTypes,
    timeoutMs: ep.timeoutMs,
    disabled: ep.status === 'active' ? null : (ep.disabledReason ?? 'disabled'),
    dev: ep.dev,
    endpointId: ep.id,
    onlyTypes: types,
  };
}

/**
 * Standard Webhooks, POST, the standard envelope; signed with `given.secret` (from `given.flag`,
 * --secret or --secret-file) or a new one. Only a new secret is printed (the receiver needs it);
 * a given one is the user's already, and start-up lines end up in terminals, logs and screenshots.
 */
export function localShape(
  given: { secret: string; flag: string } | undefined,
  types: string[] | null,
): ForwardShape {
  const key = given?.secret ?? `whsec_${randomBytes(24).toString('base64')}`;
  return {
    describe:
      given === undefined
        ? `standard signature, new secret ${key}`
        : `standard signature, the secret given with ${given.flag}`,
    settings: { method: 'POST', headers: {}, envelope: 'standard', signature: { scheme: 'standard' } },
    secret: key,
    secrets: [key],
    eventTypes: types ?? [],
    timeoutMs: null,
    disabled: null,
    dev: true,
    endpointId: null,
    onlyTypes: types,
  };
}

/**
 * True when the shape's endpoint would get this event (active, filter, test only if dev). For a
 * test event with an endpoint, see `forwardsDelivered`: Herald's fan-out decides.
 */
export function forwards(shape: ForwardShape, event: Pick<ApiEvent, 'type' | 'test'>): boolean {
  return (
    takesType(shape, event.type) &&
    selectEndpoints([{ status: 'active', dev: shape.dev, eventTypes: shape.eventTypes }], event).length === 1
  );
}

/**
 * Said at start, and when it changes, for a disabled endpoint. Herald sends it nothing new, but
 * listen forwards to the receiver being developed, not to the endpoint's URL (whose failures, ten
 * in a row, disable it: an endpoint made for listen, with a URL Herald cannot reach, soon is), so
 * its live events go on as if it were active. Not its test events: Herald makes no delivery of
 * them to a disabled endpoint (a test send to it is refused), which is what decides them. The
 * command that enables it runs as printed (before 2026-12-06 it lacked the `--project` it needs).
 */
export function disabledLine(shape: ForwardShape, project: string): string {
  const enable = [
    'herald',
    'endpoints',
    'enable',
    shellWord(shape.endpointId ?? ''),
    '--project',
    shellWord(project),
  ];
  return (
    `endpoint ${shape.endpointId} is disabled (${shape.disabled}): Herald sends it nothing new; listen ` +
    'forwards its live events all the same, as if it were active, but not test events (Herald makes ' +
    `none for it); \`${enable.join(' ')}\` resumes its deliveries`
  );
}

/**
 * How an endpoint's filter and --types that share no type are said (at start, or when the filter
 * changes to that): both, by name, and what is forwarded then: the endpoint's test sends of those
 * types, which Herald delivers whatever its filter (`forwardsDelivered`), with the command that
 * makes one of the first type, as it runs (before 2026-12-06 it lacked `--project`, which
 * `endpoints test` needs, and gave `<type>`, which a shell reads as a redirection).
 */
export function disjointOnlyTests(shape: ForwardShape, project: string): string {
  const [first, ...others] = shape.onlyTypes ?? [];
  const words = [shape.endpointId ?? '', '--project', project, '--type', first ?? ''];
  const command = `herald endpoints test ${words.map(shellWord).join(' ')}`;
  return (
    `endpoint ${shape.endpointId}'s filter (${shape.eventTypes.join(',')}) takes none of ${(shape.onlyTypes ?? []).join(',')}: ` +
    `only its test sends of them are forwarded (${command}${others.length > 0 ? ', or --type another of them' : ''})`
  );
}

/** Whether `--types` (if given) takes `type`. */
function takesType(shape: ForwardShape, type: string): boolean {
  return shape.onlyTypes === null || shape.onlyTypes.length === 0 || shape.onlyTypes.includes(type);
}

/**
 * The types forwarded when `--types` was given: those of them the filter takes too (all of them
 * for a filter of every type); [] when they share none, and nothing but test sends would be. Null
 * without --types.
 */
export function sharedTypes(shape: ForwardShape): string[] | null {
  if (shape.onlyTypes === null) return null;
  const filter = shape.eventTypes;
  return shape.onlyTypes.filter((type) => filter.length === 0 || filter.includes(type));
}

/**
 * For an event Herald fanned out: true when it made a delivery to the shape's endpoint (and
 * `--types`, if given, takes the type). How test events are decided with an endpoint: a test send
 * to it is delivered whatever its dev flag and filter, one to another endpoint is not.
 */
export function forwardsDelivered(
  shape: ForwardShape,
  event: Pick<ApiEvent, 'type'> & { deliveries: { endpointId: string | null }[] },
): boolean {
  if (!takesType(shape, event.type)) return false;
  return event.deliveries.some((d) => d.endpointId === shape.endpointId);
}

/** The request for `event` to `url`, signed now. */
export function forwardRequest(shape: ForwardShape, event: ApiEvent, url: string, now: number): BuiltRequest {
  const domainEvent: HeraldEvent = {
    id: event.id,
    projectId: event.projectId,
    type: event.type,
    payload: event.payload as Json,
    test: event.test,
    idempotencyKey: null,
    callbackUrl: null,
    createdAt: Date.parse(event.createdAt),
  };
  return buildRequest({
    event: domainEvent,
    payloadJson: JSON.stringify(event.payload),
    url,
    endpoint: shape.settings,
    secrets: shape.secrets.map((secret) => ({ secret })),
    now,
  });
}
