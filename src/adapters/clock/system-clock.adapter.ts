import { Injectable, Module } from '@nestjs/common';
import { ClockPort } from '../../application/ports/clock.port.js';

@Injectable()
export class SystemClock extends ClockPort {
  nowMs(): number {
    return Date.now();
  }
}

@Module({ providers: [{ provide: ClockPort, useClass: SystemClock }], exports: [ClockPort] })
export class SystemClockModule {}
