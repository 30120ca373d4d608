import { plainToInstance } from 'class-transformer';
import { IsArray, IsBoolean, IsInt, IsOptional, IsString, Matches, Validate, type ValidatorConstraintInterface, ValidatorConstraint, validateSync } from 'class-validator';
import { type AppConfig, ConfigError, loadConfig } from './app.config';

/**
 * The options of `JsResultServiceModule.forRoot`: one per environment variable
 * the standalone server reads (named in each comment), plus what only an
 * embedding application chooses (paths, migrationsRun). Bounds and defaults are
 * the environment's: the options are checked by the same rules (app.config.ts).
 */
export interface JsResultServiceOptions {
  /** Paths of the host's HTTP server where JSON-RPC is answered, over POST and WebSocket (default `['/rpc']`). */
  paths?: string[];
  /** Whether pending migrations are applied at start (default true). */
  migrationsRun?: boolean;
  /** PostgreSQL server (DATABASE_URL); without it, the embedded database in `dataDir`. */
  databaseUrl?: string;
  /** Embedded database directory, or `memory://` (DATA_DIR, default ./data). */
  dataDir?: string;
  /** HOST and PORT: only what the OpenRPC document names as its servers when embedded. */
  host?: string;
  port?: number;
  superTokenFile?: string;
  poolSize?: number;
  statementTimeoutMs?: number;
  poolWaitMs?: number;
  tokenCacheTtlMs?: number;
  workerNamesCacheTtlMs?: number;
  logLevel?: string;
  jsWorkerPoolSize?: number;
  jsWorkerMaxQueue?: number;
  crontabMaxJobs?: number;
  workerLogLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  workerFetchAllow?: string[];
  inlineCallMaxDepth?: number;
  inlineCallMaxPerRun?: number;
  wsIdleTimeoutMs?: number;
  auditKeepDays?: number;
  jsResultMaxWaiters?: number;
  retentionSweepIntervalMs?: number;
  loginMaxConcurrentHashes?: number;
  loginMaxQueuedHashes?: number;
  loginMaxAccountsPerRequest?: number;
  loginFailuresPerAddress?: number;
  loginAddressBlockMs?: number;
  loginFailuresPerUsername?: number;
  loginUsernameBackoffMaxMs?: number;
  scryptCost?: number;
  maxResponseBytes?: number;
  maxCallResponseBytes?: number;
  largeReadMemoryBytes?: number;
  largeReadMaxConcurrent?: number;
  subscriptionMaxQueuedBytes?: number;
  httpHeadersTimeoutMs?: number;
  httpRequestTimeoutMs?: number;
  httpMaxConnections?: number;
  httpMaxRequestsPerSocket?: number;
  httpSendTimeoutMs?: number;
  shutdownDrainMs?: number;
  shutdownTimeoutMs?: number;
  corsOrigins?: string[];
  accessLog?: boolean;
  slowCallMs?: number;
  /** A hop count, or addresses and CIDR ranges (TRUST_PROXY). */
  trustProxy?: number | string[];
  metricsToken?: string;
  metricsPort?: number;
  /** Whether workers' HTTP routes are served (WORKER_ROUTES); the embedded module never mounts them. */
  workerRoutes?: boolean;
  workerRouteMaxBodyBytes?: number;
  workerRouteMaxConcurrent?: number;
  workerRouteMaxConcurrentPerRoute?: number;
}

/** Each option's environment variable: the option is checked and defaulted as that variable is. */
const VARIABLE_OF: Record<Exclude<keyof JsResultServiceOptions, 'paths' | 'migrationsRun'>, string> = {
  databaseUrl: 'DATABASE_URL',
  dataDir: 'DATA_DIR',
  host: 'HOST',
  port: 'PORT',
  superTokenFile: 'SUPER_TOKEN_FILE',
  poolSize: 'DB_POOL_SIZE',
  statementTimeoutMs: 'DB_STATEMENT_TIMEOUT_MS',
  poolWaitMs: 'DB_POOL_WAIT_MS',
  tokenCacheTtlMs: 'TOKEN_CACHE_TTL_MS',
  workerNamesCacheTtlMs: 'WORKER_NAMES_CACHE_TTL_MS',
  logLevel: 'LOG_LEVEL',
  jsWorkerPoolSize: 'JS_WORKER_POOL_SIZE',
  jsWorkerMaxQueue: 'JS_WORKER_MAX_QUEUE',
  crontabMaxJobs: 'CRONTAB_MAX_JOBS',
  workerLogLevel: 'WORKER_LOG_LEVEL',
  workerFetchAllow: 'WORKER_FETCH_ALLOW',
  inlineCallMaxDepth: 'INLINE_CALL_MAX_DEPTH',
  inlineCallMaxPerRun: 'INLINE_CALL_MAX_PER_RUN',
  wsIdleTimeoutMs: 'WS_IDLE_TIMEOUT_MS',
  auditKeepDays: 'AUDIT_KEEP_DAYS',
  jsResultMaxWaiters: 'JS_RESULT_MAX_WAITERS',
  retentionSweepIntervalMs: 'RETENTION_SWEEP_INTERVAL_MS',
  loginMaxConcurrentHashes: 'LOGIN_MAX_CONCURRENT_HASHES',
  loginMaxQueuedHashes: 'LOGIN_MAX_QUEUED_HASHES',
  loginMaxAccountsPerRequest: 'LOGIN_MAX_ACCOUNTS_PER_REQUEST',
  loginFailuresPerAddress: 'LOGIN_FAILURES_PER_ADDRESS',
  loginAddressBlockMs: 'LOGIN_ADDRESS_BLOCK_MS',
  loginFailuresPerUsername: 'LOGIN_FAILURES_PER_USERNAME',
  loginUsernameBackoffMaxMs: 'LOGIN_USERNAME_BACKOFF_MAX_MS',
  scryptCost: 'SCRYPT_COST',
  maxResponseBytes: 'MAX_RESPONSE_BYTES',
  maxCallResponseBytes: 'MAX_CALL_RESPONSE_BYTES',
  largeReadMemoryBytes: 'LARGE_READ_MEMORY_BYTES',
  largeReadMaxConcurrent: 'LARGE_READ_MAX_CONCURRENT',
  subscriptionMaxQueuedBytes: 'SUBSCRIPTION_MAX_QUEUED_BYTES',
  httpHeadersTimeoutMs: 'HTTP_HEADERS_TIMEOUT_MS',
  httpRequestTimeoutMs: 'HTTP_REQUEST_TIMEOUT_MS',
  httpMaxConnections: 'HTTP_MAX_CONNECTIONS',
  httpMaxRequestsPerSocket: 'HTTP_MAX_REQUESTS_PER_SOCKET',
  httpSendTimeoutMs: 'HTTP_SEND_TIMEOUT_MS',
  shutdownDrainMs: 'SHUTDOWN_DRAIN_MS',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  corsOrigins: 'CORS_ORIGINS',
  accessLog: 'ACCESS_LOG',
  slowCallMs: 'SLOW_CALL_MS',
  trustProxy: 'TRUST_PROXY',
  metricsToken: 'METRICS_TOKEN',
  metricsPort: 'METRICS_PORT',
  workerRoutes: 'WORKER_ROUTES',
  workerRouteMaxBodyBytes: 'WORKER_ROUTE_MAX_BODY_BYTES',
  workerRouteMaxConcurrent: 'WORKER_ROUTE_MAX_CONCURRENT',
  workerRouteMaxConcurrentPerRoute: 'WORKER_ROUTE_MAX_CONCURRENT_PER_ROUTE',
};

const INTEGER_OPTIONS = (Object.keys(VARIABLE_OF) as (keyof typeof VARIABLE_OF)[]).filter(
  (name) => !['databaseUrl', 'dataDir', 'host', 'superTokenFile', 'logLevel', 'workerLogLevel', 'workerFetchAllow', 'corsOrigins', 'accessLog', 'trustProxy', 'metricsToken', 'workerRoutes'].includes(name),
);

@ValidatorConstraint({ name: 'hopsOrAddresses' })
class HopsOrAddresses implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return Number.isInteger(value) || (Array.isArray(value) && value.every((item) => typeof item === 'string'));
  }

  defaultMessage(): string {
    return 'trustProxy must be a hop count (integer) or an array of addresses and CIDR ranges';
  }
}

/** The options' types; their bounds are the environment's (see configFromOptions). */
class ServiceOptionsShape {
  @IsOptional() @IsArray() @IsString({ each: true }) @Matches(/^\/\S*$/, { each: true, message: 'each of paths must be an absolute path like /rpc' }) paths?: string[];
  @IsOptional() @IsBoolean() migrationsRun?: boolean;
  @IsOptional() @IsString() databaseUrl?: string;
  @IsOptional() @IsString() dataDir?: string;
  @IsOptional() @IsString() host?: string;
  @IsOptional() @IsString() superTokenFile?: string;
  @IsOptional() @IsString() logLevel?: string;
  @IsOptional() @IsString() workerLogLevel?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) workerFetchAllow?: string[];
  @IsOptional() @IsArray() @IsString({ each: true }) corsOrigins?: string[];
  @IsOptional() @IsBoolean() accessLog?: boolean;
  @IsOptional() @Validate(HopsOrAddresses) trustProxy?: number | string[];
  @IsOptional() @IsString() metricsToken?: string;
  @IsOptional() @IsBoolean() workerRoutes?: boolean;
}
for (const name of INTEGER_OPTIONS) {
  IsOptional()(ServiceOptionsShape.prototype, name);
  IsInt()(ServiceOptionsShape.prototype, name);
}

const DEFAULT_PATHS = ['/rpc'];

/** What the module runs with: the service's configuration, and where it is mounted. */
export interface ResolvedServiceOptions {
  config: AppConfig;
  paths: readonly string[];
}

function variableText(name: keyof typeof VARIABLE_OF, value: unknown): string {
  if (name === 'accessLog') return value ? 'true' : 'false';
  if (name === 'workerRoutes') return value ? 'on' : 'off';
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** The environment's messages, with each variable's name turned back into its option's. */
function renamed(message: string): string {
  let text = message;
  for (const [option, variable] of Object.entries(VARIABLE_OF)) text = text.replace(new RegExp(`\\b${variable}\\b`, 'g'), option);
  return text.replace('invalid configuration:', 'invalid JsResultServiceModule options:');
}

function checkShapes(options: object): void {
  const errors = validateSync(plainToInstance(ServiceOptionsShape, options), { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length === 0) return;
  const messages = errors.flatMap((e) => Object.values(e.constraints ?? {}));
  throw new ConfigError(`invalid JsResultServiceModule options: ${messages.join('; ')}`);
}

/**
 * The options checked (unknown names and wrong types first, then the
 * environment's bounds) and turned into the service's configuration.
 * Throws a ConfigError naming each option at fault.
 */
export function configFromOptions(options: JsResultServiceOptions = {}): ResolvedServiceOptions {
  if (options === null || typeof options !== 'object') throw new ConfigError('invalid JsResultServiceModule options: an object is required');
  checkShapes(options);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options)) {
    const variable = VARIABLE_OF[name as keyof typeof VARIABLE_OF];
    if (variable !== undefined && value !== undefined) env[variable] = variableText(name as keyof typeof VARIABLE_OF, value);
  }
  let config: AppConfig;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(renamed(err.message));
    throw err;
  }
  return { config: { ...config, migrationsRun: options.migrationsRun ?? true }, paths: options.paths ?? DEFAULT_PATHS };
}
