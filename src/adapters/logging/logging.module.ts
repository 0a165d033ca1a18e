import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';

/** nestjs-pino over the process's root logger; probe requests are not logged (they come every few seconds). */
@Module({})
export class LoggingModule {
  static forRoot(rootLogger: Logger): DynamicModule {
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { logger: rootLogger, autoLogging: false, quietReqLogger: true } })],
      exports: [LoggerModule],
    };
  }
}
