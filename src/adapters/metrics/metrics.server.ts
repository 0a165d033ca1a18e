import { createServer, type Server } from 'node:http';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { register } from 'prom-client';
import { AgentConfig } from '../../application/config/agent-config.js';

/**
 * Serves Prometheus' /metrics on its own port (METRICS_PORT), apart from the
 * probes on HEALTH_PORT, so scraping and probing can be exposed differently.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server: Server | undefined;

  constructor(private readonly config: AgentConfig) {}

  /** The bound port (differs from METRICS_PORT only when that is 0, in tests). */
  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address.port : this.config.http.metricsPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      register.metrics().then(
        (body) => response.writeHead(200, { 'Content-Type': register.contentType }).end(body),
        (error: unknown) => {
          this.logger.error({ err: error }, 'Collecting metrics failed');
          response.writeHead(500).end();
        },
      );
    });
    const { metricsPort, bindAddress } = this.config.http;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(metricsPort, bindAddress, () => resolve());
    });
    this.server = server;
    this.logger.log({ port: metricsPort, address: bindAddress }, 'Serving Prometheus metrics on /metrics');
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
