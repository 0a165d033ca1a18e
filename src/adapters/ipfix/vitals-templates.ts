import type { ResourceAmounts } from '../../domain/vitals/vitals.js';
import {
  jobDurationMs,
  workloadHealth,
  type CronJobVitals,
  type HpaMetricVitals,
  type HpaVitals,
  type JobVitals,
  type NodeVitals,
  type PodVitals,
  type WorkloadVitals,
} from '../../domain/vitals/vitals.js';
import type { FieldValue } from './field-value.codec.js';
import type { InformationElementRegistry } from './information-elements.js';
import { defineTemplate, type RecordTemplate } from './ipfix-message.encoder.js';

/**
 * The vitals templates (observation domain N+2). One template per kind and
 * variant: a variant leaves out each optional group whose value is unknown
 * (usage without a metrics server, a limit not set on every container, a job
 * not yet completed...), so an unknown value is never sent as 0.
 */

/** One vitals record: what it describes, when its values were read, who exports it. */
export interface VitalsRow<T> {
  readonly value: T;
  /** observationTimeMilliseconds: when the oldest value of the record was read. */
  readonly observedAtMs: number;
  readonly observerNodeName: string;
}

export interface WithUsageValue<T> {
  readonly object: T;
  readonly usage: ResourceAmounts | undefined;
}

export interface HpaMetricValue {
  readonly hpa: HpaVitals;
  readonly metric: HpaMetricVitals;
}

interface Field<T> {
  readonly element: string;
  readonly read: (value: T) => FieldValue;
}

interface OptionalGroup<T> {
  readonly present: (value: T) => boolean;
  readonly fields: ReadonlyArray<Field<T>>;
}

/**
 * A kind's templates: the always-present fields, then each optional group in a
 * fixed order. Variant index = bit i set when group i is present; template id =
 * first id + index, so ids stay stable as long as groups are only appended.
 */
export class VitalsTemplateFamily<T> {
  private readonly variants: RecordTemplate<VitalsRow<T>>[] = [];

  constructor(
    registry: InformationElementRegistry,
    readonly firstTemplateId: number,
    fields: ReadonlyArray<Field<T>>,
    private readonly groups: ReadonlyArray<OptionalGroup<T>> = [],
  ) {
    for (let index = 0; index < 2 ** groups.length; index++) {
      const present = groups.filter((_, group) => (index & (1 << group)) !== 0).flatMap((group) => group.fields);
      const declarations = [...COMMON_FIELDS, ...[...fields, ...present].map(onValue<T>)].map(({ element, read }) => ({ element: registry.byName(element), read }));
      this.variants.push(defineTemplate<VitalsRow<T>>(firstTemplateId + index, declarations));
    }
  }

  templateFor(value: T): RecordTemplate<VitalsRow<T>> {
    let index = 0;
    this.groups.forEach((group, bit) => {
      if (group.present(value)) index |= 1 << bit;
    });
    return this.variants[index];
  }

  all(): readonly RecordTemplate<VitalsRow<T>>[] {
    return this.variants;
  }
}

const COMMON_FIELDS: ReadonlyArray<Field<VitalsRow<unknown>>> = [
  { element: 'observationTimeMilliseconds', read: (row) => row.observedAtMs },
  { element: 'observerNodeName', read: (row) => row.observerNodeName },
];

function onValue<T>(field: Field<T>): Field<VitalsRow<T>> {
  return { element: field.element, read: (row) => field.read(row.value) };
}

function usageGroup<T>(): OptionalGroup<WithUsageValue<T>> {
  return {
    present: (value) => value.usage !== undefined,
    fields: [
      { element: 'cpuUsageMillicores', read: (value) => value.usage!.cpuMillicores },
      { element: 'memoryUsageBytes', read: (value) => value.usage!.memoryBytes },
    ],
  };
}

/** First template id of each kind; the variants of a kind follow it. */
export const VitalsTemplateIds = { Pod: 512, Node: 528, Workload: 536, Job: 540, CronJob: 544, Hpa: 548, HpaMetric: 552 } as const;

export class VitalsTemplates {
  readonly pods: VitalsTemplateFamily<WithUsageValue<PodVitals>>;
  readonly nodes: VitalsTemplateFamily<WithUsageValue<NodeVitals>>;
  readonly workloads: VitalsTemplateFamily<WorkloadVitals>;
  readonly jobs: VitalsTemplateFamily<JobVitals>;
  readonly cronJobs: VitalsTemplateFamily<CronJobVitals>;
  readonly hpas: VitalsTemplateFamily<HpaVitals>;
  readonly hpaMetrics: VitalsTemplateFamily<HpaMetricValue>;

  constructor(registry: InformationElementRegistry) {
    this.pods = new VitalsTemplateFamily<WithUsageValue<PodVitals>>(
      registry,
      VitalsTemplateIds.Pod,
      [
        { element: 'kubernetesNamespace', read: ({ object }) => object.namespace },
        { element: 'kubernetesName', read: ({ object }) => object.name },
        { element: 'podNodeName', read: ({ object }) => object.node },
        { element: 'podPhase', read: ({ object }) => object.phase },
        { element: 'podReady', read: ({ object }) => object.ready },
        { element: 'podRestartCount', read: ({ object }) => object.restarts },
        { element: 'cpuRequestMillicores', read: ({ object }) => object.requests.cpuMillicores },
        { element: 'memoryRequestBytes', read: ({ object }) => object.requests.memoryBytes },
      ],
      [
        usageGroup<PodVitals>(),
        { present: ({ object }) => object.cpuLimitMillicores !== undefined, fields: [{ element: 'cpuLimitMillicores', read: ({ object }) => object.cpuLimitMillicores! }] },
        { present: ({ object }) => object.memoryLimitBytes !== undefined, fields: [{ element: 'memoryLimitBytes', read: ({ object }) => object.memoryLimitBytes! }] },
      ],
    );
    this.nodes = new VitalsTemplateFamily<WithUsageValue<NodeVitals>>(
      registry,
      VitalsTemplateIds.Node,
      [
        { element: 'kubernetesName', read: ({ object }) => object.name },
        { element: 'cpuCapacityMillicores', read: ({ object }) => object.capacity.cpuMillicores },
        { element: 'memoryCapacityBytes', read: ({ object }) => object.capacity.memoryBytes },
        { element: 'cpuAllocatableMillicores', read: ({ object }) => object.allocatable.cpuMillicores },
        { element: 'memoryAllocatableBytes', read: ({ object }) => object.allocatable.memoryBytes },
        { element: 'nodeConditionReady', read: ({ object }) => object.conditions.Ready },
        { element: 'nodeConditionMemoryPressure', read: ({ object }) => object.conditions.MemoryPressure },
        { element: 'nodeConditionDiskPressure', read: ({ object }) => object.conditions.DiskPressure },
        { element: 'nodeConditionPIDPressure', read: ({ object }) => object.conditions.PIDPressure },
        { element: 'nodeConditionNetworkUnavailable', read: ({ object }) => object.conditions.NetworkUnavailable },
      ],
      [usageGroup<NodeVitals>()],
    );
    this.workloads = new VitalsTemplateFamily<WorkloadVitals>(registry, VitalsTemplateIds.Workload, [
      { element: 'kubernetesKind', read: (workload) => workload.kind },
      { element: 'kubernetesNamespace', read: (workload) => workload.namespace },
      { element: 'kubernetesName', read: (workload) => workload.name },
      { element: 'replicasDesired', read: (workload) => workload.desired },
      { element: 'replicasReady', read: (workload) => workload.ready },
      { element: 'replicasAvailable', read: (workload) => workload.available },
      { element: 'replicasUpdated', read: (workload) => workload.updated },
      { element: 'workloadHealth', read: workloadHealth },
    ]);
    this.jobs = new VitalsTemplateFamily<JobVitals>(
      registry,
      VitalsTemplateIds.Job,
      [
        { element: 'kubernetesNamespace', read: (job) => job.namespace },
        { element: 'kubernetesName', read: (job) => job.name },
        { element: 'jobActive', read: (job) => job.active },
        { element: 'jobSucceeded', read: (job) => job.succeeded },
        { element: 'jobFailed', read: (job) => job.failed },
      ],
      [
        { present: (job) => job.startMs !== undefined, fields: [{ element: 'jobStartMilliseconds', read: (job) => job.startMs! }] },
        {
          present: (job) => jobDurationMs(job) !== undefined,
          fields: [
            { element: 'jobCompletionMilliseconds', read: (job) => job.completionMs! },
            { element: 'jobDurationMilliseconds', read: (job) => jobDurationMs(job)! },
          ],
        },
      ],
    );
    this.cronJobs = new VitalsTemplateFamily<CronJobVitals>(
      registry,
      VitalsTemplateIds.CronJob,
      [
        { element: 'kubernetesNamespace', read: (cronJob) => cronJob.namespace },
        { element: 'kubernetesName', read: (cronJob) => cronJob.name },
        { element: 'cronJobSchedule', read: (cronJob) => cronJob.schedule },
        { element: 'cronJobSuspended', read: (cronJob) => cronJob.suspended },
        { element: 'cronJobActiveJobs', read: (cronJob) => cronJob.activeJobs },
      ],
      [
        { present: (cronJob) => cronJob.lastScheduleMs !== undefined, fields: [{ element: 'cronJobLastScheduleMilliseconds', read: (cronJob) => cronJob.lastScheduleMs! }] },
        { present: (cronJob) => cronJob.lastSuccessfulMs !== undefined, fields: [{ element: 'cronJobLastSuccessfulMilliseconds', read: (cronJob) => cronJob.lastSuccessfulMs! }] },
      ],
    );
    this.hpas = new VitalsTemplateFamily<HpaVitals>(registry, VitalsTemplateIds.Hpa, [
      { element: 'kubernetesNamespace', read: (hpa) => hpa.namespace },
      { element: 'kubernetesName', read: (hpa) => hpa.name },
      { element: 'hpaScaleTargetKind', read: (hpa) => hpa.targetKind },
      { element: 'hpaScaleTargetName', read: (hpa) => hpa.targetName },
      { element: 'hpaMinReplicas', read: (hpa) => hpa.minReplicas },
      { element: 'hpaMaxReplicas', read: (hpa) => hpa.maxReplicas },
      { element: 'hpaCurrentReplicas', read: (hpa) => hpa.currentReplicas },
      { element: 'hpaDesiredReplicas', read: (hpa) => hpa.desiredReplicas },
    ]);
    this.hpaMetrics = new VitalsTemplateFamily<HpaMetricValue>(
      registry,
      VitalsTemplateIds.HpaMetric,
      [
        { element: 'kubernetesNamespace', read: ({ hpa }) => hpa.namespace },
        { element: 'kubernetesName', read: ({ hpa }) => hpa.name },
        { element: 'hpaMetricSourceType', read: ({ metric }) => metric.sourceType },
        { element: 'hpaMetricName', read: ({ metric }) => metric.name },
        { element: 'hpaMetricTargetType', read: ({ metric }) => metric.targetType },
        { element: 'hpaMetricUnit', read: ({ metric }) => metric.unit },
        { element: 'hpaMetricTargetValue', read: ({ metric }) => metric.target },
      ],
      [{ present: ({ metric }) => metric.current !== undefined, fields: [{ element: 'hpaMetricCurrentValue', read: ({ metric }) => metric.current! }] }],
    );
  }
}
