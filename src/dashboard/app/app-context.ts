/** What every screen may need: the API client and who is signed in. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { HeraldClient } from './api/client.ts';
import type { Session } from './session.ts';

export interface AppContextValue {
  client: HeraldClient;
  session: Session;
  signOut(): void;
}

export const AppContext = createContext<AppContextValue | null>(null);

/** The app context; screens only render inside <AppContext.Provider>. */
export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (value === null) throw new Error('useApp() outside <AppContext.Provider>');
  return value;
}
