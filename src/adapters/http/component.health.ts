import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { ComponentHealth } from '../../application/ports/component-health.js';

/** Turns a component's own verdict into a Terminus result; the numbers travel along for operators. */
@Injectable()
export class ComponentHealthIndicator {
  constructor(private readonly indicators: HealthIndicatorService) {}

  report(key: string, health: ComponentHealth): HealthIndicatorResult {
    const indicator = this.indicators.check(key);
    const details = health.reason ? { reason: health.reason, ...health.details } : { ...health.details };
    return health.ready ? indicator.up(details) : indicator.down(details);
  }
}
