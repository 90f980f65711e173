/** Output and client lifetime shared by the API commands. */
import type { HeraldClient } from '@herald/client';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Runs `body` with the client and closes its connections afterwards, whatever happens. */
export async function withClient(
  client: HeraldClient,
  body: (client: HeraldClient) => Promise<void>,
): Promise<void> {
  try {
    await body(client);
  } finally {
    await client.close();
  }
}
