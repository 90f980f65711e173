/** Listings of the PostgreSQL store: a WHERE clause built up with numbered parameters. */

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
  get sql(): string {
    return this.#parts.join(' AND ');
  }
  /** The placeholder of the next parameter (for LIMIT). */
  next(): string {
    return `$${this.params.length + 1}`;
  }
}
