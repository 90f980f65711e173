import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ID_PREFIX } from '../../domain/ids.ts';
import type { Project } from '../../domain/types.ts';
import { OPERATOR_PROJECT_UID } from '../../operator/operator-project.ts';
import type { ProjectPatch } from '../../store/store.ts';
import { StoreConflictError } from '../../store/store.ts';
import { callerOf, projectFor } from '../auth.ts';
import { conflict, ForbiddenError, invalid, NotFoundError } from '../errors.ts';
import { pageOf } from '../parse.ts';
import {
  createProjectBody,
  idParams,
  type PageQuerystring,
  pageQuerystring,
  projectPatchBody,
} from '../schemas.ts';
import { logAdminOnlyRefusal } from '../scope-refusal-log.ts';
import { projectJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';

type ProjectInput = {
  name?: string;
  uid?: string | null;
  retrySchedule?: number[] | null;
  enforceCatalog?: boolean;
  backlogLimit?: number | null;
};

/**
 * Fields of a project that are the operator's, refused whole to a project key (nothing of the
 * PATCH applied). backlogLimit bounds what the project may pile up in the shared database. The uid
 * is a name in the installation's namespace, unique across every project: a key that could change
 * it would learn from the 409 which uids other projects hold (and could take a uid the admin meant
 * for another tenant); sending its current uid back changes nothing and passes. (Creating a
 * project and portal links are refused before the body is read.)
 */
function checkOperatorFields(request: FastifyRequest, b: ProjectInput, project: Project): void {
  const caller = callerOf(request);
  if (caller.kind !== 'project') return;
  const refusal: [field: string, reason: string] | null =
    b.backlogLimit !== undefined
      ? ['body.backlogLimit', "only the admin token may set a project's backlog limit"]
      : b.uid !== undefined && b.uid !== project.uid
        ? ['body.uid', "only the admin token may change a project's uid"]
        : null;
  if (refusal === null) return;
  logAdminOnlyRefusal(request, caller); // as an operator route refused to a key: throttled, never the key
  // details.field, as a 400 has it: the CLI names the flag (--backlog-limit) rather than the field.
  const [field, reason] = refusal;
  throw new ForbiddenError(`${field}: ${reason}`, { details: { field } });
}

const asConflict = (error: unknown) => {
  if (error instanceof StoreConflictError) throw conflict(`body.${error.field}`, error.message, error);
  throw error;
};

/**
 * A uid a caller may give a project: not one that looks like an id, and not the operator project's
 * (operator-project.ts finds that project by its uid, so a tenant that took it would receive every
 * project's operational events).
 */
function checkUid(uid: string | null | undefined, current: string | null = null, admin = false): void {
  if (!uid || uid === current) return;
  if (/^prj_/.test(uid)) {
    throw invalid(
      'body.uid',
      "must not start with prj_: project ids do, and a path's :project takes either, so it could name another project",
    );
  }
  // A PATCH by the admin may give it back to a project (the operator project renamed away).
  if (uid.toLowerCase() === OPERATOR_PROJECT_UID && !admin) {
    throw invalid('body.uid', `is reserved for the project of Herald's operational events`);
  }
}

export function projectRoutes(app: FastifyInstance, { store }: RouteContext) {
  app.post<{ Body: ProjectInput }>(
    '/api/v1/projects',
    {
      config: { access: 'operator', portal: false },
      schema: { tags: ['projects'], summary: 'Create a project (admin)', body: createProjectBody },
    },
    async (request, reply) => {
      const b = request.body;
      checkUid(b.uid);
      const project = await store
        .createProject(
          {
            name: b.name!,
            uid: b.uid ?? null,
            retrySchedule: b.retrySchedule ?? null,
            enforceCatalog: b.enforceCatalog ?? false,
            backlogLimit: b.backlogLimit ?? null,
          },
          Date.now(),
        )
        .catch(asConflict);
      return reply.code(201).send(projectJson(project));
    },
  );
  app.get<{ Querystring: PageQuerystring }>(
    '/api/v1/projects',
    {
      config: { access: 'operator', portal: false },
      schema: { tags: ['projects'], summary: 'List projects (admin)', querystring: pageQuerystring },
    },
    async (request) => {
      const page = await store.listProjects(pageOf(request.query, ID_PREFIX.project));
      return { data: page.data.map(projectJson), nextCursor: page.nextCursor };
    },
  );
  app.get<{ Params: { project: string } }>(
    '/api/v1/projects/:project',
    {
      config: { access: 'read', portal: true },
      schema: { tags: ['projects'], summary: 'Get a project by id or uid', params: idParams('project') },
    },
    async (request) => projectJson(await projectFor(store, request, request.params.project)),
  );
  app.patch<{ Params: { project: string }; Body: ProjectInput | null }>(
    '/api/v1/projects/:project',
    {
      config: { access: 'write', portal: false },
      schema: {
        tags: ['projects'],
        summary: 'Update a project',
        params: idParams('project'),
        body: projectPatchBody,
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const patch: ProjectPatch = {};
      const b = request.body ?? {};
      const admin = callerOf(request).kind === 'admin';
      checkOperatorFields(request, b, project);
      if (b.name !== undefined) patch.name = b.name;
      if (b.uid !== undefined) {
        checkUid(b.uid, project.uid, admin);
        patch.uid = b.uid;
      }
      if (b.retrySchedule !== undefined) patch.retrySchedule = b.retrySchedule;
      if (b.enforceCatalog !== undefined) patch.enforceCatalog = b.enforceCatalog;
      if (b.backlogLimit !== undefined) patch.backlogLimit = b.backlogLimit;
      const updated = await store.updateProject(project.id, patch, Date.now()).catch(asConflict);
      if (!updated) throw new NotFoundError('project');
      return projectJson(updated);
    },
  );
  app.delete<{ Params: { project: string } }>(
    '/api/v1/projects/:project',
    {
      config: { access: 'operator', portal: false },
      schema: {
        tags: ['projects'],
        summary: 'Delete a project and everything it owns (admin)',
        params: idParams('project'),
      },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project);
      await store.deleteProject(project.id);
      return reply.code(204).send();
    },
  );
}
