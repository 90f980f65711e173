/** Re-sends every failed delivery of the endpoint since a time (after fixing the receiver). */
import type { Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { SinceLever } from '../components/since-lever.tsx';
import { recoveredText } from '../lever-texts.ts';
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
        const { recovered, nextSince } = await client.recover(project.id, endpoint.id, since);
        onQueued();
        return { text: recoveredText(recovered, nextSince), nextSince };
      }}
    />
  );
}
