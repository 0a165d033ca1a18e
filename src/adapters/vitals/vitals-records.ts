import { addQuantities, milliValue, parseQuantity, wholeValue, ZERO_QUANTITY, type Quantity } from '../../domain/vitals/quantity.js';
import {
  NODE_CONDITION_TYPES,
  type ConditionStatus,
  type CronJobVitals,
  type HpaMetricUnit,
  type HpaMetricVitals,
  type HpaVitals,
  type JobVitals,
  type NodeVitals,
  type PodVitals,
  type ResourceAmounts,
  type WorkloadKind,
  type WorkloadVitals,
} from '../../domain/vitals/vitals.js';
import { arrayOf, isObject, nonEmptyString, objectIdentity, type CachedRecord, type Conversion, type Json } from '../kubernetes/kubernetes-records.js';

/**
 * API objects to vitals. Like the flow cache's records, converters take `unknown`
 * (watch events are raw JSON; list items are client-node models, whose timestamps
 * are Date objects) and return a `problem` instead of throwing. A field Kubernetes
 * omits when zero (replica counts, restart counts) reads as 0; a field whose
 * absence means "unknown" or "unbounded" stays undefined.
 */

/** A vitals value as the reflector caches it. */
export interface VitalsRecord<T> extends CachedRecord {
  readonly vitals: T;
}

class Problem extends Error {}

/** Runs a reader that throws Problem for bad input, as a Conversion. */
function attempt<T>(read: () => T): Conversion<T> {
  try {
    return { record: read() };
  } catch (error) {
    if (error instanceof Problem) return { problem: error.message };
    throw error;
  }
}

function convert<T>(object: unknown, namespaced: boolean, read: (object: Json) => T): Conversion<VitalsRecord<T>> {
  const identity = objectIdentity(object, namespaced);
  if ('problem' in identity) return identity;
  return attempt(() => ({ ...identity, vitals: read(object as Json) }));
}

function objectAt(parent: Json, field: string): Json {
  const value = parent[field];
  return isObject(value) ? value : {};
}

/** A count Kubernetes omits when 0; anything but a non-negative integer is a problem. */
function count(parent: Json, field: string, path: string): number {
  const value = parent[field];
  if (value === undefined || value === null) return 0;
  if (!Number.isInteger(value) || (value as number) < 0) throw new Problem(`bad ${path}`);
  return value as number;
}

function quantity(value: unknown, path: string): Quantity {
  const parsed = typeof value === 'string' ? parseQuantity(value) : typeof value === 'number' && Number.isInteger(value) ? parseQuantity(String(value)) : undefined;
  if (parsed === undefined || parsed.numerator < 0n) throw new Problem(`bad quantity in ${path}`);
  return parsed;
}

function amount(convertUnits: (quantity: Quantity) => bigint | undefined, value: Quantity, path: string): bigint {
  const converted = convertUnits(value);
  if (converted === undefined) throw new Problem(`${path} out of range`);
  return converted;
}

/** CPU and memory of a resource list ({ cpu: "250m", memory: "64Mi" }); both required. */
export function resourceAmounts(list: unknown, path: string): ResourceAmounts {
  if (!isObject(list) || list.cpu === undefined || list.memory === undefined) throw new Problem(`missing ${path}.cpu or .memory`);
  return {
    cpuMillicores: amount(milliValue, quantity(list.cpu, `${path}.cpu`), `${path}.cpu`),
    memoryBytes: amount(wholeValue, quantity(list.memory, `${path}.memory`), `${path}.memory`),
  };
}

/** Epoch ms of an RFC 3339 timestamp (or a client-node Date); undefined when absent. */
function timestamp(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) throw new Problem(`bad time in ${path}`);
  return ms;
}

// ---- pods ------------------------------------------------------------------

/** Sums one resource over containers: the total, and whether every container set it. */
function containerSum(containers: readonly unknown[], section: 'requests' | 'limits', resource: 'cpu' | 'memory'): { total: Quantity; everyContainer: boolean } {
  let total = ZERO_QUANTITY;
  let everyContainer = containers.length > 0;
  containers.forEach((container, index) => {
    const value = isObject(container) ? objectAt(objectAt(container, 'resources'), section)[resource] : undefined;
    if (value === undefined || value === null) everyContainer = false;
    else total = addQuantities(total, quantity(value, `spec.containers[${index}].resources.${section}.${resource}`));
  });
  return { total, everyContainer };
}

function restartCount(status: Json): number {
  return [...arrayOf(status.containerStatuses), ...arrayOf(status.initContainerStatuses)].reduce<number>(
    (sum, containerStatus, index) => sum + (isObject(containerStatus) ? count(containerStatus, 'restartCount', `status.containerStatuses[${index}].restartCount`) : 0),
    0,
  );
}

function conditionStatus(status: Json, type: string): ConditionStatus {
  const condition = arrayOf(status.conditions).find((entry) => isObject(entry) && entry.type === type);
  if (!isObject(condition)) return '';
  const value = condition.status;
  if (value === 'True' || value === 'False' || value === 'Unknown') return value;
  throw new Problem(`bad status of condition ${type}`);
}

export function toPodVitals(object: unknown): Conversion<VitalsRecord<PodVitals>> {
  return convert(object, true, (pod) => {
    const metadata = pod.metadata as Json;
    const spec = objectAt(pod, 'spec');
    const status = objectAt(pod, 'status');
    const containers = arrayOf(spec.containers);
    if (containers.length === 0) throw new Problem('no spec.containers');
    const cpuLimit = containerSum(containers, 'limits', 'cpu');
    const memoryLimit = containerSum(containers, 'limits', 'memory');
    return {
      namespace: metadata.namespace as string,
      name: metadata.name as string,
      node: typeof spec.nodeName === 'string' ? spec.nodeName : '',
      phase: nonEmptyString(status.phase) ?? 'Unknown',
      ready: conditionStatus(status, 'Ready') === 'True',
      restarts: restartCount(status),
      requests: {
        cpuMillicores: amount(milliValue, containerSum(containers, 'requests', 'cpu').total, 'cpu requests'),
        memoryBytes: amount(wholeValue, containerSum(containers, 'requests', 'memory').total, 'memory requests'),
      },
      cpuLimitMillicores: cpuLimit.everyContainer ? amount(milliValue, cpuLimit.total, 'cpu limits') : undefined,
      memoryLimitBytes: memoryLimit.everyContainer ? amount(wholeValue, memoryLimit.total, 'memory limits') : undefined,
    };
  });
}

// ---- nodes -----------------------------------------------------------------

export function toNodeVitals(object: unknown): Conversion<VitalsRecord<NodeVitals>> {
  return convert(object, false, (node) => {
    const status = objectAt(node, 'status');
    const conditions = Object.fromEntries(NODE_CONDITION_TYPES.map((type) => [type, conditionStatus(status, type)])) as NodeVitals['conditions'];
    return {
      name: (node.metadata as Json).name as string,
      capacity: resourceAmounts(status.capacity, 'status.capacity'),
      allocatable: resourceAmounts(status.allocatable, 'status.allocatable'),
      conditions,
    };
  });
}

// ---- workloads -------------------------------------------------------------

/** spec.replicas defaults to 1 (Deployment, StatefulSet) when omitted. */
function desiredReplicas(spec: Json): number {
  return spec.replicas === undefined || spec.replicas === null ? 1 : count(spec, 'replicas', 'spec.replicas');
}

export function workloadConverter(kind: WorkloadKind): (object: unknown) => Conversion<VitalsRecord<WorkloadVitals>> {
  return (object) =>
    convert(object, true, (workload) => {
      const metadata = workload.metadata as Json;
      const spec = objectAt(workload, 'spec');
      const status = objectAt(workload, 'status');
      const identity = { kind, namespace: metadata.namespace as string, name: metadata.name as string };
      if (kind === 'DaemonSet') {
        return {
          ...identity,
          desired: count(status, 'desiredNumberScheduled', 'status.desiredNumberScheduled'),
          ready: count(status, 'numberReady', 'status.numberReady'),
          available: count(status, 'numberAvailable', 'status.numberAvailable'),
          updated: count(status, 'updatedNumberScheduled', 'status.updatedNumberScheduled'),
        };
      }
      return {
        ...identity,
        desired: desiredReplicas(spec),
        ready: count(status, 'readyReplicas', 'status.readyReplicas'),
        available: count(status, 'availableReplicas', 'status.availableReplicas'),
        updated: count(status, 'updatedReplicas', 'status.updatedReplicas'),
      };
    });
}

// ---- jobs ------------------------------------------------------------------

export function toJobVitals(object: unknown): Conversion<VitalsRecord<JobVitals>> {
  return convert(object, true, (job) => {
    const metadata = job.metadata as Json;
    const status = objectAt(job, 'status');
    const startMs = timestamp(status.startTime, 'status.startTime');
    const completionMs = timestamp(status.completionTime, 'status.completionTime');
    if (completionMs !== undefined && (startMs === undefined || completionMs < startMs)) throw new Problem('status.completionTime without or before status.startTime');
    return {
      namespace: metadata.namespace as string,
      name: metadata.name as string,
      active: count(status, 'active', 'status.active'),
      succeeded: count(status, 'succeeded', 'status.succeeded'),
      failed: count(status, 'failed', 'status.failed'),
      startMs,
      completionMs,
    };
  });
}

export function toCronJobVitals(object: unknown): Conversion<VitalsRecord<CronJobVitals>> {
  return convert(object, true, (cronJob) => {
    const metadata = cronJob.metadata as Json;
    const spec = objectAt(cronJob, 'spec');
    const status = objectAt(cronJob, 'status');
    const schedule = nonEmptyString(spec.schedule);
    if (schedule === undefined) throw new Problem('missing spec.schedule');
    if (spec.suspend !== undefined && spec.suspend !== null && typeof spec.suspend !== 'boolean') throw new Problem('bad spec.suspend');
    return {
      namespace: metadata.namespace as string,
      name: metadata.name as string,
      schedule,
      suspended: spec.suspend === true,
      lastScheduleMs: timestamp(status.lastScheduleTime, 'status.lastScheduleTime'),
      lastSuccessfulMs: timestamp(status.lastSuccessfulTime, 'status.lastSuccessfulTime'),
      activeJobs: arrayOf(status.active).length,
    };
  });
}

// ---- HPAs (autoscaling/v2) ---------------------------------------------------

/** The source object of one metric entry: spec.metrics[i].resource, .pods, .object, ... by its type. */
const METRIC_SOURCE_FIELDS: Readonly<Record<string, string>> = {
  Resource: 'resource',
  ContainerResource: 'containerResource',
  Pods: 'pods',
  Object: 'object',
  External: 'external',
};

function metricName(sourceType: string, source: Json): string | undefined {
  if (sourceType === 'Resource' || sourceType === 'ContainerResource') return nonEmptyString(source.name);
  return isObject(source.metric) ? nonEmptyString(source.metric.name) : undefined;
}

function metricValue(values: Json, targetType: string, unit: HpaMetricUnit, path: string): bigint | undefined {
  if (targetType === 'Utilization') {
    if (values.averageUtilization === undefined || values.averageUtilization === null) return undefined;
    return BigInt(count(values, 'averageUtilization', `${path}.averageUtilization`));
  }
  const raw = targetType === 'AverageValue' ? values.averageValue : values.value;
  if (raw === undefined || raw === null) return undefined;
  const parsed = quantity(raw, path);
  return amount(unit === 'bytes' ? wholeValue : milliValue, parsed, path);
}

function unitOf(targetType: string, sourceType: string, name: string): HpaMetricUnit {
  if (targetType === 'Utilization') return 'percent';
  if (sourceType === 'Resource' || sourceType === 'ContainerResource') {
    if (name === 'cpu') return 'millicores';
    if (name === 'memory') return 'bytes';
  }
  return 'milli';
}

function hpaMetrics(spec: Json, status: Json): HpaMetricVitals[] {
  const currentMetrics = arrayOf(status.currentMetrics).filter(isObject);
  return arrayOf(spec.metrics).map((entry, index) => {
    const path = `spec.metrics[${index}]`;
    if (!isObject(entry) || typeof entry.type !== 'string' || METRIC_SOURCE_FIELDS[entry.type] === undefined) throw new Problem(`bad ${path}.type`);
    const sourceType = entry.type;
    const field = METRIC_SOURCE_FIELDS[sourceType];
    const source = objectAt(entry, field);
    const name = metricName(sourceType, source);
    const target = objectAt(source, 'target');
    const targetType = nonEmptyString(target.type);
    if (name === undefined || targetType === undefined) throw new Problem(`${path} without a name or target type`);
    const unit = unitOf(targetType, sourceType, name);
    const targetValue = metricValue(target, targetType, unit, `${path}.${field}.target`);
    if (targetValue === undefined) throw new Problem(`${path} without a target value`);
    // The status entry of the same source type and metric name, when the controller has one.
    const currentEntry = currentMetrics.find((candidate) => candidate.type === sourceType && metricName(sourceType, objectAt(candidate, field)) === name);
    const current = currentEntry === undefined ? undefined : metricValue(objectAt(objectAt(currentEntry, field), 'current'), targetType, unit, `status.currentMetrics.${field}.current`);
    return { sourceType, name, targetType, unit, target: targetValue, current };
  });
}

export function toHpaVitals(object: unknown): Conversion<VitalsRecord<HpaVitals>> {
  return convert(object, true, (hpa) => {
    const metadata = hpa.metadata as Json;
    const spec = objectAt(hpa, 'spec');
    const status = objectAt(hpa, 'status');
    const target = objectAt(spec, 'scaleTargetRef');
    const targetKind = nonEmptyString(target.kind);
    const targetName = nonEmptyString(target.name);
    if (targetKind === undefined || targetName === undefined) throw new Problem('missing spec.scaleTargetRef');
    if (!Number.isInteger(spec.maxReplicas) || (spec.maxReplicas as number) < 1) throw new Problem('bad spec.maxReplicas');
    return {
      namespace: metadata.namespace as string,
      name: metadata.name as string,
      targetKind,
      targetName,
      minReplicas: spec.minReplicas === undefined || spec.minReplicas === null ? 1 : count(spec, 'minReplicas', 'spec.minReplicas'),
      maxReplicas: spec.maxReplicas as number,
      currentReplicas: count(status, 'currentReplicas', 'status.currentReplicas'),
      desiredReplicas: count(status, 'desiredReplicas', 'status.desiredReplicas'),
      metrics: hpaMetrics(spec, status),
    };
  });
}

// ---- metrics.k8s.io ----------------------------------------------------------

/** A PodMetrics item: its key (namespace/name) and the sum of its containers' usage. */
export function toPodUsage(object: unknown): Conversion<{ key: string; usage: ResourceAmounts }> {
  const identity = objectIdentity(object, true);
  if ('problem' in identity) return identity;
  return attempt(() => {
    let cpu = ZERO_QUANTITY;
    let memory = ZERO_QUANTITY;
    arrayOf((object as Json).containers).forEach((container, index) => {
      const usage = isObject(container) ? container.usage : undefined;
      if (!isObject(usage) || usage.cpu === undefined || usage.memory === undefined) throw new Problem(`missing containers[${index}].usage`);
      cpu = addQuantities(cpu, quantity(usage.cpu, `containers[${index}].usage.cpu`));
      memory = addQuantities(memory, quantity(usage.memory, `containers[${index}].usage.memory`));
    });
    return { key: identity.key, usage: { cpuMillicores: amount(milliValue, cpu, 'cpu usage'), memoryBytes: amount(wholeValue, memory, 'memory usage') } };
  });
}

/** A NodeMetrics object's usage. */
export function toNodeUsage(object: unknown): Conversion<ResourceAmounts> {
  return attempt(() => resourceAmounts(isObject(object) ? object.usage : undefined, 'usage'));
}
