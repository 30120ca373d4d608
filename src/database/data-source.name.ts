/**
 * The name the service's TypeORM DataSource is registered under. Every
 * injection of it (`@InjectDataSource(JSR_DATA_SOURCE)`,
 * `TypeOrmModule.forFeature([...], JSR_DATA_SOURCE)`) uses this, so that a
 * host application's own default DataSource can sit beside it.
 */
export const JSR_DATA_SOURCE = 'jsResultService';
