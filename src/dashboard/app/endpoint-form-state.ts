/**
 * The endpoint form as strings (what inputs hold), and its conversion to and from the API's endpoint.
 * Validation here mirrors the API's, so most mistakes are caught before a round trip.
 */
import type {
  DeliverySettings,
  Endpoint,
  EndpointInput,
  Envelope,
  HttpMethod,
  SignatureConfig,
  SignatureScheme,
} from './api/types.ts';
import { formatSeconds } from './format.ts';
import { type HeaderRow, headerRowsError, headersToRows, rowsToHeaders } from './header-rows.ts';
import { SCHEME_DEFAULTS } from './signed-request-preview.ts';

export interface EndpointFormState {
  url: string;
  name: string;
  description: string;
  eventTypes: string[];
  /**
   * A type typed under "Other event type" and not added yet: saved with the others all the same
   * (it was dropped, and an endpoint meant for one type was made for every type).
   */
  otherEventType: string;
  method: HttpMethod;
  envelope: Envelope;
  headers: HeaderRow[];
  active: boolean;
  dev: boolean;
  scheme: SignatureScheme;
  signatureHeader: string;
  timestampHeader: string;
  encoding: 'hex' | 'base64';
  signingKey: string;
  secret: string;
  timeoutMs: string;
  retrySchedule: string;
  ratePerSecond: string;
  rateBurst: string;
}

export type FormErrors = Partial<Record<keyof EndpointFormState, string>>;

/** Shortest timeout the API accepts. */
export const MIN_TIMEOUT_MS = 100;

/**
 * What validation needs from the installation (GET /api/v1/installation): the largest timeout an
 * endpoint may set (HERALD_DELIVERY_MAX_TIMEOUT_MS); null while unknown, when only the API checks it.
 */
export interface FormLimits {
  maxTimeoutMs: number | null;
  /**
   * The timeout an endpoint gets when none is given (HERALD_DELIVERY_TIMEOUT_MS); null while unknown.
   * Every endpoint stores one and PATCH keeps it when left out, so a timeout emptied while editing
   * is sent as this; unknown, the field must be filled.
   */
  defaultTimeoutMs?: number | null;
}

export const EMPTY_FORM: EndpointFormState = {
  url: '',
  name: '',
  description: '',
  eventTypes: [],
  otherEventType: '',
  method: 'POST',
  envelope: 'standard',
  headers: [],
  active: true,
  dev: false,
  scheme: 'standard',
  signatureHeader: '',
  timestampHeader: '',
  encoding: 'hex',
  signingKey: '',
  secret: '',
  timeoutMs: '',
  retrySchedule: '',
  ratePerSecond: '',
  rateBurst: '',
};

/** Which signature options a scheme takes. */
export function schemeOptions(scheme: SignatureScheme) {
  return {
    signatureHeader: scheme === 'hmac-sha256' || scheme === 'hmac-sha1-url',
    timestampHeader: scheme === 'hmac-sha256',
    encoding: scheme === 'hmac-sha256',
    key: scheme === 'hmac-sha1-url',
    usesSecret: scheme !== 'none',
  };
}

export function formFromEndpoint(endpoint: Endpoint): EndpointFormState {
  return {
    url: endpoint.url,
    name: endpoint.name ?? '',
    description: endpoint.description ?? '',
    eventTypes: [...endpoint.eventTypes],
    otherEventType: '',
    method: endpoint.method,
    envelope: endpoint.envelope,
    headers: headersToRows(endpoint.headers),
    active: endpoint.status === 'active',
    dev: endpoint.dev,
    scheme: endpoint.signature.scheme,
    signatureHeader: endpoint.signature.signatureHeader ?? '',
    timestampHeader: endpoint.signature.timestampHeader ?? '',
    encoding: endpoint.signature.encoding ?? 'hex',
    signingKey: endpoint.signature.key ?? '',
    secret: '',
    timeoutMs: endpoint.timeoutMs ? String(endpoint.timeoutMs) : '',
    retrySchedule: scheduleText(endpoint.retrySchedule),
    ratePerSecond: endpoint.rateLimit ? String(endpoint.rateLimit.perSecond) : '',
    rateBurst: endpoint.rateLimit?.burst ? String(endpoint.rateLimit.burst) : '',
  };
}

/** What the field says for a stored schedule: blank for none set (the default), `none` for no retries. */
export function scheduleText(schedule: number[] | null | undefined): string {
  if (!schedule) return '';
  return schedule.length === 0 ? NO_RETRIES : schedule.join(', ');
}

/** The field's word for an empty schedule (one try, no retries), which blank cannot say: blank is the default. */
export const NO_RETRIES = 'none';

/**
 * Parses "5, 300, 1800" (seconds in plain decimal, fractions allowed, each above 0 as the API wants);
 * null for blank (the default), [] for `none` (no retries), undefined when invalid ("0x10" or "1e3"
 * among them: see fieldNumber).
 */
export function parseSchedule(text: string): number[] | null | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  if (trimmed.toLowerCase() === NO_RETRIES) return [];
  const parts = trimmed.split(/[\s,]+/).filter(Boolean);
  const numbers = parts.map(fieldNumber);
  return numbers.every((n) => Number.isFinite(n) && n > 0) ? numbers : undefined;
}

/**
 * The hints of the timeout and retry-schedule fields: what an empty field means for this endpoint
 * (the project's own schedule when it has one, else the installation's default) and the limits, from
 * the installation's settings; without them (still loading, or not known) they say less rather than
 * a built-in default that may not be this installation's.
 */
export function deliveryHints(
  form: Pick<EndpointFormState, 'retrySchedule'>,
  projectSchedule: number[] | null,
  settings: DeliverySettings | null,
): { timeout: string; timeoutPlaceholder: string; schedule: string; schedulePlaceholder: string } {
  const timeout = settings
    ? `Per attempt, connect + response; from ${MIN_TIMEOUT_MS} to ${settings.maxTimeoutMs} ms. Empty: ${settings.defaultTimeoutMs} ms.`
    : `Per attempt, connect + response, in ms. Empty: this installation's default.`;
  const jitter =
    settings && settings.retryJitter > 0 ? ` (±${+(settings.retryJitter * 100).toFixed(1)} %)` : '';
  const steps = (schedule: number[]) =>
    schedule.length === 0 ? 'no retries, one try only' : schedule.map(formatSeconds).join(', ');
  const own = parseSchedule(form.retrySchedule);
  let schedule: string;
  if (own && own.length === 0) {
    schedule = 'No retries: one try only.';
  } else if (own) {
    schedule = `Retries after ${own.map(formatSeconds).join(', ')}${jitter}.`;
  } else if (projectSchedule) {
    schedule = `Delays after the first try, or ${NO_RETRIES}. Empty: the project's schedule (${steps(projectSchedule)}).`;
  } else if (settings) {
    schedule = `Delays after the first try, or ${NO_RETRIES}. Empty: this installation's default (${steps(settings.retrySchedule)}).`;
  } else {
    schedule = `Delays after the first try, or ${NO_RETRIES}. Empty: the project's schedule, or this installation's default.`;
  }
  const fallback = projectSchedule ?? settings?.retrySchedule ?? null;
  return {
    timeout,
    timeoutPlaceholder: settings ? String(settings.defaultTimeoutMs) : '',
    schedule,
    schedulePlaceholder: fallback && fallback.length > 0 ? fallback.join(', ') : '5, 300, 1800',
  };
}

/**
 * The number a field's text writes in plain decimal ("5000", "2.5", ".5"), else NaN: the fields are
 * text inputs, and Number() would read "0x10", "1e3" or " " as numbers nobody meant.
 */
export function fieldNumber(text: string): number {
  const trimmed = text.trim();
  return /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(trimmed) ? Number(trimmed) : Number.NaN;
}

/** The types the form subscribes to: those listed, and one typed under "Other event type" and not added. */
export function eventTypesOf(form: Pick<EndpointFormState, 'eventTypes' | 'otherEventType'>): string[] {
  const other = form.otherEventType.trim();
  return other && !form.eventTypes.includes(other) ? [...form.eventTypes, other] : form.eventTypes;
}

/** Field errors of the form; empty when it can be sent. */
export function validateForm(
  form: EndpointFormState,
  limits: FormLimits = { maxTimeoutMs: null },
  mode: 'create' | 'update' = 'create',
): FormErrors {
  const errors: FormErrors = {};
  try {
    const url = new URL(form.url.trim());
    if (url.protocol !== 'http:' && url.protocol !== 'https:') errors.url = 'Use an http:// or https:// URL.';
  } catch {
    errors.url = form.url.trim() ? 'This is not a valid URL.' : 'Enter the URL that receives the events.';
  }
  const headerError = headerRowsError(form.headers, signatureFromForm(form), form.method);
  if (headerError) errors.headers = headerError;
  if (form.timeoutMs.trim()) {
    const timeout = fieldNumber(form.timeoutMs);
    const max = limits.maxTimeoutMs;
    if (!Number.isInteger(timeout) || timeout < MIN_TIMEOUT_MS || (max !== null && timeout > max)) {
      errors.timeoutMs =
        max === null
          ? `Whole milliseconds, ${MIN_TIMEOUT_MS} or more.`
          : `Whole milliseconds from ${MIN_TIMEOUT_MS} to ${max}.`;
    }
  } else if (mode === 'update' && (limits.defaultTimeoutMs ?? null) === null) {
    errors.timeoutMs = "Enter a timeout: this installation's default could not be read.";
  }
  if (parseSchedule(form.retrySchedule) === undefined) {
    errors.retrySchedule = `Seconds above 0 separated by commas, e.g. 5, 300, 1800; or ${NO_RETRIES} for no retries.`;
  }
  if (form.ratePerSecond.trim()) {
    const rate = fieldNumber(form.ratePerSecond);
    if (!Number.isFinite(rate) || rate <= 0) errors.ratePerSecond = 'A number above 0.';
  } else if (form.rateBurst.trim()) {
    errors.ratePerSecond = 'Set a rate to use a burst.';
  }
  if (form.rateBurst.trim()) {
    const burst = fieldNumber(form.rateBurst);
    if (!Number.isInteger(burst) || burst < 1) errors.rateBurst = 'A whole number, 1 or more.';
  }
  const options = schemeOptions(form.scheme);
  for (const field of ['signatureHeader', 'timestampHeader'] as const) {
    if (options[field] && form[field].trim() && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(form[field].trim())) {
      errors[field] = 'Not a valid header name.';
    }
  }
  const clash = headerClash(form);
  if (clash && !errors[clash.field]) errors[clash.field] = clash.message;
  return errors;
}

/**
 * The signature and timestamp headers named alike (any letter case), an empty one being its
 * default (the API's rule): the error goes by the header typed, the timestamp's when both are.
 */
function headerClash(
  form: EndpointFormState,
): { field: 'signatureHeader' | 'timestampHeader'; message: string } | null {
  const options = schemeOptions(form.scheme);
  if (!options.signatureHeader || !options.timestampHeader) return null;
  const defaults = SCHEME_DEFAULTS[form.scheme];
  const signature = form.signatureHeader.trim() || defaults.signatureHeader || '';
  const timestamp = form.timestampHeader.trim() || defaults.timestampHeader || '';
  if (!signature || signature.toLowerCase() !== timestamp.toLowerCase()) return null;
  return form.timestampHeader.trim()
    ? {
        field: 'timestampHeader',
        message: `Must differ from the signature header (${signature}${form.signatureHeader.trim() ? '' : ', its default'}): a request carries one value per header.`,
      }
    : {
        field: 'signatureHeader',
        message: `Must differ from the timestamp header (${timestamp}, its default): a request carries one value per header.`,
      };
}

/** Body fields of the API that are inputs of the form under the same name. */
const SAME_NAME = new Set<keyof EndpointFormState>([
  'url',
  'name',
  'description',
  'eventTypes',
  'method',
  'envelope',
  'active',
  'dev',
  'secret',
  'timeoutMs',
  'retrySchedule',
]);

/**
 * Where the form shows an API error about `field` (`details.field` of a 400 or 422: `body.name`,
 * `body.headers.X-A`, `body.signature.signatureHeader`, `body.rateLimit.burst`, …): the input, and
 * what to say before the message there (the header a `body.headers.<name>` error is about); null
 * for a field that is no input of the form.
 */
export function formFieldOf(field: string): { key: keyof EndpointFormState; prefix: string } | null {
  if (!field.startsWith('body.')) return null;
  const [top = '', ...rest] = field.slice('body.'.length).split('.');
  // Header names may hold dots: everything after `headers.` is the name.
  const sub = rest.join('.');
  if (top === 'headers') return { key: 'headers', prefix: sub ? `${sub}: ` : '' };
  if (top === 'retrySchedule' && /^\d+$/.test(sub)) {
    return { key: 'retrySchedule', prefix: `Step ${Number(sub) + 1}: ` };
  }
  if (top === 'rateLimit') return { key: sub === 'burst' ? 'rateBurst' : 'ratePerSecond', prefix: '' };
  if (top === 'signature') {
    const key =
      sub === 'signatureHeader' || sub === 'timestampHeader' || sub === 'encoding'
        ? sub
        : sub === 'key'
          ? 'signingKey'
          : 'scheme';
    return { key, prefix: '' };
  }
  if (SAME_NAME.has(top as keyof EndpointFormState))
    return { key: top as keyof EndpointFormState, prefix: '' };
  return null;
}

/** Whether the form shows an input for `key` (some depend on the scheme, the secret on creating). */
export function hasInput(form: EndpointFormState, mode: 'create' | 'update', key: keyof EndpointFormState) {
  const options = schemeOptions(form.scheme);
  if (key === 'signatureHeader' || key === 'timestampHeader' || key === 'encoding') return options[key];
  if (key === 'signingKey') return options.key;
  if (key === 'secret') return mode === 'create' && options.usesSecret;
  return true;
}

/** The signature settings the form sends: the options its scheme takes, those left empty left out. */
export function signatureFromForm(
  form: Pick<EndpointFormState, 'scheme' | 'signatureHeader' | 'timestampHeader' | 'encoding' | 'signingKey'>,
): SignatureConfig {
  const options = schemeOptions(form.scheme);
  const signature: SignatureConfig = { scheme: form.scheme };
  if (options.signatureHeader && form.signatureHeader.trim())
    signature.signatureHeader = form.signatureHeader.trim();
  if (options.timestampHeader && form.timestampHeader.trim())
    signature.timestampHeader = form.timestampHeader.trim();
  if (options.encoding) signature.encoding = form.encoding;
  if (options.key && form.signingKey) signature.key = form.signingKey;
  return signature;
}

/**
 * The request body for create (with `secret` when one was typed) or update (never a secret; an
 * emptied timeout as `defaultTimeoutMs`, which validateForm required to be known).
 */
export function inputFromForm(
  form: EndpointFormState,
  mode: 'create' | 'update',
  defaultTimeoutMs: number | null = null,
): EndpointInput {
  const signature = signatureFromForm(form);
  const input: EndpointInput = {
    url: form.url.trim(),
    name: form.name.trim(),
    description: form.description.trim(),
    eventTypes: eventTypesOf(form),
    method: form.method,
    envelope: form.envelope,
    headers: rowsToHeaders(form.headers),
    active: form.active,
    dev: form.dev,
    signature,
    retrySchedule: parseSchedule(form.retrySchedule) ?? null,
    rateLimit: form.ratePerSecond.trim()
      ? {
          perSecond: fieldNumber(form.ratePerSecond),
          ...(form.rateBurst.trim() ? { burst: fieldNumber(form.rateBurst) } : {}),
        }
      : null,
  };
  if (form.timeoutMs.trim()) input.timeoutMs = fieldNumber(form.timeoutMs);
  else if (mode === 'update' && defaultTimeoutMs !== null) input.timeoutMs = defaultTimeoutMs;
  if (mode === 'create' && form.secret.trim()) input.secret = form.secret.trim();
  return input;
}
