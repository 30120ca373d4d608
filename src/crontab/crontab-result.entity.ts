import { Column, Entity, Generated, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../common/bigint.transformer';

/** One firing of a job, as NodeGet stores it; `relative_id` is the js_result row of its run. */
@Entity({ name: 'crontab_result' })
@Index('idx-crontab_result-relative_id', { synchronize: false })
@Index('idx_crontab_result_run_time', { synchronize: false })
@Index('idx_crontab_result_cron_name_run_time', { synchronize: false })
export class CrontabResult {
  @PrimaryColumn({ name: 'id', type: 'bigint', transformer: bigintAsNumber })
  @Generated('increment')
  id: number;

  @Column({ name: 'cron_id', type: 'bigint', transformer: bigintAsNumber })
  cronId: number;

  @Column({ name: 'cron_name', type: 'varchar' })
  cronName: string;

  @Column({ name: 'relative_id', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  relativeId: number | null;

  @Column({ name: 'run_time', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  runTime: number | null;

  @Column({ name: 'success', type: 'boolean', nullable: true })
  success: boolean | null;

  @Column({ name: 'message', type: 'varchar', nullable: true })
  message: string | null;
}
