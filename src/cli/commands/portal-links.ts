/**
 * `herald portal-links create|revoke`: links to a project's customer portal through a running
 * Herald's API (the admin token or a full key of that project). A link is a credential: `create` prints it
 * on stdout once, and nothing else there, as `projects api-key` prints a key.
 */
import { Command } from 'commander';
import { type ConnectionFlags, projectArgumentOrFlag, withConnectionFlags } from '../api-connection.ts';
import { durationSeconds } from '../duration-flag.ts';
import { apiAction, sayLine } from '../print.ts';
import { making } from '../sent-without-answer.ts';
import { shellWord } from '../shell-word.ts';
import { visible } from '../terminal-text.ts';
import { reportCredential } from '../work-report.ts';

/** The API's bounds of `expiresIn` (docs/api.md "Portal links"): at most 7 days. */
const MAX_EXPIRES_IN = 7 * 86_400;

export function portalLinksCommand(): Command {
  const links = new Command('portal-links').description(
    "links to a project's customer portal (through the API; the admin token or a full key of the project)",
  );
  withConnectionFlags(
    projectArgumentOrFlag(
      links
        .command('create')
        .description(
          "a signed link to the project's customer portal: prints it once (anyone with it can manage the project's endpoints until it expires)",
        ),
    )
      .option(
        '--expires-in <duration>',
        'how long it works: seconds (3600, the default) or 90m, 12h, 7d; at most 7 days',
      )
      .option('--json', "print the API's answer as JSON (url, token, expiresAt, projectId)"),
  ).action(
    apiAction<ConnectionFlags & { expiresIn?: string; json?: boolean }>(async (client, flags, [project]) => {
      const p = shellWord(project);
      const link = await making(
        client.createPortalLink(
          project,
          flags.expiresIn
            ? { expiresIn: durationSeconds('--expires-in', flags.expiresIn, MAX_EXPIRES_IN, '7 days') }
            : {},
        ),
        flags,
        `A portal link may have been created: \`herald portal-links revoke ${p}\` ends it (and every other link of the project issued until now)`,
      );
      // The link is shown only now: without it, what was made, how to get another and to end it.
      const expiresIn = flags.expiresIn ? ` --expires-in ${shellWord(flags.expiresIn)}` : '';
      const printed = await reportCredential(
        flags.json ? `${JSON.stringify(link, null, 2)}\n` : `${visible(link.url)}\n`,
        `a portal link of ${project} was created (it works until ${link.expiresAt}), but it is not printed anywhere; ` +
          `\`herald portal-links revoke ${p}\` ends it (and every other link of the project issued until now); for another one: herald portal-links create ${p}${expiresIn}`,
      );
      if (flags.json || !printed) return;
      sayLine(
        `the link above works until ${link.expiresAt}; \`herald portal-links revoke ${project}\` ends it (and every other link of the project) before then`,
      );
    }),
  );
  withConnectionFlags(
    projectArgumentOrFlag(
      links
        .command('revoke')
        .description(
          'revoke every portal link of the project issued until now (refused with 401 from now on); links created afterwards work',
        ),
    ),
  ).action(
    apiAction<ConnectionFlags>(async (client, _flags, [project]) => {
      await client.revokePortalLinks(project);
      sayLine(
        `every portal link of ${project} issued until now is revoked: each is refused (401) from now on; links created afterwards work`,
      );
    }),
  );
  return links;
}
