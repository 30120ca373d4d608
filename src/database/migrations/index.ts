import { CreateJsResult1795733547000 } from './1795733547000-CreateJsResult';
import { CreateToken1795733547001 } from './1795733547001-CreateToken';
import { CreateJsWorker1795734991983 } from './1795734991983-CreateJsWorker';
import { CreateAuditLog1796208492347 } from './1796208492347-CreateAuditLog';
import { NotifyTokenChanges1796208492348 } from './1796208492348-NotifyTokenChanges';
import { CreateRetentionPolicy1796210000000 } from './1796210000000-CreateRetentionPolicy';
import { NotifyResultFinished1796210000001 } from './1796210000001-NotifyResultFinished';
import { CreateServerSecret1796210000002 } from './1796210000002-CreateServerSecret';
import { AddServerUuid1796215000000 } from './1796215000000-AddServerUuid';
import { AddJsWorkerRoute1796215000001 } from './1796215000001-AddJsWorkerRoute';
import { CreateLoginThrottle1796220000000 } from './1796220000000-CreateLoginThrottle';
import { AddJsResultTextBytes1796413730095 } from './1796413730095-AddJsResultTextBytes';
import { CreateCrontab1796500000000 } from './1796500000000-CreateCrontab';

/** In order of application; listed explicitly so compiled and test runs see the same set. */
export const migrations = [
  CreateJsResult1795733547000,
  CreateToken1795733547001,
  CreateJsWorker1795734991983,
  CreateAuditLog1796208492347,
  NotifyTokenChanges1796208492348,
  CreateRetentionPolicy1796210000000,
  NotifyResultFinished1796210000001,
  CreateServerSecret1796210000002,
  AddServerUuid1796215000000,
  AddJsWorkerRoute1796215000001,
  CreateLoginThrottle1796220000000,
  AddJsResultTextBytes1796413730095,
  CreateCrontab1796500000000,
];
