/**
 * A receiver URL as the operator webhook and its log lines give it: scheme, host and port, then
 * `/…`. Its path and query stay out: a chat or automation service's webhook URL is its credential
 * (a token in the query, a secret path), as a customer's receiver URL may be (GamerSafer-style), and
 * both the logs and the operator webhook (often a chat relay or an incident tool) reach more people
 * than the admin who can read the whole URL in the API.
 */
export function urlOrigin(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '…';
  }
}
