/**
 * Small parsers for query and body values the schemas cannot fully check: URLs, signature options,
 * pages. Times are in parse-time.ts, request bodies in body-parsers.ts.
 */
import { signatureConfigIssue, signatureHeaderProblem } from '@herald/verify';
import { type Cidr, refusedLiteralHost } from '../domain/address-classifier.ts';
import { checkHttpUrl } from '../domain/http-url.ts';
import { isIdOf } from '../domain/ids.ts';
import type { HttpMethod, SignatureConfig } from '../domain/types.ts';
import { decodeCursor } from '../store/cursor.ts';
import { invalid, unprocessable } from './errors.ts';

/** An http(s) URL; 400 naming the field otherwise. */
export function parseHttpUrl(field: string, value: string): string {
  const checked = checkHttpUrl(value);
  if ('problem' in checked) throw invalid(field, checked.problem);
  return checked.url.toString();
}

/**
 * An http(s) URL that delivery could reach: also 422 naming the field when its host is an address
 * (or a localhost name) outside `allow`, which the SSRF guard would refuse at every attempt, so the
 * mistake shows when the URL is accepted rather than as `blocked` attempts. Names are resolved,
 * and checked, when delivery connects.
 */
export function parseDeliverableUrl(field: string, value: string, allow: readonly Cidr[]): string {
  const url = parseHttpUrl(field, value);
  const refused = refusedLiteralHost(new URL(url).hostname, allow);
  if (refused) {
    throw unprocessable(
      field,
      `${refused}; Herald delivers to public addresses only, unless its operator allows this network (HERALD_ALLOW_NETWORKS)`,
    );
  }
  return url;
}

/**
 * 422 when the signature options cannot work with the method (e.g. sha256-body over GET, which has
 * no body), naming `body.signature.signatureHeader` or `.timestampHeader` when that header cannot
 * carry a signature (`Connection`, `Transfer-Encoding`, …: the same list custom headers may not use),
 * and the option (`body.signature.encoding`, `.key`, …) when the scheme has no such option.
 */
export function checkSignatureConfig(signature: SignatureConfig, method: HttpMethod): void {
  for (const option of ['signatureHeader', 'timestampHeader'] as const) {
    const name = signature[option];
    const problem = name === undefined ? null : signatureHeaderProblem(name);
    if (problem) throw unprocessable(`body.signature.${option}`, problem);
  }
  // An option the scheme has no use for is named (`body.signature.encoding`); a combination
  // (sha256-body over GET, the two header names alike) is the whole signature's.
  const issue = signatureConfigIssue(signature, method);
  if (issue) {
    throw unprocessable(issue.option ? `body.signature.${issue.option}` : 'body.signature', issue.message);
  }
}

/** `?limit&cursor` → a store page query; limit 1..1000, default 50; `idPrefix`: the list's kind of id (ID_PREFIX). */
export function pageOf(
  query: { limit?: string; cursor?: string },
  idPrefix?: string,
): { limit: number; cursor: string | null } {
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw invalid('querystring.limit', 'must be an integer from 1 to 1000');
  if (query.cursor === '') throw invalid('querystring.cursor', 'must not be empty'); // the schemas refuse it first
  const cursor = query.cursor ?? null;
  // A cursor Herald did not make (cut short, edited, from elsewhere) is refused rather than
  // starting the list over, which would loop a client that follows nextCursor.
  if (cursor !== null) {
    const key = decodeCursor(cursor);
    // A list of ids takes only a cursor of its own kind, an id and nothing more: another list's
    // would start it somewhere meaningless (an events cursor on attempts starts over; an attempts
    // cursor on events is past every event; an endpoint's waiting deliveries, `dlv_…@<due>`, are
    // in due order, not an event's id order) without a word.
    if (key === null || (idPrefix !== undefined && !isIdOf(idPrefix, key))) {
      throw invalid('querystring.cursor', 'is not a cursor Herald returned for this list');
    }
  }
  return { limit, cursor };
}
