/** Deletes the endpoint after an explicit confirmation. */
import { useState } from 'preact/hooks';
import { errorMessage } from '../api/error-messages.ts';
import type { Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { useInlineConfirm } from '../components/inline-confirm.ts';
import { forgetEndpoint } from '../endpoint-names.ts';
import { useProject } from '../project-context.ts';
import { navigate } from '../router.ts';

export function DeleteEndpoint({ endpoint }: { endpoint: Endpoint }) {
  const { client } = useApp();
  const { project, base } = useProject();
  const confirm = useInlineConfirm();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await client.deleteEndpoint(project.id, endpoint.id);
      forgetEndpoint(client, project.id, endpoint.id);
      navigate(base);
    } catch (caught) {
      setError(errorMessage(caught));
      setBusy(false);
    }
  }

  return (
    <section class="card card-danger" aria-labelledby="delete-title">
      <h3 id="delete-title">Delete endpoint</h3>
      <p class="muted">
        Stops all deliveries to this URL; pending ones are closed as failed. Past attempts stay in the events
        log.
      </p>
      {!confirm.open ? (
        <button type="button" class="button-danger" ref={confirm.openerRef} onClick={confirm.show}>
          Delete…
        </button>
      ) : (
        <div class="actions" ref={confirm.panelRef}>
          <button type="button" class="button-danger" onClick={remove} disabled={busy}>
            {busy ? (
              'Deleting…'
            ) : (
              <>
                Yes, delete <bdi>{endpoint.name || 'this endpoint'}</bdi>
              </>
            )}
          </button>
          <button type="button" ref={confirm.cancelRef} onClick={confirm.cancel}>
            Cancel
          </button>
        </div>
      )}
      {error && (
        <p class="banner banner-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
