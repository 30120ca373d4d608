import { Column, Entity, Generated, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../common/bigint.transformer';

/**
 * A scheduled job, stored as NodeGet stores it (CRONTAB.md), plus
 * `schedule_from`: where its schedule starts when later than its last firing
 * (see the CreateCrontab migration). Made by migrations only.
 */
@Entity({ name: 'crontab' })
@Index('idx-crontab-name', { synchronize: false })
export class Crontab {
  @PrimaryColumn({ name: 'id', type: 'bigint', transformer: bigintAsNumber })
  @Generated('increment')
  id: number;

  @Column({ name: 'name', type: 'varchar' })
  name: string;

  @Column({ name: 'enable', type: 'boolean' })
  enable: boolean;

  @Column({ name: 'cron_expression', type: 'varchar' })
  cronExpression: string;

  @Column({ name: 'cron_type', type: 'jsonb' })
  cronType: unknown;

  @Column({ name: 'last_run_time', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastRunTime: number | null;

  @Column({ name: 'schedule_from', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  scheduleFrom: number | null;
}
