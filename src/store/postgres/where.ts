/** Listings of the PostgreSQL store: a WHERE clause built up with numbered parameters. */
import { idLowerBound, idUpperBound } from '../../domain/ids.ts';

/** A WHERE clause that always starts with the project filter, with numbered parameters. */
export class Where {
  /** Each `column op` with its value; `time` marks a time range's own column (timeRange). */
  readonly #conditions: { columnAndOp: string; value: unknown; time: boolean }[] = [];
  constructor(projectId: string) {
    this.add('project_id =', projectId);
  }
  /** Adds `column op $n`, e.g. add('id <', cursor). */
  add(columnAndOp: string, value: unknown): void {
    this.#conditions.push({ columnAndOp, value, time: false });
  }
  /**
   * `column` in [since, until]; both also bound the id, so the (…, id) indexes are walked over that
   * range only (an id's time is never earlier than the time it was made for, nor more than
   * ID_TIME_SLACK_MS later: idLowerBound, idUpperBound).
   */
  timeRange(column: string, idPrefix: string, since?: number, until?: number): void {
    if (since !== undefined) {
      this.#conditions.push({ columnAndOp: `${column} >=`, value: since, time: true });
      this.add('id >=', idLowerBound(idPrefix, since));
    }
    if (until !== undefined) {
      this.#conditions.push({ columnAndOp: `${column} <=`, value: until, time: true });
      this.add('id <', idUpperBound(idPrefix, until));
    }
  }
  /**
   * The same clause without the time range's own column: its id bounds select the same rows, and
   * at most those made within ID_TIME_SLACK_MS of its ends besides. For a walk of the newest ids
   * (history-reads.ts, boundScan), where the column and the bounds together made the planner take
   * the range for a fraction of its size and read and sort all of it.
   */
  idRange(): Where {
    const copy = new Where('');
    copy.#conditions.splice(0, 1, ...this.#conditions.filter((c) => !c.time));
    return copy;
  }
  get params(): unknown[] {
    return this.#conditions.map((c) => c.value);
  }
  get sql(): string {
    return this.#conditions.map((c, i) => `${c.columnAndOp} $${i + 1}`).join(' AND ');
  }
  /** The placeholder of the next parameter (for LIMIT). */
  next(): string {
    return `$${this.#conditions.length + 1}`;
  }
}
