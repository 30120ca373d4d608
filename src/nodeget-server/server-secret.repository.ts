import { Injectable } from '@nestjs/common';
import { Database } from '../database/database';

/**
 * The `server_secret` table: values every instance on the database shares
 * (the server's UUID, the key that signs page cursors). Its rows are written
 * by migrations and only read here, by name.
 */
@Injectable()
export class ServerSecretRepository {
  private readonly byName: string;

  constructor(private readonly db: Database) {
    // The table has no entity, so the builder names it.
    const [text] = db.dataSource.createQueryBuilder().select('s.value', 'value').from('server_secret', 's').where('s.name = :name', { name: '' }).getQueryAndParameters();
    this.byName = text;
  }

  /** The secret's value, or undefined when no migration made it. */
  async read(name: string): Promise<string | undefined> {
    const row = await this.db.first<{ value: string }>({ text: this.byName, values: [name] });
    return row?.value;
  }
}
