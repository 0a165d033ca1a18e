import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { StatusService } from '../../application/status/status.service.js';
import { ComponentHealthIndicator } from './component.health.js';

/**
 * Kubernetes probes. Liveness only asks whether the process and its loops run;
 * readiness asks every component (capture, Kubernetes cache, collectors, pipeline).
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly status: StatusService,
    private readonly indicator: ComponentHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  overall(): Promise<HealthCheckResult> {
    return this.ready();
  }

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([() => this.indicator.report('loop', this.status.liveness())]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    const verdicts = this.status.verdicts();
    return this.health.check(
      Object.entries(verdicts).map(([component, verdict]) => () => this.indicator.report(component, verdict)),
    );
  }
}
