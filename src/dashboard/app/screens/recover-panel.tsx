/** Re-sends every failed delivery of the endpoint since a time (after fixing the receiver). */
import type { Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { SinceLever } from '../components/since-lever.tsx';
import { useProject } from '../project-context.ts';

export function RecoverPanel({ endpoint, onQueued }: { endpoint: Endpoint; onQueued: () => void }) {
  const { client } = useApp();
  const { project } = useProject();
  return (
    <SinceLever
      endpoint={endpoint}
      id="recover"
      title="Recover failed deliveries"
      blurb="Fixed your receiver? Send again every delivery that failed since a time."
      fieldLabel="Failed since"
      button="Recover"
      busyButton="Recovering…"
      disabledHint="The endpoint is disabled: enable it first (above), then recover."
      run={async (since) => {
        const answer = (await client.recover(project.id, endpoint.id, since)) as {
          recovered?: unknown;
          count?: unknown;
        } | null;
        onQueued();
        const count =
          typeof answer?.recovered === 'number'
            ? answer.recovered
            : typeof answer?.count === 'number'
              ? answer.count
              : null;
        return count === null
          ? 'Failed deliveries queued again.'
          : `${count} failed deliver${count === 1 ? 'y' : 'ies'} queued again.`;
      }}
    />
  );
}
