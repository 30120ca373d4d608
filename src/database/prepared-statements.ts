import { Client } from 'pg';
import { isQueryReadTimeout } from './database.errors';
import { PG_JSON_AS_TEXT_TYPES, readsJsonAsText } from './json-as-text';

/**
 * Names for the statements a service runs over and over, so each pooled
 * connection parses them once: for short reads, parsing and analysing were a
 * large share of the database's time per call (bench/README.md).
 *
 * Builders register the texts they make; the pool's client (namingClient)
 * sends a registered text under its name. Every name keeps a server-side
 * statement on every connection that ran it, so only the first `capacity`
 * texts get one and later ones run unnamed: texts come from a finite set of
 * builders, but the number and order of conditions make it large, and a
 * client must not grow it.
 *
 * One registry per DataSource (names are per connection, and tests open
 * several databases in one process). Plans stay custom (the pool sets
 * plan_cache_mode=force_custom_plan), so a named statement is planned for its
 * actual values exactly as an unnamed one.
 */
export class PreparedStatements {
  private readonly names = new Map<string, string>();

  constructor(
    private readonly prefix = 'jsr_',
    private readonly capacity = 200,
  ) {}

  /** Gives `text` a name while there is room; its name, or undefined when it runs unnamed. */
  register(text: string): string | undefined {
    let name = this.names.get(text);
    if (name === undefined && this.names.size < this.capacity) {
      name = `${this.prefix}${this.names.size}`;
      this.names.set(text, name);
    }
    return name;
  }

  nameOf(text: string): string | undefined {
    return this.names.get(text);
  }

  get size(): number {
    return this.names.size;
  }
}

/**
 * A `pg` Client class for a pool's `Client` option: a query whose text is
 * registered goes out as a named statement, parsed once per connection.
 * Everything else (TypeORM's own queries, migrations, unregistered texts)
 * passes through untouched.
 *
 * A statement whose answer never comes (the server went silent, not away)
 * fails with pg's read timeout but stays on the connection, and the pool
 * would lend that connection again: so the client ends itself then, and the
 * pool drops it.
 */
export function namingClient(statements: PreparedStatements): typeof Client {
  return class NamingClient extends Client {
    // pg's overloads: (text, values?, callback?), (config, values?, callback?), (submittable).
    override query(...args: any[]): any {
      const [text, values, callback] = args;
      if (typeof text === 'string') {
        const valuesAreCallback = typeof values === 'function';
        const config = queryConfig(text, statements.nameOf(text), valuesAreCallback ? undefined : values);
        if (config !== undefined) args = valuesAreCallback ? [config, values] : [config, callback];
      }
      const result = (super.query as (...forwarded: unknown[]) => unknown)(...this.endingOnReadTimeout(args));
      return result instanceof Promise ? result.catch((err: unknown) => this.failed(err)) : result;
    }

    private endingOnReadTimeout(args: unknown[]): unknown[] {
      const at = args.findIndex((arg) => typeof arg === 'function');
      if (at < 0) return args;
      const callback = args[at] as (err: unknown, result?: unknown) => void;
      const wrapped = [...args];
      wrapped[at] = (err: unknown, result?: unknown) => {
        if (isQueryReadTimeout(err)) this.abandon();
        callback(err, result);
      };
      return wrapped;
    }

    private failed(err: unknown): never {
      if (isQueryReadTimeout(err)) this.abandon();
      throw err;
    }

    private abandon(): void {
      this.end().catch(() => undefined);
    }
  };
}

interface QueryConfig {
  text: string;
  values?: unknown;
  name?: string;
  types?: typeof PG_JSON_AS_TEXT_TYPES;
}

/** How a text goes out: under its name if it has one, with JSON read as text if it asks (see JSON_AS_TEXT); undefined when as it is. */
function queryConfig(text: string, name: string | undefined, values: unknown): QueryConfig | undefined {
  const jsonAsText = readsJsonAsText(text);
  if (name === undefined && !jsonAsText) return undefined;
  const config: QueryConfig = { text, values };
  if (name !== undefined) config.name = name;
  if (jsonAsText) config.types = PG_JSON_AS_TEXT_TYPES;
  return config;
}

/**
 * Startup options for PostgreSQL connections: plans are made for the values of
 * each call even for named statements, so naming a statement never changes
 * which plan it gets (a generic plan would not see a LIMIT or a time range).
 */
export const CUSTOM_PLANS_OPTION = '-c plan_cache_mode=force_custom_plan';
