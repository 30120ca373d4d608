import { Injectable } from '@nestjs/common';
import type { AuditAction } from '../database/audited-change';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import type { ParsedConditions } from '../js-result/conditions/condition.parser';
import { DEFAULT_QUERY_CAP } from '../js-result/conditions/condition.types';
import type { DeleteOutcome } from '../js-result/js-result.record';
import type { Auth } from '../token/auth';
import type { JsResultAction } from '../token/token-limit';
import { type JobNameAccess, jobNameAccess, mayJobName } from './crontab.access';
import type { CrontabResultFilter } from './crontab-result.conditions';
import type { CrontabResultRecord } from './crontab.record';
import { CrontabResultRepository } from './crontab-result.repository';

type Selection = ParsedConditions<CrontabResultFilter>;

/**
 * The `crontab-result_*` methods: the js-result rules (caps, newest first,
 * a delete without a cap deleting every match) over the firing records the
 * caller may see by job name.
 */
@Injectable()
export class CrontabResultService {
  constructor(private readonly repository: CrontabResultRepository) {}

  async query(selection: Selection, auth: Auth): Promise<CrontabResultRecord[]> {
    const access = authorise(selection, auth, 'read');
    if (grantsNothing(access)) return [];
    return this.repository.query(selection.filters, access, selection.limit ?? DEFAULT_QUERY_CAP);
  }

  async delete(selection: Selection, auth: Auth, action: AuditAction): Promise<DeleteOutcome> {
    const access = authorise(selection, auth, 'delete');
    const deleted = grantsNothing(access) ? 0 : await this.repository.delete(selection.filters, access, selection.limit, action);
    return { success: true, deleted, condition_count: selection.conditionCount };
  }
}

/** A job name the conditions require must be one the caller may see (102); otherwise the read is narrowed to those it may. */
function authorise(selection: Selection, auth: Auth, action: JsResultAction): JobNameAccess {
  const access = jobNameAccess(auth, action);
  for (const filter of selection.filters) {
    if (filter.kind === 'cron_name' && !mayJobName(access, filter.value)) {
      throw new DomainError(DomainErrorCode.PermissionDenied, `No ${action} permission for crontab_result with cron_name '${filter.value}'`);
    }
  }
  return access;
}

const grantsNothing = (access: JobNameAccess) => access.kind === 'patterns' && access.names.length === 0 && access.prefixes.length === 0;
