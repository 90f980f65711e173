/** Operator home: every project, and a form to create one. */
import { useRef, useState } from 'preact/hooks';
import { capitalize, errorField, fieldMessage } from '../api/error-messages.ts';
import type { Project } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { EmptyState, ErrorBanner, Loading } from '../components/feedback.tsx';
import { focusFirstError, TextField } from '../components/fields.tsx';
import { useInlineFormFocus } from '../components/inline-form.ts';
import { Link } from '../components/link.tsx';
import { TableScroll } from '../components/table-scroll.tsx';
import { formatTime } from '../format.ts';
import { focusOverLimit, LIMITS } from '../limits.ts';
import { usePageTitle } from '../page-title.ts';
import { navigate } from '../router.ts';
import { useAsync } from '../use-async.ts';

export function ProjectsScreen() {
  const { client } = useApp();
  usePageTitle(['Projects']);
  const [extra, setExtra] = useState<{ items: Project[]; cursor: string | null } | null>(null);
  const first = useAsync(() => client.listProjects(), [client]);
  const [more, setMore] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });

  const projects = [...(first.data?.data ?? []), ...(extra?.items ?? [])];
  const cursor = extra ? extra.cursor : (first.data?.nextCursor ?? null);

  async function loadMore() {
    if (!cursor) return;
    setMore({ busy: true, error: null });
    try {
      const page = await client.listProjects(cursor);
      setExtra({ items: [...(extra?.items ?? []), ...page.data], cursor: page.nextCursor });
      setMore({ busy: false, error: null });
    } catch (error) {
      setMore({ busy: false, error });
    }
  }

  return (
    <section class="page">
      <div class="page-head">
        <h1>Projects</h1>
      </div>
      <CreateProject />
      <ErrorBanner error={first.error} onRetry={first.reload} />
      {first.loading && !first.data && <Loading label="Loading projects…" />}
      {first.data && projects.length === 0 && (
        <EmptyState title="No projects yet">
          A project is one customer of your platform (a game, a guild, a campaign). Create one above, then add
          its endpoints.
        </EmptyState>
      )}
      {projects.length > 0 && (
        <TableScroll label="Projects">
          <table>
            <caption class="sr-only">Projects</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">UID</th>
                <th scope="col">ID</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {projects.map((project) => (
                <tr key={project.id}>
                  <td>
                    <Link to={`/projects/${encodeURIComponent(project.id)}`}>
                      <bdi>{project.name}</bdi>
                    </Link>
                  </td>
                  <td>{project.uid ? <code>{project.uid}</code> : <span class="muted">—</span>}</td>
                  <td>
                    <code>{project.id}</code>
                  </td>
                  <td>{formatTime(project.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      <ErrorBanner error={more.error} />
      {cursor && (
        <button type="button" onClick={loadMore} disabled={more.busy}>
          {more.busy ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

function CreateProject() {
  const { client } = useApp();
  const [open, setOpen] = useState(false);
  const newRef = useRef<HTMLButtonElement>(null);
  const { formRef, openWith } = useInlineFormFocus(open ? 'new' : null, newRef);
  const [name, setName] = useState('');
  const [uid, setUid] = useState('');
  const [errors, setErrors] = useState<{ name?: string; uid?: string }>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    if (focusOverLimit(event.currentTarget)) return;
    const form = event.currentTarget as HTMLFormElement;
    if (!name.trim()) {
      setErrors({ name: 'A project needs a name.' });
      focusFirstError(form);
      return;
    }
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      const project = await client.createProject(
        uid.trim() ? { name: name.trim(), uid: uid.trim() } : { name: name.trim() },
      );
      navigate(`/projects/${encodeURIComponent(project.id)}`);
    } catch (caught) {
      // `body.name` and `body.uid` (a malformed or taken uid) show next to their field.
      const field = errorField(caught);
      if (field === 'body.name') setErrors({ name: capitalize(fieldMessage(caught)) });
      else if (field === 'body.uid') setErrors({ uid: capitalize(fieldMessage(caught)) });
      else setFormError(caught);
      setBusy(false);
      focusFirstError(form);
    }
  }

  if (!open) {
    return (
      <p>
        <button type="button" class="button-primary" ref={newRef} onClick={openWith(() => setOpen(true))}>
          New project
        </button>
      </p>
    );
  }
  return (
    <form class="card form-inline-card" ref={formRef} onSubmit={submit} noValidate aria-label="New project">
      <TextField
        label="Name"
        value={name}
        onInput={setName}
        required
        error={errors.name}
        maxLength={LIMITS.name}
      />
      <TextField
        label="UID (optional)"
        value={uid}
        onInput={setUid}
        error={errors.uid}
        maxLength={LIMITS.name}
        hint="Your own identifier for this customer; API paths accept it instead of the id: letters, digits, dots, dashes and underscores, starting with a letter or digit."
        spellcheck={false}
      />
      <ErrorBanner error={formError} />
      <div class="actions">
        <button type="submit" class="button-primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create project'}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
