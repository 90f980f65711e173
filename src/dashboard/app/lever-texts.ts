/**
 * What the recover and replay panels say of the server's answer: how many, and, when one request
 * stopped short of the range, that it did and from when to go on (the panel's field is set to that
 * time, so pressing its button again goes on; a recover also stops at a disable of its endpoint
 * meanwhile). Apart from the panels so that a test reads them
 * without a browser.
 */
import { formatCount, formatTime } from './format.ts';

export function recoveredText(recovered: number, nextSince: string | null): string {
  const sent = `${formatCount(recovered)} failed deliver${recovered === 1 ? 'y' : 'ies'} queued again.`;
  return nextSince
    ? `${sent} The recover stopped there (one request runs at most about 20 s, oldest deliveries first, and stops if the endpoint is disabled meanwhile: enable it first then): "Failed since" is now ${formatTime(nextSince)}, where it stopped: press Recover again for the rest.`
    : sent;
}

export function replayedText(replayed: number, nextSince: string | null): string {
  const sent = `${formatCount(replayed)} missed event${replayed === 1 ? '' : 's'} queued for this endpoint.`;
  return nextSince
    ? `${sent} The replay stopped there (one request makes at most so many and runs at most about 20 s, and a disabled endpoint gets none): "Events since" is now ${formatTime(nextSince)}, where it stopped: press Replay again for the rest.`
    : sent;
}
