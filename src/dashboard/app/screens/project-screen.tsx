/** One project: its header and tabs, and the screen for the rest of the path. */
import type { ComponentChildren } from 'preact';
import { useApp } from '../app-context.ts';
import { ErrorBanner, Loading } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { Tabs } from '../components/tabs.tsx';
import { ProjectContext } from '../project-context.ts';
import { type Route, route } from '../router.ts';
import { useAsync } from '../use-async.ts';
import { AccessScreen } from './access-screen.tsx';
import { AttemptDetail } from './attempt-detail.tsx';
import { EndpointForm } from './endpoint-form.tsx';
import { EndpointScreen } from './endpoint-screen.tsx';
import { EndpointsList } from './endpoints-list.tsx';
import { EventDetail } from './event-detail.tsx';
import { EventsScreen } from './events-screen.tsx';
import { NotFound } from './not-found.tsx';
import { ProjectSettings } from './project-settings.tsx';

export function ProjectScreen({
  projectRef,
  base,
  rest,
}: {
  projectRef: string;
  base: string;
  rest: string;
}) {
  const { client, session } = useApp();
  const project = useAsync(() => client.getProject(projectRef), [client, projectRef]);
  const operator = session.kind === 'operator';

  if (!project.data) {
    return (
      <section class="page">
        <ErrorBanner error={project.error} onRetry={project.reload} />
        {project.loading && <Loading label="Loading project…" />}
      </section>
    );
  }

  const tabs = [
    { path: base, label: 'Endpoints' },
    { path: `${base}/events`, label: 'Events' },
    ...(operator
      ? [
          { path: `${base}/access`, label: 'Access' },
          { path: `${base}/settings`, label: 'Project settings' },
        ]
      : []),
  ];
  const section = rest.startsWith('/events')
    ? `${base}/events`
    : rest.startsWith('/access')
      ? `${base}/access`
      : rest.startsWith('/settings')
        ? `${base}/settings`
        : base;

  const screen = route<ComponentChildren>(
    rest === '' ? '/' : rest,
    [
      ['/', () => <EndpointsList />],
      ['/endpoints/new', () => <EndpointForm />],
      [
        '/endpoints/:endpoint/attempts/:attempt',
        (p) => <AttemptDetail key={p['attempt']} endpointId={p['endpoint']!} attemptId={p['attempt']!} />,
      ],
      [
        '/endpoints/:endpoint',
        (p) => <EndpointScreen key={p['endpoint']} endpointId={p['endpoint']!} tab="overview" />,
      ],
      [
        '/endpoints/:endpoint/:tab',
        (p) => <EndpointScreen key={p['endpoint']} endpointId={p['endpoint']!} tab={p['tab']!} />,
      ],
      ['/events', () => <EventsScreen />],
      ['/events/:event', (p) => <EventDetail eventId={p['event']!} />],
      ...(operator
        ? ([
            ['/access', () => <AccessScreen />],
            ['/settings', () => <ProjectSettings onSaved={project.reload} />],
          ] as Route<ComponentChildren>[])
        : []),
    ],
    () => <NotFound home={base} />,
  );

  return (
    <ProjectContext.Provider value={{ project: project.data, base }}>
      <section class="page">
        {operator && (
          <nav class="breadcrumbs" aria-label="Breadcrumbs">
            <Link to="/">Projects</Link> <span aria-hidden="true">›</span> <bdi>{project.data.name}</bdi>
          </nav>
        )}
        <div class="page-head">
          <h1>{project.data.name}</h1>
          {project.data.uid && <code class="muted">{project.data.uid}</code>}
        </div>
        <Tabs tabs={tabs} current={section} label="Project sections" />
        {screen}
      </section>
    </ProjectContext.Provider>
  );
}
