import { Controller, Get } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** A route of the host's own, on the host's own default DataSource. */
@Controller('host')
export class HostController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get('hello')
  async hello(): Promise<{ hello: string; answer: number }> {
    const [row] = await this.db.query('SELECT 40 + 2 AS answer');
    return { hello: 'host', answer: Number(row.answer) };
  }
}
