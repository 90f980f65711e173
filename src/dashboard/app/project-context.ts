/** The project a screen works in, and where its screens live (operator or portal paths). */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Project } from './api/types.ts';

export interface ProjectContextValue {
  project: Project;
  /** App path of the project's home: '/projects/<id>' (operator) or '/portal'. */
  base: string;
}

export const ProjectContext = createContext<ProjectContextValue | null>(null);

export function useProject(): ProjectContextValue {
  const value = useContext(ProjectContext);
  if (value === null) throw new Error('useProject() outside <ProjectContext.Provider>');
  return value;
}
