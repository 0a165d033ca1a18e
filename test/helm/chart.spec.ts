/**
 * @jest-environment-options {"customExportConditions": ["node", "node-addons", "import"]}
 */
// kubernetes-models is ESM-only and exports only under the "import" condition: the docblock
// above lets Jest resolve it (Node's require(esm) then loads it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// js-yaml arrives with @kubernetes/client-node (a runtime dependency).
import { load, loadAll } from 'js-yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import type { IDaemonSet } from 'kubernetes-models/apps/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Service, ServiceAccount } from 'kubernetes-models/v1';
import type { IContainer, IEnvVar, IService } from 'kubernetes-models/v1';
import { EnvironmentVariables } from '../../src/adapters/config/environment.schema.js';

/**
 * The chart rendered by the real helm binary (`make helm` installs it), every object validated
 * against the Kubernetes schemas, and the chart held to the agent's configuration schema.
 */
const ROOT = resolve(__dirname, '../..');
const HELM = join(ROOT, '.tools/helm-4.1.4/helm');
const CHART = join(ROOT, 'helm-chart');
const COLLECTOR = { config: { IPFIX_COLLECTOR_HOST: 'collector.example' } };

const DOWNWARD_API = { NODE_NAME: 'spec.nodeName', POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace' };
/** The required variable has no default, so it is not an own property of a fresh instance. */
const AGENT_DEFAULTS: Record<string, unknown> = { ...new EnvironmentVariables() };
const AGENT_VARIABLES = new Set([...Object.keys(AGENT_DEFAULTS), 'IPFIX_COLLECTOR_HOST']);

/** Every kind the chart may render, with its model; null: no model ships (the Prometheus Operator CRD is checked field by field). */
const MODELS: Record<string, (new (data: never) => { validate(): void }) | null> = {
  'apps/v1/DaemonSet': DaemonSet,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'monitoring.coreos.com/v1/ServiceMonitor': null,
};

interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface HelmRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

let workDir: string;

/** Runs helm with the values written to a file, as an operator's values file (numbers arrive as float64). */
function helm(command: string[], values: object): HelmRun {
  const valuesFile = join(workDir, `values-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(valuesFile, JSON.stringify(values));
  const run = spawnSync(HELM, [...command, CHART, '--values', valuesFile], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Renders the chart and validates every object against its kind's schema; unknown kinds fail. */
function render(values: object = COLLECTOR): Rendered[] {
  const run = helm(['template', 'flows', '--namespace', 'observability'], values);
  if (run.status !== 0) throw new Error(`helm template failed:\n${run.stderr}`);
  const objects = (loadAll(run.stdout) as Array<Rendered | null>).filter((object): object is Rendered => object !== null);
  for (const object of objects) {
    const kind = `${object.apiVersion}/${object.kind}`;
    if (!(kind in MODELS)) throw new Error(`unexpected kind ${kind}: add its model to MODELS`);
    const Model = MODELS[kind];
    if (Model) new Model(object as never).validate();
  }
  return objects;
}

function withConfig(config: Record<string, unknown>, more: object = {}): object {
  return { ...more, config: { ...COLLECTOR.config, ...config } };
}

function only<T = Rendered>(objects: Rendered[], kind: string): T {
  const matching = objects.filter((object) => object.kind === kind);
  expect(matching).toHaveLength(1);
  return matching[0] as T;
}

function agentContainer(objects: Rendered[]): IContainer {
  const daemonSet = only<IDaemonSet>(objects, 'DaemonSet');
  const containers = daemonSet.spec!.template.spec!.containers;
  expect(containers).toHaveLength(1);
  return containers[0];
}

function envOf(objects: Rendered[]): Map<string, IEnvVar> {
  return new Map((agentContainer(objects).env ?? []).map((variable) => [variable.name, variable]));
}

function containerPort(container: IContainer, name: string): number {
  const port = container.ports?.find((candidate) => candidate.name === name);
  if (!port) throw new Error(`no container port named ${name}`);
  return port.containerPort;
}

/** Resolves a probe's port (a name or a number) to a number. */
function probePort(container: IContainer, port: number | string | undefined): number {
  return typeof port === 'string' ? containerPort(container, port) : Number(port);
}

function bytes(quantity: string): number {
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
  const match = /^(\d+)(Ki|Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * units[match[2]];
}

beforeAll(() => {
  if (!existsSync(HELM)) {
    throw new Error(`helm is missing at ${HELM}: run \`make setup\` (or \`make helm\`) first`);
  }
  workDir = mkdtempSync(join(tmpdir(), 'chart-spec-'));
});

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('helm chart', () => {
  it('passes helm lint --strict with the collector host set', () => {
    const run = helm(['lint', '--strict'], COLLECTOR);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('0 chart(s) failed');
  });

  it('renders exactly the default objects (render() validates each against its Kubernetes schema)', () => {
    expect(render().map((object) => object.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'DaemonSet', 'Role', 'RoleBinding', 'ServiceAccount'],
    );
  });

  it('runs one agent per node in the host network namespace, on every node and with a rolling update', () => {
    const daemonSet = only<IDaemonSet>(render(), 'DaemonSet');
    const pod = daemonSet.spec!.template.spec!;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(daemonSet.spec!.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    expect(pod.priorityClassName).toBeUndefined();
    expect(only<IDaemonSet>(render(withConfig({}, { priorityClassName: 'system-node-critical' })), 'DaemonSet')
      .spec!.template.spec!.priorityClassName).toBe('system-node-critical');
  });

  it('uses the chart appVersion, which is the agent version, as the default image tag', () => {
    const chart = load(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    const agent = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(chart.appVersion).toBe(agent.version);
    expect(agentContainer(render()).image).toBe(`k8s-flow-exporter:${chart.appVersion}`);
    const pinned = render({ ...COLLECTOR, image: { repository: 'registry.example/flows', tag: '9.9.9' } });
    expect(agentContainer(pinned).image).toBe('registry.example/flows:9.9.9');
  });

  describe('probes', () => {
    it.each([
      [{}, 8081],
      [{ HEALTH_PORT: 9000 }, 9000],
    ])('probe the health endpoints on HEALTH_PORT (config %j)', (config, port) => {
      const objects = render(withConfig(config));
      const container = agentContainer(objects);
      expect(envOf(objects).get('HEALTH_PORT')?.value).toBe(String(port));
      const probes = { startup: container.startupProbe, liveness: container.livenessProbe, readiness: container.readinessProbe };
      expect(Object.fromEntries(Object.entries(probes).map(([kind, probe]) => [kind, probe?.httpGet?.path]))).toEqual({
        startup: '/health/live',
        liveness: '/health/live',
        readiness: '/health/ready',
      });
      for (const probe of Object.values(probes)) expect(probePort(container, probe!.httpGet!.port)).toBe(port);
    });

    it('gives the agent a startup window before liveness counts', () => {
      const startup = agentContainer(render()).startupProbe!;
      expect(startup.failureThreshold! * startup.periodSeconds!).toBeGreaterThanOrEqual(30);
    });
  });

  describe('privileges', () => {
    it('adds exactly BPF, PERFMON and NET_ADMIN, drops the rest and is not privileged by default', () => {
      const security = agentContainer(render()).securityContext!;
      expect([...security.capabilities!.add!].sort()).toEqual(['BPF', 'NET_ADMIN', 'PERFMON']);
      expect(security.capabilities!.drop).toEqual(['ALL']);
      expect(security.privileged).toBe(false);
      expect(security.allowPrivilegeEscalation).toBe(false);
      expect(security.readOnlyRootFilesystem).toBe(true);
      expect(security.runAsUser).toBe(0);
    });

    it('switches to a privileged container for runtimes without CAP_BPF', () => {
      const objects = render(withConfig({}, { privileged: true }));
      const security = agentContainer(objects).securityContext!;
      expect(security.privileged).toBe(true);
      expect(security.capabilities).toBeUndefined();
      expect(security.allowPrivilegeEscalation).toBeUndefined();
    });
  });

  describe('RBAC', () => {
    it('grants only get/list/watch cluster-wide, on everything enrichment and vitals read', () => {
      const rules = only<{ rules: Rule[] }>(render(), 'ClusterRole').rules;
      for (const rule of rules) expect([...rule.verbs].sort()).toEqual(['get', 'list', 'watch']);
      const granted = new Set(rules.flatMap((rule) => rule.apiGroups.flatMap((group) => rule.resources.map((resource) => `${group}/${resource}`))));
      expect([...granted].sort()).toEqual([
        '/namespaces', '/nodes', '/pods', '/services',
        'apps/daemonsets', 'apps/deployments', 'apps/replicasets', 'apps/statefulsets',
        'autoscaling/horizontalpodautoscalers',
        'batch/cronjobs', 'batch/jobs',
        'discovery.k8s.io/endpointslices',
        'metrics.k8s.io/nodes', 'metrics.k8s.io/pods',
      ]);
    });

    it('lets the agent write only its own Lease, in the release namespace', () => {
      const objects = render(withConfig({ VITALS_LEASE_NAME: 'flows-leader' }));
      const role = only<Rendered & { rules: Rule[] }>(objects, 'Role');
      expect(role.metadata.namespace).toBe('observability');
      for (const rule of role.rules) {
        expect(rule.apiGroups).toEqual(['coordination.k8s.io']);
        expect(rule.resources).toEqual(['leases']);
        for (const verb of rule.verbs) expect(['get', 'create', 'update']).toContain(verb);
      }
      const named = role.rules.filter((rule) => rule.resourceNames);
      expect(named).toEqual([expect.objectContaining({ resourceNames: ['flows-leader'], verbs: ['get', 'update'] })]);
      expect(envOf(objects).get('VITALS_LEASE_NAME')?.value).toBe('flows-leader');
    });

    it('binds both roles to the service account the pods run as', () => {
      const objects = render();
      const serviceAccount = only(objects, 'ServiceAccount').metadata;
      expect(only<IDaemonSet>(objects, 'DaemonSet').spec!.template.spec!.serviceAccountName).toBe(serviceAccount.name);
      for (const [binding, role] of [['ClusterRoleBinding', 'ClusterRole'], ['RoleBinding', 'Role']]) {
        const rendered = only<{ roleRef: { kind: string; name: string }; subjects: object[] }>(objects, binding);
        expect(rendered.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: role, name: only(objects, role).metadata.name });
        expect(rendered.subjects).toEqual([{ kind: 'ServiceAccount', name: serviceAccount.name, namespace: 'observability' }]);
      }
    });

    it('renders no RBAC objects when rbac.create is false', () => {
      const kinds = render(withConfig({}, { rbac: { create: false } })).map((object) => object.kind);
      expect(kinds.sort()).toEqual(['DaemonSet', 'ServiceAccount']);
    });
  });

  describe('environment', () => {
    it('takes NODE_NAME, POD_NAME and POD_NAMESPACE from the downward API', () => {
      const env = envOf(render());
      for (const [name, fieldPath] of Object.entries(DOWNWARD_API)) {
        expect(env.get(name)).toEqual({ name, valueFrom: { fieldRef: { fieldPath } } });
      }
    });

    it('renders every config entry as a string, integers never in exponent form, and leaves out empty ones', () => {
      const env = envOf(render(withConfig({ FLOW_TABLE_MAX_FLOWS: 2_000_000, LOG_LEVEL: 'debug', VITALS_ENABLED: false })));
      expect(env.get('IPFIX_COLLECTOR_HOST')?.value).toBe('collector.example');
      expect(env.get('FLOW_TABLE_MAX_FLOWS')?.value).toBe('2000000');
      expect(env.get('LOG_LEVEL')?.value).toBe('debug');
      expect(env.get('VITALS_ENABLED')?.value).toBe('false');
      expect(env.has('EBPF_INTERFACE_FILTER')).toBe(false);
      expect(env.has('LOG_FILE')).toBe(false);
      expect(envOf(render(withConfig({ EBPF_INTERFACE_FILTER: '^cali' }))).get('EBPF_INTERFACE_FILTER')?.value).toBe('^cali');
    });

    it('appends extraEnv entries as given', () => {
      const extra = { name: 'IPFIX_COLLECTOR_HOST_FROM_SECRET', valueFrom: { secretKeyRef: { name: 'collector', key: 'host' } } };
      const env = agentContainer(render(withConfig({}, { extraEnv: [extra] }))).env!;
      expect(env[env.length - 1]).toEqual(extra);
    });

    it('renders only variables the agent reads, documented vitals variables and downward API fields', () => {
      const allowed = new Set([...AGENT_VARIABLES, ...Object.keys(DOWNWARD_API)]);
      const rendered = [...envOf(render()).keys()];
      expect(rendered.filter((name) => !allowed.has(name))).toEqual([]);
    });

    it('accepts in config only variables the agent reads or the vitals variables', () => {
      const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));
      const accepted = Object.keys(schema.properties.config.properties);
      const known = new Set(AGENT_VARIABLES);
      expect(accepted.filter((name) => !known.has(name))).toEqual([]);
      expect([...AGENT_VARIABLES].filter((name) => !(name in DOWNWARD_API) && !accepted.includes(name))).toEqual([]);
    });

    it('keeps the defaults in values.yaml equal to the agent defaults', () => {
      const values = load(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as { config: Record<string, unknown> };
      const differing = Object.entries(values.config)
        .filter(([name]) => name in AGENT_DEFAULTS)
        .filter(([name, value]) => (value === '' ? AGENT_DEFAULTS[name] !== undefined : AGENT_DEFAULTS[name] !== value));
      expect(differing).toEqual([]);
    });
  });

  describe('values schema', () => {
    it.each([
      ['no collector host', {}, 'IPFIX_COLLECTOR_HOST'],
      ['a collector host with a space', { config: { IPFIX_COLLECTOR_HOST: 'bad host' } }, 'IPFIX_COLLECTOR_HOST'],
      ['an unknown log level', withConfig({ LOG_LEVEL: 'verbose' }), 'LOG_LEVEL'],
      ['a port out of range', withConfig({ HEALTH_PORT: 70000 }), 'HEALTH_PORT'],
      ['a number as a string', withConfig({ EBPF_BUFFER_SIZE: '65536' }), 'EBPF_BUFFER_SIZE'],
      ['a misspelt variable', withConfig({ LOG_LEVL: 'info' }), 'LOG_LEVL'],
      ['a downward API variable', withConfig({ NODE_NAME: 'node-1' }), 'NODE_NAME'],
      ['an unknown top-level value', withConfig({}, { hostPID: true }), 'hostPID'],
      ['a non-boolean privileged switch', withConfig({}, { privileged: 'yes' }), 'privileged'],
    ])('makes helm template fail on %s', (_case, values, mentioned) => {
      const run = helm(['template', 'flows'], values);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain(mentioned);
    });
  });

  describe('metrics', () => {
    it('annotates the pods for Prometheus scraping on METRICS_PORT and opens no Service by default', () => {
      const objects = render(withConfig({ METRICS_PORT: 9500 }));
      const daemonSet = only<IDaemonSet>(objects, 'DaemonSet');
      expect(daemonSet.spec!.template.metadata!.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9500',
        'prometheus.io/path': '/metrics',
      });
      expect(containerPort(agentContainer(objects), 'metrics')).toBe(9500);
      expect(objects.some((object) => object.kind === 'Service' || object.kind === 'ServiceMonitor')).toBe(false);
      const quiet = only<IDaemonSet>(render(withConfig({}, { metrics: { scrapeAnnotations: false } })), 'DaemonSet');
      expect(quiet.spec!.template.metadata!.annotations).toBeUndefined();
    });

    it('adds a headless Service and a ServiceMonitor that select the agents', () => {
      const objects = render(withConfig({}, { metrics: { serviceMonitor: { enabled: true, interval: '30s', labels: { release: 'prometheus' } } } }));
      const service = only<IService>(objects, 'Service');
      const podLabels = only<IDaemonSet>(objects, 'DaemonSet').spec!.template.metadata!.labels!;
      expect(service.spec!.clusterIP).toBe('None');
      expect(podLabels).toEqual(expect.objectContaining(service.spec!.selector));
      expect(service.spec!.ports).toEqual([{ name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' }]);

      const monitor = only<Rendered & { spec: { selector: { matchLabels: object }; endpoints: Array<Record<string, unknown>> } }>(objects, 'ServiceMonitor');
      expect(monitor.metadata.labels).toEqual(expect.objectContaining({ release: 'prometheus' }));
      expect(service.metadata!.labels).toEqual(expect.objectContaining(monitor.spec.selector.matchLabels));
      expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics', interval: '30s' })]);
    });
  });

  it('sets a memory limit above the kernel flow maps (2 maps × EBPF_BUFFER_SIZE × ~150 B)', () => {
    const objects = render();
    const bufferSize = Number(envOf(objects).get('EBPF_BUFFER_SIZE')?.value);
    const limit = agentContainer(objects).resources!.limits!.memory as string;
    expect(bytes(limit)).toBeGreaterThan(2 * bufferSize * 150);
  });
});
