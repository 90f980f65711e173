/**
 * A custom `Content-Type` an endpoint may carry among its headers: one whose media type describes
 * the body Herald sends for the endpoint's method and scheme, sent instead of Herald's own. The
 * body and its signature stay what they are: every scheme signs the body bytes (or, for
 * `hmac-sha1-url`, the URL and the form fields), never the Content-Type, so a parameter such as
 * `charset=utf-8` changes nothing a receiver checks. The envelope does not change the body's type:
 * `standard`, `event-data` and `raw` are all JSON text. Pure.
 */
import type { BodyFormat } from '@herald/verify';
import type { HttpMethod, SignatureScheme } from './types.ts';

/**
 * What a request's body is: its scheme's `bodyFormat` (packages/verify/src/schemes), or null for a
 * GET (no body, no Content-Type). Written out rather than read from the schemes so that the
 * dashboard's preview can use it without bundling the signing code; a test holds the two equal.
 */
export function bodyFormatOf(method: HttpMethod, scheme: SignatureScheme): BodyFormat | null {
  if (method === 'GET') return null;
  if (scheme === 'hmac-sha1-url') return 'form';
  if (scheme === 'sha256-body') return 'sha256-body';
  return 'json';
}

/** The media types a custom Content-Type may name for each body format, as the refusal says them. */
export const FITTING_MEDIA_TYPES: Record<BodyFormat, readonly string[]> = {
  json: ['application/json', 'application/<name>+json'],
  form: ['application/x-www-form-urlencoded'],
  'sha256-body': ['text/plain'],
};

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
// RFC 9110 quoted-string: qdtext and quoted-pair, obs-text (U+0080–U+00FF) included.
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
const PARAMETER = new RegExp(`^(${TOKEN})=(${TOKEN}|${QUOTED})$`);
const TYPE_SUBTYPE = new RegExp(`^(${TOKEN})/(${TOKEN})$`);
/** Why a GET takes no Content-Type (the API adds what to do: it depends on the request). */
export const NO_BODY = 'a GET carries no body, so it has no Content-Type';
/**
 * The charset label a Content-Type may carry (the bodies are UTF-8; their ASCII-only forms are
 * too). Only the registered name: Express's `express.json()` answers 415 to `charset=utf8`, so a
 * receiver behind it would refuse every delivery.
 */
const UTF8_LABEL = 'utf-8';

/** A media type as RFC 9110 §8.3.1 writes it: lower-case type/subtype and its parameters, or null. */
function parseMediaType(value: string): { type: string; parameters: [string, string][] } | null {
  const [head = '', ...rest] = splitParameters(value);
  const match = TYPE_SUBTYPE.exec(trimOws(head));
  if (!match) return null;
  const parameters: [string, string][] = [];
  for (const part of rest) {
    const trimmed = trimOws(part);
    if (trimmed === '') continue; // `;` with nothing after it is allowed (`*( OWS ";" OWS [ parameter ] )`)
    const parameter = PARAMETER.exec(trimmed);
    if (!parameter) return null;
    const raw = parameter[2]!;
    const text = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    parameters.push([parameter[1]!.toLowerCase(), text]);
  }
  return { type: `${match[1]}/${match[2]}`.toLowerCase(), parameters };
}

/**
 * `text` without the HTTP whitespace (OWS: space and tab) around it. Not String.trim(), which also
 * takes U+00A0 (no-break space) away: sent as byte A0, a receiver's parser reads it as part of
 * the type (Express's express.json() leaves an `application/json` + A0 body unparsed).
 */
function trimOws(text: string): string {
  return text.replace(/^[\t ]+|[\t ]+$/g, '');
}

/** Splits at the `;` outside quoted strings. */
function splitParameters(value: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

function fitsFormat(type: string, format: BodyFormat): boolean {
  if (format === 'json') return type === 'application/json' || /^application\/.+\+json$/.test(type);
  return FITTING_MEDIA_TYPES[format].includes(type);
}

/**
 * Why `value` cannot be the Content-Type of an endpoint sending with `method` and `scheme`, or null
 * when it describes that body: the format's media type (JSON: `application/json` or any
 * `application/<name>+json`), with any parameters, a `charset` among them being UTF-8's (every
 * body Herald sends is UTF-8: another charset would have receivers decode it wrongly).
 */
export function contentTypeProblem(
  value: string,
  method: HttpMethod,
  scheme: SignatureScheme,
): string | null {
  const format = bodyFormatOf(method, scheme);
  if (format === null) {
    return NO_BODY;
  }
  const media = parseMediaType(value);
  if (media === null) {
    return `${JSON.stringify(value.slice(0, 80))} is not a media type; ${bodyWords(format)}: use ${fittingWords(format)}`;
  }
  if (!fitsFormat(media.type, format)) {
    return `${media.type} does not describe the body: ${bodyWords(format)}, so use ${fittingWords(format)}`;
  }
  const charset = media.parameters.find(
    ([name, text]) => name === 'charset' && text.toLowerCase() !== UTF8_LABEL,
  );
  if (charset)
    return `the body is UTF-8, not ${JSON.stringify(charset[1].slice(0, 40))}: use ${fittingWords(format)}`;
  return null;
}

/**
 * Why the API refuses `value` as an endpoint's custom Content-Type (its 400's message for
 * `body.headers.<name>`), or null when it is taken: contentTypeProblem, and for a GET what to do.
 * The dashboard's header editor says it in the same words before Save.
 */
export function contentTypeRefusal(
  value: string,
  method: HttpMethod,
  scheme: SignatureScheme,
): string | null {
  const problem = contentTypeProblem(value, method, scheme);
  if (problem === NO_BODY) return `${problem}: remove the header, or send with POST, PUT or PATCH`;
  return problem;
}

function bodyWords(format: BodyFormat): string {
  if (format === 'json') return 'the body is JSON';
  if (format === 'form') return 'the body of hmac-sha1-url is a form';
  return 'the body of sha256-body is text (base64 and a hex hash)';
}

function fittingWords(format: BodyFormat): string {
  return `${FITTING_MEDIA_TYPES[format].join(' or ')}, with any parameters (a charset must be utf-8)`;
}
