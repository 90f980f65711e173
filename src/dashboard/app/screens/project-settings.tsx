/**
 * Operator-only: the project's own settings (PATCH /api/v1/projects/:project): name, uid, retry
 * schedule for its endpoints, whether it enforces the event catalog, and its backlog limit.
 */
import { useState } from 'preact/hooks';
import { capitalize, errorField, fieldMessage } from '../api/error-messages.ts';
import type { Project } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { ErrorBanner, Notice } from '../components/feedback.tsx';
import { CheckboxField, focusFirstError, TextField } from '../components/fields.tsx';
import { fieldNumber, NO_RETRIES, parseSchedule, scheduleText } from '../endpoint-form-state.ts';
import { formatSeconds } from '../format.ts';
import { focusOverLimit, LIMITS } from '../limits.ts';
import { usePageTitle } from '../page-title.ts';
import { useProject } from '../project-context.ts';
import { useDeliverySettings } from '../use-delivery-settings.ts';

type Field = 'name' | 'uid' | 'retrySchedule' | 'backlogLimit';

/** The form's field of an API error's `details.field` (`body.retrySchedule.1` → retrySchedule). */
function fieldOf(field: string | null): Field | null {
  const top = /^body\.(name|uid|retrySchedule|backlogLimit)(?:\.|$)/.exec(field ?? '')?.[1];
  return (top as Field | undefined) ?? null;
}

export function ProjectSettings({ onSaved }: { onSaved: (project: Project) => void }) {
  const { client } = useApp();
  const { project } = useProject();
  usePageTitle(['Project settings', project.name]);
  const delivery = useDeliverySettings();
  const [name, setName] = useState(project.name);
  const [uid, setUid] = useState(project.uid ?? '');
  const [schedule, setSchedule] = useState(scheduleText(project.retrySchedule));
  const [enforceCatalog, setEnforceCatalog] = useState(project.enforceCatalog);
  const [backlogLimit, setBacklogLimit] = useState(
    project.backlogLimit === null ? '' : String(project.backlogLimit),
  );
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    if (focusOverLimit(event.currentTarget)) return;
    const found: Partial<Record<Field, string>> = {};
    if (!name.trim()) found.name = 'A project needs a name.';
    const retrySchedule = parseSchedule(schedule);
    if (retrySchedule === undefined) {
      found.retrySchedule = `Seconds above 0 separated by commas, e.g. 5, 300, 1800; or ${NO_RETRIES} for no retries.`;
    }
    // Plain decimal only: Number() read "0x10" as 16 and "1e3" as 1000, and saved those.
    const limit = backlogLimit.trim() === '' ? null : fieldNumber(backlogLimit);
    if (limit !== null && !(Number.isInteger(limit) && limit >= 0)) {
      found.backlogLimit = 'A whole number, 0 or more (0: no limit).';
    }
    setErrors(found);
    setFormError(null);
    setSaved(false);
    const form = event.currentTarget as HTMLFormElement;
    if (Object.keys(found).length > 0 || retrySchedule === undefined) {
      focusFirstError(form);
      return;
    }
    setBusy(true);
    try {
      // uid and backlogLimit only when changed: they are the admin's alone, and the reserved uid of
      // Herald's own project is checked on each change.
      const newUid = uid.trim() === '' ? null : uid.trim();
      const updated = await client.updateProject(project.id, {
        name: name.trim(),
        retrySchedule,
        enforceCatalog,
        ...(newUid === project.uid ? {} : { uid: newUid }),
        ...(limit === project.backlogLimit ? {} : { backlogLimit: limit }),
      });
      setSaved(true);
      onSaved(updated);
    } catch (caught) {
      // A field the API names shows by it; the input stays as typed.
      const field = fieldOf(errorField(caught));
      if (field) {
        setErrors({ [field]: capitalize(fieldMessage(caught)) });
        focusFirstError(form);
      } else setFormError(caught);
    } finally {
      setBusy(false);
    }
  }

  const installation = delivery.data?.retrySchedule;
  const own = parseSchedule(schedule);
  const scheduleHint =
    own && own.length === 0
      ? 'No retries: one try only, for every endpoint of the project without a schedule of its own.'
      : own
        ? `Retries after ${own.map(formatSeconds).join(', ')}, for every endpoint of the project without a schedule of its own.`
        : `Delays after the first try, or ${NO_RETRIES}, for the endpoints without a schedule of their own. Empty: this installation's default${installation ? ` (${installation.map(formatSeconds).join(', ')})` : ''}.`;

  return (
    <form class="card" onSubmit={submit} noValidate aria-label="Project settings">
      <h2>Project settings</h2>
      <TextField
        label="Name"
        value={name}
        onInput={setName}
        required
        error={errors.name}
        maxLength={LIMITS.name}
      />
      <TextField
        label="UID"
        value={uid}
        onInput={setUid}
        error={errors.uid}
        maxLength={LIMITS.name}
        hint="Your own identifier for this customer; API paths accept it instead of the id. Empty: none."
        spellcheck={false}
      />
      <TextField
        label="Retry schedule (seconds)"
        value={schedule}
        onInput={setSchedule}
        error={errors.retrySchedule}
        hint={scheduleHint}
        placeholder={installation && installation.length > 0 ? installation.join(', ') : '5, 300, 1800'}
        spellcheck={false}
      />
      <CheckboxField
        label="Enforce the event catalog"
        checked={enforceCatalog}
        onChange={setEnforceCatalog}
        hint="Events of a type not in the catalog are refused (422), and so are endpoint filters naming one."
      />
      <TextField
        label="Backlog limit"
        value={backlogLimit}
        onInput={setBacklogLimit}
        error={errors.backlogLimit}
        inputMode="numeric"
        hint="Pending deliveries past which new events are refused (429). Empty: this installation's limit; 0: no limit."
      />
      <Notice>{saved && 'Settings saved.'}</Notice>
      <ErrorBanner error={formError} />
      <div class="actions">
        <button type="submit" class="button-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save settings'}
        </button>
      </div>
    </form>
  );
}
