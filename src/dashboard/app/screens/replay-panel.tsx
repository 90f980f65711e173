/** Sends the endpoint the events since a time it has no delivery for (added late, or its filter widened). */
import type { Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { SinceLever } from '../components/since-lever.tsx';
import { replayedText } from '../lever-texts.ts';
import { useProject } from '../project-context.ts';

export function ReplayPanel({ endpoint, onQueued }: { endpoint: Endpoint; onQueued: () => void }) {
  const { client } = useApp();
  const { project } = useProject();
  return (
    <SinceLever
      endpoint={endpoint}
      id="replay"
      title="Replay missed events"
      blurb="New endpoint, or a wider filter? Send it the events since a time that it never got. Each goes once."
      fieldLabel="Events since"
      button="Replay"
      busyButton="Replaying…"
      disabledHint="The endpoint is disabled: enable it first (above), then replay."
      run={async (since) => {
        const { replayed, nextSince } = await client.replay(project.id, endpoint.id, since);
        onQueued();
        return { text: replayedText(replayed, nextSince), nextSince };
      }}
    />
  );
}
