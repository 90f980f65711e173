/**
 * The statements node-postgres sends to PostgreSQL while `fn` runs (BEGIN and COMMIT included), a
 * round trip each, counted where every client hands a query to its connection (Query#submit: the
 * store's pooled clients wrap their `query`, pool.ts, so the prototype's is not what they call).
 * They pass through unchanged, `onQuery` told of each as it is sent. The count is process-wide:
 * nothing else in the test should be talking to PostgreSQL meanwhile.
 */
import pg from 'pg';

type Submit = (this: { text?: unknown }, ...args: unknown[]) => unknown;

export async function countQueries<T>(
  fn: () => Promise<T>,
  onQuery: (text: string) => void = () => undefined,
): Promise<{ result: T; queries: string[] }> {
  const queries: string[] = [];
  const proto = (pg as unknown as { Query: { prototype: { submit: Submit } } }).Query.prototype;
  const original = proto.submit;
  proto.submit = function (...args) {
    queries.push(String(this.text));
    onQuery(String(this.text));
    return original.apply(this, args);
  };
  try {
    return { result: await fn(), queries };
  } finally {
    proto.submit = original;
  }
}
