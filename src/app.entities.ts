import { AuditLogEntry } from './audit/audit-log.entity';
import { Crontab } from './crontab/crontab.entity';
import { CrontabResult } from './crontab/crontab-result.entity';
import { JsResult } from './js-result/js-result.entity';
import { JsWorker } from './js-worker/js-worker.entity';
import { RetentionPolicy } from './retention/retention-policy.entity';
import { Token } from './token/token.entity';

/**
 * Every entity of the service, for DataSources built outside Nest: the
 * operator commands (src/cli.ts) and TypeORM's migration CLI (ormconfig.ts).
 * The server's DataSource does not read this list: there each module
 * registers its own entities (TypeOrmModule.forFeature) and the root loads
 * them (autoLoadEntities). It sits at the app's edge, beside app.module.ts,
 * because the database floor must not import the features.
 */
export const APP_ENTITIES = [JsResult, Token, JsWorker, AuditLogEntry, RetentionPolicy, Crontab, CrontabResult];
