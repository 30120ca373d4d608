import { CreateJsResult1795733547000 } from './1795733547000-CreateJsResult';
import { CreateToken1795733547001 } from './1795733547001-CreateToken';
import { CreateJsWorker1795734991983 } from './1795734991983-CreateJsWorker';

/** In order of application; listed explicitly so compiled and test runs see the same set. */
export const migrations = [CreateJsResult1795733547000, CreateToken1795733547001, CreateJsWorker1795734991983];
