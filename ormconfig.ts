import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/app.config';
import { dataSourceOptions } from './src/database/data-source.factory';

/**
 * The DataSource for the TypeORM CLI (`npm run migration:show`, `migration:revert`, …),
 * built from the same environment as the server: DATABASE_URL, or the embedded
 * database in DATA_DIR. Migrations are plain SQL, so it is told of no entities.
 */
export default new DataSource(dataSourceOptions(loadConfig(), undefined, []));
