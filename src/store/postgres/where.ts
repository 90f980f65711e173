/** Listings of the PostgreSQL store: a WHERE clause built up with numbered parameters. */
import { idLowerBound, idUpperBound } from '../../domain/ids.ts';

/** A WHERE clause that always starts with the project filter, with numbered parameters. */
export class Where {
  readonly params: unknown[];
  readonly #parts: string[] = ['project_id = $1'];
  constructor(projectId: string) {
    this.params = [projectId];
  }
  /** Adds `column op $n`, e.g. add('id <', cursor). */
  add(columnAndOp: string, value: unknown): void {
    this.params.push(value);
    this.#parts.push(`${columnAndOp} $${this.params.length}`);
  }
  /**
   * `column` in [since, until]; both also bound the id, so the (…, id) indexes are walked over that
   * range only (an id's time is never earlier than the time it was made for, nor more than
   * ID_TIME_SLACK_MS later: idLowerBound, idUpperBound).
   */
  timeRange(column: string, idPrefix: string, since?: number, until?: number): void {
    if (since !== undefined) {
      this.add(`${column} >=`, since);
      this.add('id >=', idLowerBound(idPrefix, since));
    }
    if (until !== undefined) {
      this.add(`${column} <=`, until);
      this.add('id <', idUpperBound(idPrefix, until));
    }
  }
  get sql(): string {
    return this.#parts.join(' AND ');
  }
  /** The placeholder of the next parameter (for LIMIT). */
  next(): string {
    return `$${this.params.length + 1}`;
  }
}
