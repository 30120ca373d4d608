import { CreateJsResult1795733547000 } from './1795733547000-CreateJsResult';
import { CreateToken1795733547001 } from './1795733547001-CreateToken';

/** In order of application; listed explicitly so compiled and test runs see the same set. */
export const migrations = [CreateJsResult1795733547000, CreateToken1795733547001];
