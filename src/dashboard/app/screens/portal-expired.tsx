/**
 * What a portal visitor sees without a valid link: one that expired, or that the service revoked (the
 * API answers both with 401, and the page cannot tell them apart).
 */
import { usePageTitle } from '../page-title.ts';

export function PortalExpired() {
  usePageTitle(['Link no longer valid']);
  return (
    <main class="signin" id="main">
      <div class="card signin-card" role="alert">
        <h1>This link is no longer valid</h1>
        <p>
          It has expired or been revoked. Ask the service that sent you here for a new link, then open it.
        </p>
      </div>
    </main>
  );
}
