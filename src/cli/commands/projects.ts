/** `herald projects list|create|api-key`: projects through a running Herald's API (admin token). */
import { Command } from 'commander';
import { type ConnectionFlags, requiredFlag, withConnectionFlags } from '../api-connection.ts';
import { apiAction, printJson, sayEmpty } from '../print.ts';

export function projectsCommand(): Command {
  const projects = new Command('projects').description('manage projects (through the API; the admin token)');
  withConnectionFlags(
    projects.command('list').description('every project').option('--json', 'print them as JSON'),
  ).action(
    apiAction<ConnectionFlags & { json?: boolean }>(async (client, flags) => {
      const all = [];
      for (let cursor: string | undefined, first = true; first || cursor; first = false) {
        const page = await client.listProjects({ limit: 100, ...(cursor ? { cursor } : {}) });
        all.push(...page.data);
        cursor = page.nextCursor ?? undefined;
      }
      if (flags.json) printJson(all);
      else if (all.length === 0) sayEmpty('no projects yet (add one with `herald projects create NAME`)');
      else for (const p of all) process.stdout.write(`${p.id} ${p.uid ?? '-'} ${p.name}\n`);
    }),
  );
  withConnectionFlags(
    projects
      .command('create')
      .description('create a project; prints it')
      .argument('<name>', 'a name for people')
      .option('--uid <uid>', 'your own unique id for it (paths accept it instead of the id)'),
  ).action(
    apiAction<ConnectionFlags & { uid?: string }>(async (client, flags, [name]) => {
      printJson(await client.createProject({ name, ...(flags.uid ? { uid: flags.uid } : {}) }));
    }),
  );
  withConnectionFlags(
    projects
      .command('api-key')
      .description('create an API key that can only touch this project; prints it once')
      .argument('<project>', 'project id or uid')
      .addOption(requiredFlag('--name <name>', 'what the key is for')),
  ).action(
    apiAction<ConnectionFlags & { name: string }>(async (client, flags, [project]) => {
      const { key } = await client.createApiKey(project, flags.name);
      process.stdout.write(`${key}\n`);
    }),
  );
  return projects;
}
