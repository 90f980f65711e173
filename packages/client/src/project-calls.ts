/**
 * HeraldClient's calls on projects (client.ts): the projects themselves, their API keys, their
 * operational events and portal links.
 */
import type { CallOptions } from './client-options.ts';
import { EventCalls } from './event-calls.ts';
import { LIST, NO_CONTENT, WITH_ID } from './expected-answers.ts';
import { seg } from './path-segment.ts';
import type {
  ApiKey,
  ApiKeyScope,
  ApiKeyWithSecret,
  OperationalEvent,
  OperationalEventQuery,
  Page,
  PageQuery,
  PortalLink,
  Project,
  ProjectInput,
} from './types.ts';

export class ProjectCalls extends EventCalls {
  // ── projects ───────────────────────────────────────────────────────────
  createProject(input: ProjectInput, call: CallOptions = {}): Promise<Project> {
    return this.request('POST', '/projects', { signal: call.signal, body: input, expect: WITH_ID });
  }
  listProjects(query: PageQuery = {}, call: CallOptions = {}): Promise<Page<Project>> {
    return this.request('GET', '/projects', { signal: call.signal, query: { ...query }, expect: LIST });
  }
  getProject(project: string, call: CallOptions = {}): Promise<Project> {
    return this.request('GET', `/projects/${seg(project)}`, { signal: call.signal, expect: WITH_ID });
  }
  updateProject(project: string, input: Partial<ProjectInput>, call: CallOptions = {}): Promise<Project> {
    return this.request('PATCH', `/projects/${seg(project)}`, {
      signal: call.signal,
      body: input,
      expect: WITH_ID,
    });
  }
  async deleteProject(project: string, call: CallOptions = {}): Promise<void> {
    await this.request('DELETE', `/projects/${seg(project)}`, { signal: call.signal, expect: NO_CONTENT });
  }
  /**
   * A key that sees only this project, and there what `scope` allows (default `full`; `send` for a
   * service that only sends events); `key` is in this answer only (admin token only).
   */
  createApiKey(
    project: string,
    name: string,
    options: { scope?: ApiKeyScope | undefined } = {},
    call: CallOptions = {},
  ): Promise<ApiKeyWithSecret> {
    return this.request('POST', `/projects/${seg(project)}/api-keys`, {
      signal: call.signal,
      body: options.scope === undefined ? { name } : { name, scope: options.scope },
      expect: { object: { id: 'string', key: 'string' } },
    });
  }
  /** The project's keys, without the keys themselves (one page: `nextCursor` is null). */
  listApiKeys(project: string, call: CallOptions = {}): Promise<Page<ApiKey>> {
    return this.request('GET', `/projects/${seg(project)}/api-keys`, { signal: call.signal, expect: LIST });
  }
  /** Revokes a key at once, and the portal links it created. */
  async deleteApiKey(project: string, key: string, call: CallOptions = {}): Promise<void> {
    await this.request('DELETE', `/projects/${seg(project)}/api-keys/${seg(key)}`, {
      signal: call.signal,
      expect: NO_CONTENT,
    });
  }

  // ── operational events and portal links ────────────────────────────────
  /**
   * What Herald reported about the project's endpoints (disabled, recovered, exhausted), newest
   * first; `type` narrows it to one kind, `endpoint` to one endpoint's (follow `nextCursor`: such a
   * page may hold fewer than `limit`).
   */
  listOperationalEvents(
    project: string,
    query: OperationalEventQuery = {},
    call: CallOptions = {},
  ): Promise<Page<OperationalEvent>> {
    return this.request('GET', `/projects/${seg(project)}/operational-events`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }
  /** A signed link to the project's customer portal; `expiresIn` in seconds (default 3600, at most 7 days). */
  createPortalLink(
    project: string,
    options: { expiresIn?: number | undefined } = {},
    call: CallOptions = {},
  ): Promise<PortalLink> {
    return this.request('POST', `/projects/${seg(project)}/portal-links`, {
      signal: call.signal,
      body: options,
      expect: { object: { url: 'string', token: 'string' } },
    });
  }
  /** Revokes every portal link of the project issued until now. */
  async revokePortalLinks(project: string, call: CallOptions = {}): Promise<void> {
    await this.request('DELETE', `/projects/${seg(project)}/portal-links`, {
      signal: call.signal,
      expect: NO_CONTENT,
    });
  }
}
