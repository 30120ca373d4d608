import { Inject, Injectable } from '@nestjs/common';
import type { AuditAction } from '../database/audited-change';
import { APP_CONFIG, type AppConfig, DEFAULT_CRONTAB_MAX_JOBS } from '../config/app.config';
import { isUniqueViolation } from '../database/database.errors';
import { stringifyJson } from '../json-rpc/json-rpc.codec';
import type { Auth } from '../token/auth';
import { CronSchedule } from './cron-schedule';
import { mayCrontab, requireCrontab, requireRunWorker } from './crontab.access';
import type { CronTypeParam, CrontabWriteParams } from './crontab.params';
import { crontabsJsonText } from './crontab.record';
import { JsonText } from '../common/json-text';
import { CrontabRepository } from './crontab.repository';
import { AGENT_REFUSED, checkCrontabName, checkWorkerName, crontabNotFound, notAcceptable } from './crontab.rules';
import { CrontabScheduler } from './crontab.scheduler';

/** The stored form of a server job's kind, as NodeGet serialises it. */
const storedCronType = (workerName: string, params: unknown) => stringifyJson({ server: { js_worker: [workerName, params] } });

/** The worker a stored kind runs, if it is a server job (an imported agent job has none). */
function storedWorker(cronType: unknown): string | undefined {
  const args = (cronType as { server?: { js_worker?: unknown } } | null)?.server?.js_worker;
  return Array.isArray(args) && typeof args[0] === 'string' ? args[0] : undefined;
}

/**
 * The `crontab_*` methods. Checks come in NodeGet's order: the name's form,
 * then (for an existing job) whether it exists, then permissions, then the
 * expression, so that nothing is parsed for a caller who may not write.
 * Every change is announced to the scheduler here and, on PostgreSQL, to the
 * other instances by the table's trigger.
 */
@Injectable()
export class CrontabService {
  private readonly maxJobs: number;

  constructor(
    private readonly repository: CrontabRepository,
    private readonly scheduler: CrontabScheduler,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'crontabMaxJobs'>,
  ) {
    this.maxJobs = config.crontabMaxJobs ?? DEFAULT_CRONTAB_MAX_JOBS;
  }

  async create(input: CrontabWriteParams, auth: Auth, action: AuditAction): Promise<{ id: number }> {
    checkCrontabName(input.name);
    const workerName = serverWorker(input.cronType);
    requireCrontab(auth, 'write');
    requireRunWorker(auth, workerName);
    CronSchedule.parse(input.cronExpression);
    let id: number | undefined;
    try {
      id = await this.repository.insert(input.name, input.cronExpression, this.cronTypeJson(input.cronType), Date.now(), this.maxJobs, action);
    } catch (error) {
      if (isUniqueViolation(error)) throw notAcceptable(`Crontab name already exists: ${input.name}`);
      throw error;
    }
    if (id === undefined) throw notAcceptable(`at most ${this.maxJobs} crontabs may be stored (CRONTAB_MAX_JOBS)`);
    await this.scheduler.changed(id);
    return { id };
  }

  async edit(input: CrontabWriteParams, auth: Auth, action: AuditAction): Promise<{ id: number; success: true }> {
    checkCrontabName(input.name);
    const workerName = serverWorker(input.cronType);
    const existing = await this.repository.find(input.name);
    if (existing === undefined) throw crontabNotFound(input.name);
    requireCrontab(auth, 'write');
    const before = storedWorker(existing.cron_type);
    if (before !== undefined) requireRunWorker(auth, before);
    requireRunWorker(auth, workerName);
    CronSchedule.parse(input.cronExpression);
    const id = await this.repository.update(input.name, input.cronExpression, this.cronTypeJson(input.cronType), Date.now(), action);
    if (id === undefined) throw crontabNotFound(input.name);
    await this.scheduler.changed(id);
    return { id, success: true };
  }

  /** The jobs, for a caller with `crontab: read` under global; otherwise none. */
  async get(auth: Auth): Promise<JsonText> {
    if (!mayCrontab(auth, 'read')) return new JsonText('[]');
    return new JsonText(crontabsJsonText(await this.repository.list()));
  }

  /** Deletes the job; its firing records stay. */
  async delete(name: string, auth: Auth, action: AuditAction): Promise<{ success: true }> {
    checkCrontabName(name);
    const existing = await this.repository.find(name);
    if (existing === undefined) throw crontabNotFound(name);
    requireCrontab(auth, 'delete');
    if (!(await this.repository.delete(name, action))) throw crontabNotFound(name);
    await this.scheduler.changed(Number(existing.id));
    return { success: true };
  }

  async setEnable(name: string, enable: boolean, auth: Auth, action: AuditAction): Promise<{ success: true; enabled: boolean }> {
    checkCrontabName(name);
    const existing = await this.repository.find(name);
    if (existing === undefined) throw crontabNotFound(name);
    requireCrontab(auth, 'write');
    const worker = storedWorker(existing.cron_type);
    if (worker !== undefined) requireRunWorker(auth, worker);
    const changed = await this.repository.setEnable(name, enable, Date.now(), action);
    if (changed === undefined) throw crontabNotFound(name);
    await this.scheduler.changed(changed.id);
    return { success: true, enabled: changed.enable };
  }

  private cronTypeJson(cronType: CronTypeParam): string {
    if (cronType.kind !== 'server') throw notAcceptable(AGENT_REFUSED);
    return storedCronType(cronType.workerName, cronType.params);
  }
}

/** The worker a new kind runs; agent jobs and empty worker names are refused (108) before anything else is looked at. */
function serverWorker(cronType: CronTypeParam): string {
  if (cronType.kind !== 'server') throw notAcceptable(AGENT_REFUSED);
  checkWorkerName(cronType.workerName);
  return cronType.workerName;
}
