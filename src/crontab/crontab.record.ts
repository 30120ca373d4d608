/** A job as the methods answer it (CRONTAB.md). */
export interface CrontabRecord {
  id: number;
  name: string;
  enable: boolean;
  cron_expression: string;
  cron_type: unknown;
  last_run_time: number | null;
}

/** A firing record as the methods answer it. */
export interface CrontabResultRecord {
  id: number;
  cron_id: number;
  cron_name: string;
  run_time: number | null;
  relative_id: number | null;
  success: boolean | null;
  message: string | null;
}

const int = (value: unknown) => (value === null || value === undefined ? null : Number(value));

export function toCrontabRecord(row: Record<string, unknown>): CrontabRecord {
  return {
    id: Number(row.id),
    name: row.name as string,
    enable: row.enable as boolean,
    cron_expression: row.cron_expression as string,
    cron_type: row.cron_type,
    last_run_time: int(row.last_run_time),
  };
}

export function toCrontabResultRecord(row: Record<string, unknown>): CrontabResultRecord {
  return {
    id: Number(row.id),
    cron_id: Number(row.cron_id),
    cron_name: row.cron_name as string,
    run_time: int(row.run_time),
    relative_id: int(row.relative_id),
    success: (row.success as boolean | null) ?? null,
    message: (row.message as string | null) ?? null,
  };
}

/** The jobs as the reply's JSON text: `cron_type` is written as the database gave its text, not parsed and serialised again. */
export function crontabsJsonText(rows: readonly Record<string, unknown>[]): string {
  const items = rows.map((row) => {
    const { id, name, enable, cron_expression, last_run_time } = toCrontabRecord({ ...row, cron_type: null });
    return `{"id":${id},"name":${JSON.stringify(name)},"enable":${enable},"cron_expression":${JSON.stringify(cron_expression)},"cron_type":${row.cron_type as string},"last_run_time":${JSON.stringify(last_run_time)}}`;
  });
  return `[${items.join(',')}]`;
}
