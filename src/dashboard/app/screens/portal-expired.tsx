/** What a portal visitor sees without a valid link. */
export function PortalExpired() {
  return (
    <main class="signin" id="main">
      <div class="card signin-card" role="alert">
        <h1>This link is no longer valid</h1>
        <p>
          Portal links expire after a while. Ask for a new link from the service that sent you here, then open
          it again.
        </p>
      </div>
    </main>
  );
}
