/**
 * The dashboard's shell: decides who is signed in (operator with the admin token, or a portal visitor
 * with a link for one project), builds the API client, and routes to the screens.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { createClient } from './api/client.ts';
import { AppContext, type AppContextValue } from './app-context.ts';
import { Layout } from './components/layout.tsx';
import { navigate, route, useLocation } from './router.ts';
import { CatalogScreen } from './screens/catalog-screen.tsx';
import { NotFound } from './screens/not-found.tsx';
import { PortalExpired } from './screens/portal-expired.tsx';
import { ProjectScreen } from './screens/project-screen.tsx';
import { ProjectsScreen } from './screens/projects-screen.tsx';
import { SignIn } from './screens/sign-in.tsx';
import {
  clearPortalToken,
  loadOperatorSession,
  loadPortalSession,
  type Session,
  saveOperatorToken,
} from './session.ts';

const PORTAL_PREFIX = '/portal';

export function App() {
  const location = useLocation();
  const isPortal = location.path === PORTAL_PREFIX || location.path.startsWith(`${PORTAL_PREFIX}/`);
  return isPortal ? <PortalApp path={location.path} /> : <OperatorApp path={location.path} />;
}

function OperatorApp({ path }: { path: string }) {
  const [session, setSession] = useState<Session | null>(loadOperatorSession);
  const [expired, setExpired] = useState(false);
  // Signed in on this page (not with a token kept from before): the sign-in form had the focus.
  const [signedInHere, setSignedInHere] = useState(false);
  const context = useContextValue(
    session,
    () => {
      saveOperatorToken(null);
      setSession(null);
    },
    () => setExpired(true),
  );

  if (!session || !context) {
    return (
      <SignIn
        expired={expired}
        onSignIn={(token) => {
          saveOperatorToken(token);
          setExpired(false);
          setSignedInHere(true);
          setSession({ kind: 'operator', token });
        }}
      />
    );
  }

  const screen = route(
    path === '' ? '/' : path,
    [
      ['/', () => <ProjectsScreen />],
      ['/catalog', () => <CatalogScreen />],
      [
        '/projects/:project/*',
        (params) => (
          <ProjectScreen
            key={params['project']}
            projectRef={params['project']!}
            base={`/projects/${encodeURIComponent(params['project']!)}`}
            rest={params['*']!}
          />
        ),
      ],
    ],
    () => <NotFound />,
  );
  return (
    <AppContext.Provider value={context}>
      <Layout focusOnMount={signedInHere}>{screen}</Layout>
    </AppContext.Provider>
  );
}

function PortalApp({ path }: { path: string }) {
  const [session, setSession] = useState<Session | null>(loadPortalSession);
  // A link opened in a tab already showing the portal changes only the hash: take its token then,
  // as on a load (it replaces the one kept, and leaves the address bar).
  useEffect(() => {
    const onHashChange = () => {
      if (new URLSearchParams(window.location.hash.slice(1)).has('token')) setSession(loadPortalSession());
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);
  const context = useContextValue(
    session,
    () => {
      clearPortalToken();
      setSession(null);
    },
    () => {
      clearPortalToken();
      setSession(null);
    },
  );
  if (session?.kind !== 'portal' || !context || session.expiresAt <= Date.now()) {
    return <PortalExpired />;
  }
  const rest = path.slice(PORTAL_PREFIX.length) || '/';
  return (
    <AppContext.Provider value={context}>
      <Layout>
        {/* Another link starts the screens over: what they read with the old one is not kept. */}
        <ProjectScreen key={session.token} projectRef={session.projectId} base={PORTAL_PREFIX} rest={rest} />
      </Layout>
    </AppContext.Provider>
  );
}

function useContextValue(
  session: Session | null,
  signOut: () => void,
  onUnauthorized: () => void,
): AppContextValue | null {
  return useMemo(() => {
    if (!session) return null;
    const client = createClient(session.token, () => {
      onUnauthorized();
      signOut();
    });
    return {
      client,
      session,
      signOut: () => {
        signOut();
        if (session.kind === 'operator') navigate('/');
      },
    };
  }, [session?.token]);
}
