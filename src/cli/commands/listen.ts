/** `herald listen`: forward a project's new events to a local URL (src/cli/listen/forwarder.ts). */
import { X509Certificate } from 'node:crypto';
import { HeraldApiError } from '@herald/client/errors';
import { Command, Option } from 'commander';
import { withoutCredentials } from '../../domain/http-url.ts';
import { isLoopbackUrl } from '../../domain/loopback-url.ts';
import {
  type ConnectionFlags,
  checkEmptyIds,
  connect,
  countFlag,
  idFlag,
  noAnswer,
  notHerald,
  timerMs,
  typeListFlag,
  unreachable,
  withConnectionFlags,
} from '../api-connection.ts';
import { describeApiError, type FieldSources } from '../api-errors.ts';
import type { ForwardShape } from '../listen/forward-shape.ts';
import { printLine, tokenSent } from '../print.ts';
import { readTextFile } from '../read-text-file.ts';
import { CommandError, runCommand } from '../run-command.ts';
import { readSecretFile } from '../secret-file.ts';

interface ListenFlags extends ConnectionFlags {
  project: string;
  forwardTo: string;
  endpoint?: string;
  secret?: string;
  secretFile?: string;
  types?: string;
  interval: string | number;
  timeout: string | number;
  allowRemote?: boolean;
  forwardCaFile?: string;
}

/** The API's path parameters listen takes from its flags: refusals of them name the flag. */
const FIELD_SOURCES: FieldSources = { params: ['project', 'endpoint'] };

export function listenCommand(): Command {
  return withConnectionFlags(
    new Command('listen')
      .description(
        "forward a project's new events to a local URL, signed as Herald signs them (for developing a receiver)",
      )
      .addOption(
        idFlag(new Option('--project <project>', 'project id or uid (required)').makeOptionMandatory()),
      )
      .requiredOption(
        '--forward-to <url>',
        'where to send them, on this machine: localhost, 127.0.0.0/8 or [::1], e.g. http://localhost:3000/webhooks (required)',
      )
      .option(
        '--allow-remote',
        "--forward-to may be another host: it then receives webhooks signed with the endpoint's secret",
      )
      .option(
        '--forward-ca-file <path>',
        'trust the PEM certificates in this file for an https --forward-to, besides the system CAs ' +
          "(a local receiver's self-signed certificate, or the CA that signed it)",
      )
      .addOption(
        idFlag(
          new Option(
            '--endpoint <endpoint>',
            'send what this endpoint would get: its filter, method, headers, envelope, scheme and secret',
          ),
        ),
      )
      .option(
        '--secret <secret>',
        'without --endpoint: sign with this secret (default: a new one, printed); shows in ps: prefer --secret-file',
      )
      // Empty is refused, not taken as unset (an unset `"$SECRET_FILE"`): a new secret would sign,
      // which the receiver set up with the file's refuses.
      .addOption(
        idFlag(
          new Option(
            '--secret-file <path>',
            'without --endpoint: sign with the secret in this file (- for stdin; a final newline is dropped), ' +
              'kept out of ps and shell history',
          ),
        ),
      )
      .option(
        '--types <list>',
        'comma-separated event types to forward (default: all); with --endpoint, narrows its filter',
      )
      .addOption(countFlag('--interval <ms>', 'poll this often', 1000))
      .addOption(
        countFlag(
          '--timeout <ms>',
          "give up on the local receiver after this long (with --endpoint and no --timeout: the endpoint's timeoutMs)",
          10_000,
        ),
      ),
  ).action((flags: ListenFlags, command: Command) =>
    runCommand(async () => {
      // A refusal of the API names the flag it came from, as the other API commands' do (print.ts).
      // Herald not reachable (at start or at a poll): which URL was tried and how to change it.
      // An answer that is not Herald's (a wrong --url): whether --url is a Herald server.
      // A 401 of Herald's says which token was sent, as apiAction's do (print.ts tokenSent).
      const describeApi = (error: HeraldApiError) => describeApiError(error, command, FIELD_SOURCES);
      const describeRefusal = (error: HeraldApiError) =>
        `${describeApi(error)}${error.status === 401 ? tokenSent(flags) : ''}`;
      // A poll's (after the start, which Herald answered): a connection cut off is not asked about
      // whether --url is a Herald server.
      const describe = (error: unknown): string =>
        (
          notHerald(error, flags, describeApi) ??
          (error instanceof HeraldApiError ? { message: describeRefusal(error) } : null) ??
          unreachable(error, flags) ??
          noAnswer(error, flags, undefined, true) ??
          (error as Error)
        ).message;
      checkEmptyIds(command);
      try {
        await listen(flags, describe, command.getOptionValueSource('timeout') !== 'default');
      } catch (error) {
        const foreign = notHerald(error, flags, describeApi);
        if (foreign) throw foreign;
        if (error instanceof HeraldApiError) throw new CommandError(describeRefusal(error));
        throw unreachable(error, flags) ?? noAnswer(error, flags) ?? error;
      }
    }),
  );
}

async function listen(
  flags: ListenFlags,
  describeError: (error: unknown) => string,
  timeoutGiven: boolean,
): Promise<void> {
  let target: URL;
  try {
    target = new URL(flags.forwardTo);
  } catch {
    throw new CommandError(`--forward-to: not a URL: ${withoutCredentials(flags.forwardTo)}`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new CommandError('--forward-to: expected an http:// or https:// URL');
  }
  // The forward would drop them (undici sends no Authorization for them), and Herald sends none:
  // an endpoint's URL may not hold them. Refused, not dropped without a word; never echoed.
  if (target.username || target.password) {
    throw new CommandError(
      '--forward-to: a user and password in the URL are never sent (Herald sends none: an endpoint URL ' +
        "may not hold them); leave them out, and give the receiver's Authorization as one of the " +
        "endpoint's headers (with --endpoint)",
    );
  }
  // Forwarding is for a receiver being developed on this machine. Another host would get every
  // event signed with the endpoint's real secret: only when asked for by name.
  if (!flags.allowRemote && !isLoopbackUrl(target)) {
    throw new CommandError(
      `--forward-to: ${target.host} is not this machine (localhost, 127.0.0.0/8, [::1]); listen forwards ` +
        "to a local receiver. To send the project's events, signed with the endpoint's secret, to another " +
        'host, add --allow-remote',
    );
  }
  // `--forward-ca-file ""` counts as unset, as every empty flag does: an https receiver's own
  // certificate is then refused at each forward, which says so.
  const ca = flags.forwardCaFile ? forwardCa(flags.forwardCaFile, target) : undefined;
  // `--endpoint ""` (a variable that was never set) was refused by checkEmptyIds, not taken for
  // "no endpoint".
  const endpoint = flags.endpoint;
  if (endpoint !== undefined && flags.secret)
    throw new CommandError('--secret: not with --endpoint (its own secret signs)');
  if (flags.secretFile !== undefined && endpoint !== undefined)
    throw new CommandError('--secret-file: not with --endpoint (its own secret signs)');
  if (flags.secretFile !== undefined && flags.secret)
    throw new CommandError('--secret-file: not with --secret (give the secret one way)');
  const [secretFlag, secret] =
    flags.secretFile !== undefined
      ? ['--secret-file', readSecretFile(flags.secretFile, '--secret-file')]
      : ['--secret', flags.secret];
  // Checked here by the rule the API applies to an endpoint's standard secret (whsec_ base64 of
  // 24–64 bytes: a receiver set up with it could be moved onto a real endpoint), rather than at
  // every event. The message never repeats the value: it is a secret. (Loaded here: it brings the
  // signing code, @herald/verify, which no other command needs at start.)
  const { secretProblem } = await import('../../domain/secret.ts');
  const secretRefused = secret ? secretProblem('standard', secret) : null;
  if (secretRefused !== null) {
    throw new CommandError(
      `${secretFlag}: ${secretRefused} (e.g. the whsec_… secret a run without --secret prints)`,
    );
  }
  // Past what a timer holds, Node fires it after 1 ms: every forward given up on at once, polls
  // without a pause.
  const intervalMs = timerMs('--interval', flags.interval);
  const timeoutMs = timerMs('--timeout', flags.timeout);
  const types = flags.types
    ? typeListFlag(
        flags.types,
        endpoint === undefined
          ? 'for every type, leave out --types'
          : "for the endpoint's own filter, leave out --types",
      )
    : null;
  // The forwarder (undici, the signing code) loads only when listen runs, not with every command.
  const { disabledLine, disjointOnlyTests, endpointShape, localShape, sharedTypes } = await import(
    '../listen/forward-shape.ts'
  );
  const { createForwarder } = await import('../listen/forwarder.ts');
  const client = await connect(flags);
  try {
    let shape: ForwardShape;
    let refresh: (() => Promise<ForwardShape>) | undefined;
    if (endpoint !== undefined) {
      // Settings and every valid secret, read again as events arrive: a rotation (or a new filter)
      // while listening takes effect as it does for Herald's own deliveries.
      const read = async () => {
        const [settings, secrets] = await Promise.all([
          client.getEndpoint(flags.project, endpoint),
          client.getEndpointSecret(flags.project, endpoint),
        ]);
        return endpointShape(
          settings,
          secrets.secrets.map((s) => s.secret),
          types,
        );
      };
      shape = await read();
      // What changed since the last read and is worth a line is said once, before the events it
      // applies to, not at every poll: the endpoint disabled or enabled, or its filter changed to
      // none of --types (or back).
      let last = shape;
      refresh = async () => {
        const next = await read();
        const was = last;
        last = next;
        if ((next.disabled === null) !== (was.disabled === null)) {
          printLine(
            next.disabled === null
              ? `endpoint ${next.endpointId} is active again`
              : disabledLine(next, flags.project),
          );
        }
        const shared = sharedTypes(next);
        const disjoint = shared?.length === 0;
        if (disjoint !== (sharedTypes(was)?.length === 0)) {
          printLine(
            disjoint
              ? `the filter changed: ${disjointOnlyTests(next, flags.project)}`
              : `endpoint ${next.endpointId}'s filter takes ${shared?.join(',')} of --types again`,
          );
        }
        return next;
      };
    } else {
      // `--secret ""` counts as unset, as every empty flag does: a new secret, printed.
      shape = localShape(secret ? { secret, flag: secretFlag } : undefined, types);
    }
    const forwarder = createForwarder({
      client,
      project: flags.project,
      forwardTo: target.href,
      shape,
      intervalMs,
      timeoutMs,
      // Without --timeout, an endpoint's forwards get its timeoutMs, as Herald's attempts do.
      endpointTimeout: endpoint !== undefined && !timeoutGiven,
      ...(ca === undefined ? {} : { ca }),
      log: printLine,
      describeError,
      ...(refresh ? { refresh } : {}),
    });
    await forwarder.start();
    const stop = () => {
      forwarder.stop();
      // A forward under way is let finish (the receiver gets the whole request). A call to Herald
      // is not: nothing it would find is forwarded now, and a Herald that does not answer held
      // the exit for the client's timeout (30 s, not --timeout).
      if (forwarder.activity() !== null && !forwarder.forwarding()) process.exit(0);
      const waiting = forwarder.activity();
      if (waiting) {
        printLine(`stopping: waiting for ${waiting}; Ctrl-C again to exit now`);
      }
      // A second Ctrl-C (or SIGTERM) does not wait.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    printLine(
      `herald listen: forwarding new events of ${flags.project} to ${target.href}, ${shape.describe}; Ctrl-C to stop`,
    );
    if (shape.disabled !== null) printLine(disabledLine(shape, flags.project));
    // --types narrows the endpoint's filter: of types it takes none of, only test sends reach the
    // endpoint (Herald sends one whatever the filter), so only those are forwarded. Watching them
    // alone is a use; a mistyped flag is said too, before any event.
    if (sharedTypes(shape)?.length === 0) printLine(`--types: ${disjointOnlyTests(shape, flags.project)}`);
    await forwarder.run();
  } finally {
    await client.close();
  }
}

/**
 * The certificates of --forward-ca-file, checked before anything is polled: a file that cannot be
 * read or holds no certificate would otherwise fail every forward, one event at a time.
 */
function forwardCa(path: string, target: URL): string {
  if (target.protocol !== 'https:')
    throw new CommandError('--forward-ca-file: only for an https:// --forward-to');
  const pem = readTextFile(path, '--forward-ca-file', path);
  const first = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(pem);
  try {
    if (first === null) throw new Error('none');
    new X509Certificate(first[0]);
  } catch {
    throw new CommandError(
      `--forward-ca-file: ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  return pem;
}
