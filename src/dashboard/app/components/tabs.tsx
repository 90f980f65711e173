/** Navigation tabs as links (each tab has its own URL, so reload and back keep the tab). */
import { Link } from './link.tsx';

export interface Tab {
  path: string;
  label: string;
}

export function Tabs({ tabs, current, label }: { tabs: Tab[]; current: string; label: string }) {
  return (
    <nav class="tabs" aria-label={label}>
      {tabs.map((tab) => (
        <Link key={tab.path} to={tab.path} current={tab.path === current}>
          {tab.label}
        </Link>
      ))}
    </nav>
  );
}
