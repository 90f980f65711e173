/** Unknown dashboard path. */
import { Link } from '../components/link.tsx';
import { usePageTitle } from '../page-title.ts';

export function NotFound({ home = '/' }: { home?: string }) {
  usePageTitle(['Not found']);
  return (
    <section class="page">
      <h1>Not found</h1>
      <p>
        This page does not exist, or you cannot see it. <Link to={home}>Back to the start</Link>
      </p>
    </section>
  );
}
