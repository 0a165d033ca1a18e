import { Controller, Get } from '@nestjs/common';
import { StatusService } from '../../application/status/status.service.js';

/** Component statistics for operators: collectors, source, table, metadata. */
@Controller('status')
export class StatusController {
  constructor(private readonly status: StatusService) {}

  @Get()
  get(): Record<string, unknown> {
    return this.status.status();
  }
}
