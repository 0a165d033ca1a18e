import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import type { AdapterModule } from '../../application/flows/flows.module.js';
import { VitalsReport } from '../../application/vitals/vitals-report.js';
import type { Observed, VitalsSnapshot, WithUsage } from '../../domain/vitals/vitals-snapshot.js';
import { jobDurationMs, workloadHealth, type ResourceAmounts } from '../../domain/vitals/vitals.js';

type Json = Record<string, unknown>;

/**
 * GET /vitals: the vitals as they would be exported now (values read within
 * VITALS_CACHE_TIMEOUT), one entry per object with kind, namespace, name and
 * ageSeconds (since this agent last read it). Amounts are JSON numbers: exact up
 * to 2^53 (8 PiB); IPFIX carries them as unsigned64.
 */
@Controller('vitals')
export class VitalsController {
  constructor(private readonly report: VitalsReport) {}

  @Get()
  get(): Json {
    const { nowMs, vitals } = this.report.snapshot();
    return vitalsView(vitals, nowMs);
  }
}

export function vitalsView(vitals: VitalsSnapshot, nowMs: number): Json {
  const age = (readAtMs: number) => (nowMs - readAtMs) / 1000;
  const entry = <T>(observed: Observed<T>, kind: string, namespace: string, name: string, fields: Json): Json => ({
    kind,
    namespace,
    name,
    ageSeconds: age(observed.readAtMs),
    ...fields,
  });
  const usage = (withUsage: WithUsage<unknown>) =>
    withUsage.usage === undefined ? {} : { usage: { ...amounts(withUsage.usage.value), ageSeconds: age(withUsage.usage.readAtMs) } };
  const time = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    pods: vitals.pods.map((pod) => {
      const p = pod.object.value;
      return entry(pod.object, 'Pod', p.namespace, p.name, {
        node: p.node,
        phase: p.phase,
        ready: p.ready,
        restarts: p.restarts,
        requests: amounts(p.requests),
        limits: { cpuMillicores: optionalNumber(p.cpuLimitMillicores), memoryBytes: optionalNumber(p.memoryLimitBytes) },
        ...usage(pod),
      });
    }),
    nodes: vitals.nodes.map((node) => {
      const n = node.object.value;
      return entry(node.object, 'Node', '', n.name, { capacity: amounts(n.capacity), allocatable: amounts(n.allocatable), conditions: n.conditions, ...usage(node) });
    }),
    workloads: vitals.workloads.map((workload) => {
      const { kind, namespace, name, ...replicas } = workload.value;
      return entry(workload, kind, namespace, name, { replicas, health: workloadHealth(workload.value) });
    }),
    jobs: [
      ...vitals.jobs.map((job) => {
        const j = job.value;
        const duration = jobDurationMs(j);
        return entry(job, 'Job', j.namespace, j.name, {
          active: j.active,
          succeeded: j.succeeded,
          failed: j.failed,
          startTime: time(j.startMs),
          completionTime: time(j.completionMs),
          durationSeconds: duration === undefined ? undefined : duration / 1000,
        });
      }),
      ...vitals.cronJobs.map((cronJob) => {
        const c = cronJob.value;
        return entry(cronJob, 'CronJob', c.namespace, c.name, {
          schedule: c.schedule,
          suspended: c.suspended,
          lastScheduleTime: time(c.lastScheduleMs),
          lastSuccessfulTime: time(c.lastSuccessfulMs),
          activeJobs: c.activeJobs,
        });
      }),
    ],
    hpas: vitals.hpas.map((hpa) => {
      const h = hpa.value;
      return entry(hpa, 'HorizontalPodAutoscaler', h.namespace, h.name, {
        scaleTarget: { kind: h.targetKind, name: h.targetName },
        minReplicas: h.minReplicas,
        maxReplicas: h.maxReplicas,
        currentReplicas: h.currentReplicas,
        desiredReplicas: h.desiredReplicas,
        metrics: h.metrics.map((metric) => ({ ...metric, target: Number(metric.target), current: optionalNumber(metric.current) })),
      });
    }),
  };
}

function amounts(value: ResourceAmounts): Json {
  return { cpuMillicores: Number(value.cpuMillicores), memoryBytes: Number(value.memoryBytes) };
}

function optionalNumber(value: bigint | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

/** GET /vitals on HEALTH_PORT, reading the VitalsReport of the given vitals module. */
@Module({})
export class VitalsHttpModule {
  static register(vitals: AdapterModule): DynamicModule {
    return { module: VitalsHttpModule, imports: [vitals], controllers: [VitalsController] };
  }
}
