/**
 * An endpoint at a glance: attempt and latency charts, what waits for it, when it was disabled and
 * enabled, secret, test send, recovery, replay, deletion.
 */
import { useState } from 'preact/hooks';
import type { Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { AttemptsChart, LatencyChart, StatsTable } from '../components/charts.tsx';
import { ErrorBanner, Loading } from '../components/feedback.tsx';
import { SelectField } from '../components/fields.tsx';
import { formatCount, formatRate } from '../format.ts';
import { useProject } from '../project-context.ts';
import { fillBuckets } from '../stats-buckets.ts';
import { useAsync } from '../use-async.ts';
import { totals } from '../use-endpoint-health.ts';
import { DeleteEndpoint } from './delete-endpoint.tsx';
import { RecoverPanel } from './recover-panel.tsx';
import { ReplayPanel } from './replay-panel.tsx';
import { SecretPanel } from './secret-panel.tsx';
import { StatusChanges } from './status-changes.tsx';
import { TestEventPanel } from './test-event-panel.tsx';
import { WaitingDeliveries } from './waiting-deliveries.tsx';

/** Chart periods and their bucket size, about 24–30 bars each. */
const PERIODS = {
  '1h': { label: 'Last hour', ms: 3600_000, bucket: '5m', bucketMs: 300_000 },
  '24h': { label: 'Last 24 hours', ms: 24 * 3600_000, bucket: '1h', bucketMs: 3600_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 86_400_000, bucket: '6h', bucketMs: 6 * 3600_000 },
  '30d': { label: 'Last 30 days', ms: 30 * 86_400_000, bucket: '1d', bucketMs: 86_400_000 },
} as const;
type Period = keyof typeof PERIODS;

export function EndpointOverview({ endpoint }: { endpoint: Endpoint }) {
  const [period, setPeriod] = useState<Period>('24h');
  // Counts what a test send, Recover and Replay queued: the Waiting card reads its list again after each.
  const [queued, setQueued] = useState(0);
  const onQueued = () => setQueued((n) => n + 1);
  return (
    <div class="overview">
      <section class="card" aria-labelledby="stats-title">
        <div class="section-head">
          <h3 id="stats-title">Delivery attempts</h3>
          <SelectField
            label="Period"
            value={period}
            options={(Object.keys(PERIODS) as Period[]).map((value) => ({
              value,
              label: PERIODS[value].label,
            }))}
            onChange={setPeriod}
          />
        </div>
        <Stats endpoint={endpoint} period={period} />
      </section>
      <WaitingDeliveries endpoint={endpoint} queued={queued} />
      <StatusChanges endpoint={endpoint} />
      <div class="panels">
        <SecretPanel endpoint={endpoint} />
        <TestEventPanel endpoint={endpoint} onQueued={onQueued} />
        <RecoverPanel endpoint={endpoint} onQueued={onQueued} />
        <ReplayPanel endpoint={endpoint} onQueued={onQueued} />
        <DeleteEndpoint endpoint={endpoint} />
      </div>
    </div>
  );
}

function Stats({ endpoint, period }: { endpoint: Endpoint; period: Period }) {
  const { client } = useApp();
  const { project } = useProject();
  const stats = useAsync(async () => {
    const { ms, bucket, bucketMs } = PERIODS[period];
    // The period up to now, as the endpoints list counts it (not rounded to whole buckets, which
    // left up to a bucket of its start out): the server's buckets start at whole multiples of their
    // size whatever `since` is, so the first and the last bar hold part of a bucket.
    const until = Date.now();
    const since = until - ms;
    const read = await client.stats(project.id, endpoint.id, {
      since: new Date(since).toISOString(),
      until: new Date(until).toISOString(),
      bucket,
    });
    return { period, buckets: fillBuckets(read, since, until, bucketMs) };
  }, [client, project.id, endpoint.id, period]);
  // The period before's are not shown under this one: not while it loads, nor after its read
  // failed (they stayed, and the error was not said at all).
  const buckets = stats.data?.period === period ? stats.data.buckets : undefined;

  if (!buckets) {
    return (
      <>
        <ErrorBanner error={stats.error} onRetry={stats.reload} />
        {stats.loading && <Loading label="Loading statistics…" />}
      </>
    );
  }
  const sum = totals(buckets);
  const total = sum.succeeded + sum.failed;
  return (
    <>
      <dl class="kpis">
        <div>
          <dt>Attempts</dt>
          <dd>{formatCount(total)}</dd>
        </div>
        <div>
          <dt>Success rate</dt>
          <dd>{formatRate(sum.succeeded, total)}</dd>
        </div>
        <div>
          <dt>Consecutive failures</dt>
          <dd>{formatCount(endpoint.consecutiveFailures)}</dd>
        </div>
      </dl>
      <div class="charts">
        <AttemptsChart buckets={buckets} />
        <LatencyChart buckets={buckets} />
      </div>
      <StatsTable buckets={buckets} />
    </>
  );
}
