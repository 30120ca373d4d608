/** A statement as `pg` takes it; with a name it is parsed once per connection and reused. */
export interface NamedStatement {
  name?: string;
  text: string;
  values: unknown[];
}

/**
 * Names for the statements a service runs over and over, so each pooled
 * connection parses them once. Parsing and analysing took about half of the
 * database's time per call in the benchmark's S1 and S3 (bench/README.md).
 *
 * Every distinct text keeps a server-side statement on every connection that
 * ran it, so only the first `capacity` texts get a name; later ones run
 * unnamed, as before. Texts come from a finite set of builders, but the number
 * and order of conditions make it large, and a client must not grow it.
 *
 * Plans stay custom (the pool sets plan_cache_mode=force_custom_plan), so a
 * named statement is planned for its actual values exactly as before.
 */
export class PreparedStatements {
  private readonly names = new Map<string, string>();

  constructor(
    private readonly prefix: string,
    private readonly capacity = 200,
  ) {}

  name({ text, values }: { text: string; values: unknown[] }): NamedStatement {
    let name = this.names.get(text);
    if (name === undefined && this.names.size < this.capacity) {
      name = `${this.prefix}${this.names.size}`;
      this.names.set(text, name);
    }
    return name === undefined ? { text, values } : { name, text, values };
  }
}

/**
 * Startup options for PostgreSQL connections: plans are made for the values of
 * each call even for named statements, so naming a statement never changes
 * which plan it gets (a generic plan would not see a LIMIT or a time range).
 */
export const CUSTOM_PLANS_OPTION = '-c plan_cache_mode=force_custom_plan';
