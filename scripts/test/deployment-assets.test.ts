// The operations assets hold together with the code: Kubernetes manifests and docker-compose.yml pass
// their schemas and the services' own config parsers, the workflow runs the CI checks, and every
// metric an alert or dashboard panel uses is registered in the code. Offline: nothing is fetched.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } from '@actions/workflow-parser';
import { Namespace, Secret, Service, ConfigMap } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ConfigError, createServiceMetrics, tracingSettingsFromEnv } from '@commerce/platform';
import { loadServiceConfig } from '@commerce/runtime/config';
import { loadSubgraphAccessKeys, type SubgraphAccessConfig } from '@commerce/runtime/keys';
import { DEFAULT_MANAGEMENT_PORTS, DEFAULT_PORTS, SERVICE_NAMES, type ServiceName } from '@commerce/runtime/services';
import { loadGatewayConfig } from '../../gateway/src/config.ts';
import {
  exposedSeries,
  headingAnchors,
  listFiles,
  parseQuantity,
  readEnvFile,
  readPromql,
  readText,
  readYaml,
  readYamlDocuments,
  repoPath,
  scanRegisteredMetrics,
  unknownKubernetesFields,
  withoutGrafanaVariables,
  type Json,
} from './ops-assets.ts';

type Deployable = ServiceName | 'gateway';
/** Reads once per file run: the assets do not change while the tests run. */
const once = <T>(read: () => T): (() => T) => {
  let value: { v: T } | undefined;
  return () => (value ??= { v: read() }).v;
};
const DEPLOYABLES: Deployable[] = ['gateway', ...SERVICE_NAMES];
const K8S = 'deploy/k8s';

// ---------------------------------------------------------------------------------------------------------
// What the code reads: each service's config loaders decide which variables exist.

type Loader = (env: Record<string, string | undefined>) => unknown;

// Every process also reads the standard OTEL_* tracing variables (runMain → configureTracing).
const readTracing: Loader = (env) => tracingSettingsFromEnv(env);

async function loadersOf(service: Deployable): Promise<Loader[]> {
  if (service === 'gateway') return [(env) => loadGatewayConfig(env), readTracing];
  const loaders: Loader[] = [(env) => loadServiceConfig(service, env), readTracing];
  const own = repoPath('subgraphs', service, 'src', 'config.ts');
  if (existsSync(own)) {
    const module = (await import(pathToFileURL(own).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (/^load[A-Z]/.test(name) && typeof value === 'function') loaders.push(value as Loader);
    }
  }
  return loaders;
}

function outcome(loader: Loader, env: Record<string, string>): string {
  try {
    return JSON.stringify(loader(env));
  } catch (error) {
    if (error instanceof ConfigError) return `ConfigError ${error.problems.map((p) => p.variable).join(',')}`;
    throw error;
  }
}

/** A variable is read when some loader answers differently once its value changes. */
function isRead(variable: string, env: Record<string, string>, loaders: Loader[]): boolean {
  const alternatives = [`${env[variable]}x`, 'http://changed.example/graphql', '7', 'development'];
  return loaders.some((loader) => {
    const baseline = outcome(loader, env);
    return alternatives.some((value) => outcome(loader, { ...env, [variable]: value }) !== baseline);
  });
}

/** Variables docs/configuration.md documents; `<SERVICE>_X` rows stand for CATALOG_X, USERS_X, ... */
function documentedVariables(): Set<string> {
  const documented = new Set<string>();
  for (const [, name] of readText('docs/configuration.md').matchAll(/`(<SERVICE>_[A-Z0-9_]+|[A-Z][A-Z0-9_]+)`/g)) {
    if (name!.startsWith('<SERVICE>_'))
      for (const service of SERVICE_NAMES) documented.add(name!.replace('<SERVICE>', service.toUpperCase()));
    else documented.add(name!);
  }
  return documented;
}

/**
 * What a deployment behind the gateway must set for each service (both docker-compose.yml and the Kubernetes
 * manifests): production, the real servers, the keys, where the others answer — and, for users, which proxies
 * name the client address (otherwise every login seems to come from the gateway and one client locks out all).
 */
function requiredVariables(service: Deployable): string[] {
  const shared = ['NODE_ENV', 'KAFKA_BROKERS', 'SUBGRAPH_AUTH_KEYS'];
  switch (service) {
    case 'gateway':
      return [...shared, 'REDIS_URL', 'JWT_JWKS_URL', ...SERVICE_NAMES.map((name) => `${name.toUpperCase()}_URL`)];
    case 'users':
      return [...shared, 'USERS_DATABASE_URL', 'REDIS_URL', 'JWT_PRIVATE_KEY', 'JWT_KEY_ID', 'USERS_TRUST_PROXY'];
    case 'orders':
      return [...shared, 'ORDERS_DATABASE_URL', 'JWT_JWKS_URL', 'CATALOG_URL'];
    default:
      return [...shared, `${service.toUpperCase()}_DATABASE_URL`, 'JWT_JWKS_URL'];
  }
}

// ---------------------------------------------------------------------------------------------------------
// Kubernetes manifests

const MODELS: Record<string, { validate(data: Json): void; typeImport: string }> = {
  'v1/Namespace': { validate: (data) => new Namespace(data as never).validate(), typeImport: 'kubernetes-models/v1/Namespace' },
  'v1/Service': { validate: (data) => new Service(data as never).validate(), typeImport: 'kubernetes-models/v1/Service' },
  'v1/Secret': { validate: (data) => new Secret(data as never).validate(), typeImport: 'kubernetes-models/v1/Secret' },
  'v1/ConfigMap': { validate: (data) => new ConfigMap(data as never).validate(), typeImport: 'kubernetes-models/v1/ConfigMap' },
  'apps/v1/Deployment': {
    validate: (data) => new Deployment(data as never).validate(),
    typeImport: 'kubernetes-models/apps/v1/Deployment',
  },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    validate: (data) => new HorizontalPodAutoscaler(data as never).validate(),
    typeImport: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
  },
  'policy/v1/PodDisruptionBudget': {
    validate: (data) => new PodDisruptionBudget(data as never).validate(),
    typeImport: 'kubernetes-models/policy/v1/PodDisruptionBudget',
  },
  'networking.k8s.io/v1/NetworkPolicy': {
    validate: (data) => new NetworkPolicy(data as never).validate(),
    typeImport: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
  },
};

interface Manifest {
  file: string;
  object: Json;
  kind: string;
  name: string;
}

// Minimal shapes of the parts the checks read (the schemas check the rest).
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: unknown };
}
interface Probe {
  httpGet?: { path?: string; port?: string | number };
}
interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] } } };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    containers: Container[];
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
    terminationGracePeriodSeconds?: number;
    volumes?: { name: string; emptyDir?: unknown }[];
  };
}

const manifestFiles = () => listFiles(K8S, (file) => file.endsWith('.yaml') && !file.endsWith('kustomization.yaml'));
const kustomization = once(
  () =>
    readYaml(`${K8S}/kustomization.yaml`) as {
      namespace: string;
      resources: string[];
      configMapGenerator: { name: string; envs: string[] }[];
      images: { name: string }[];
    },
);

function readManifests(files: string[]): Manifest[] {
  return files.flatMap((file) =>
    readYamlDocuments(file).map((object) => ({
      file,
      object,
      kind: String(object.kind),
      name: String((object.metadata as Json | undefined)?.name),
    })),
  );
}

const deployed = once(() => readManifests(kustomization().resources.map((resource) => `${K8S}/${resource}`)));
const exampleSecrets = once(() => readManifests([`${K8S}/secrets.example.yaml`]));
const find = (manifests: Manifest[], kind: string, name: string) =>
  manifests.find((m) => m.kind === kind && m.name === name)?.object;
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

function podTemplate(service: Deployable): PodTemplate {
  const deployment = find(deployed(), 'Deployment', service) as { spec: { template: PodTemplate } } | undefined;
  if (!deployment) throw new Error(`no Deployment ${service}`);
  return deployment.spec.template;
}

/** The environment a container starts with: generated ConfigMaps, then `env` (secrets from the examples). */
function containerEnv(container: Container): { env: Record<string, string>; problems: string[] } {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  const generators = kustomization().configMapGenerator;
  for (const source of container.envFrom ?? []) {
    const generator = generators.find((g) => g.name === source.configMapRef?.name);
    if (!generator) problems.push(`envFrom ${JSON.stringify(source)} is not a generated ConfigMap`);
    else for (const file of generator.envs) Object.assign(env, readEnvFile(`${K8S}/${file}`));
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (ref) {
      const secret = find(exampleSecrets(), 'Secret', ref.name) as { stringData?: Record<string, string> } | undefined;
      const value = secret?.stringData?.[ref.key];
      if (value !== undefined) env[variable.name] = value;
      else if (!ref.optional) problems.push(`${variable.name}: secret ${ref.name} key ${ref.key} is not in secrets.example.yaml`);
    } else problems.push(`${variable.name}: neither a value nor a secretKeyRef`);
  }
  return { env, problems };
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  test('every document validates against the Kubernetes API schema of its kind', () => {
    const problems: string[] = [];
    for (const manifest of readManifests(manifestFiles())) {
      const model = MODELS[`${manifest.object.apiVersion}/${manifest.kind}`];
      if (!model) problems.push(`${manifest.file}: ${manifest.object.apiVersion} ${manifest.kind} has no schema here`);
      else
        try {
          model.validate(manifest.object);
        } catch (error) {
          problems.push(`${manifest.file} ${manifest.kind}/${manifest.name}: ${(error as Error).message}`);
        }
    }
    expect(problems).toEqual([]);
  });

  test('no document has a field its kind does not define (misspelt or misplaced)', () => {
    const documents = readManifests(manifestFiles()).map((manifest) => ({
      where: `${manifest.file} ${manifest.kind}/${manifest.name}`,
      typeImport: MODELS[`${manifest.object.apiVersion}/${manifest.kind}`]!.typeImport,
      typeName: `I${manifest.kind}`,
      object: manifest.object,
    }));
    expect(unknownKubernetesFields(documents)).toEqual([]);
    // The check itself notices a misspelt probe field.
    const [deployment] = documents.filter((d) => d.typeName === 'IDeployment');
    const broken = structuredClone(deployment!.object) as { spec: { template: PodTemplate } };
    (broken.spec.template.spec.containers[0]!.readinessProbe as Json).periodSecond = 5;
    expect(unknownKubernetesFields([{ ...deployment!, object: broken as unknown as Json }]).join('\n')).toMatch(/periodSecond/);
  }, 60_000);

  test('kustomization.yaml lists every manifest, and its generators and images exist', () => {
    const config = kustomization();
    const listed = config.resources.map((resource) => `${K8S}/${resource}`).sort();
    expect(listed).toEqual(manifestFiles().filter((file) => !file.endsWith('.example.yaml')));
    for (const generator of config.configMapGenerator)
      for (const file of generator.envs) expect(existsSync(repoPath(K8S, file))).toBe(true);
    expect(config.images.map((image) => image.name).sort()).toEqual(
      DEPLOYABLES.map((service) => `commerce-graph/${service}`).sort(),
    );
    expect(config.namespace).toBe('commerce-graph');
  });

  test.each(DEPLOYABLES)('%s: Deployment, Service, autoscaler and disruption budget fit together', (service) => {
    const manifests = deployed();
    const template = podTemplate(service);
    const deployment = find(manifests, 'Deployment', service) as { spec: { selector: { matchLabels: Record<string, string> } } };
    const svc = find(manifests, 'Service', service) as {
      spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] };
    };
    const hpa = find(manifests, 'HorizontalPodAutoscaler', service) as {
      spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number; metrics: unknown[] };
    };
    const pdb = find(manifests, 'PodDisruptionBudget', service) as {
      spec: { selector: { matchLabels: Record<string, string> } };
    };
    const [container] = template.spec.containers;

    expect(selects(deployment.spec.selector.matchLabels, template.metadata.labels)).toBe(true);
    expect(selects(svc.spec.selector, template.metadata.labels)).toBe(true);
    expect(selects(pdb.spec.selector.matchLabels, template.metadata.labels)).toBe(true);
    expect(container!.image).toBe(`commerce-graph/${service}:latest`);
    // The default ports, so the service URLs of docs/configuration.md hold inside the cluster too.
    expect(container!.ports).toEqual([
      { name: 'http', containerPort: DEFAULT_PORTS[service] },
      { name: 'management', containerPort: DEFAULT_MANAGEMENT_PORTS[service] },
    ]);
    // Only the graph port is a Service port: an ingress (which routes to Services) cannot reach /metrics.
    expect(svc.spec.ports).toEqual([{ name: 'http', port: DEFAULT_PORTS[service], targetPort: 'http' }]);
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: service });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2); // a disruption budget of one pod needs two
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics.length).toBeGreaterThan(0);
  });

  test.each(DEPLOYABLES)('%s: probes, resources and a non-root, read-only container', (service) => {
    const template = podTemplate(service);
    expect(template.spec.containers).toHaveLength(1);
    const container = template.spec.containers[0]!;
    // On the management port: the client-facing one answers 404 there.
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/ready', port: 'management' });
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/health', port: 'management' });
    expect(container.startupProbe?.httpGet).toEqual({ path: '/health', port: 'management' });

    const { requests = {}, limits = {} } = container.resources ?? {};
    for (const resource of ['cpu', 'memory']) {
      expect(parseQuantity(requests[resource]!)).toBeGreaterThan(0);
      expect(parseQuantity(limits[resource]!)).toBeGreaterThanOrEqual(parseQuantity(requests[resource]!));
    }

    expect(template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 }); // the image's `node` user
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    // tsx writes its cache to the temp directory: the one writable place.
    const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
    expect(template.spec.volumes?.find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined();

    // preStop pause + the server's forced exit after 15 s (runMain) must fit in the grace period.
    const pause = Number(container.lifecycle?.preStop?.exec?.command?.at(-1));
    expect(pause).toBeGreaterThan(0);
    expect(template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(pause + 15);
  });

  test.each(DEPLOYABLES)(
    '%s: every variable is read by the service and documented, every required one is set; secrets stay in Secrets',
    async (service) => {
      const container = podTemplate(service).spec.containers[0]!;
      const { env, problems } = containerEnv(container);
      expect(problems).toEqual([]);
      const loaders = await loadersOf(service);
      const documented = documentedVariables();
      expect(Object.keys(env).filter((variable) => !isRead(variable, env, loaders))).toEqual([]);
      expect(Object.keys(env).filter((variable) => !documented.has(variable))).toEqual([]);
      expect(requiredVariables(service).filter((variable) => !(variable in env))).toEqual([]);
      expect(env.NODE_ENV).toBe('production');
      // Credentials only through secretKeyRef, never as plain values or in a ConfigMap.
      const secretLike = /DATABASE_URL$|^REDIS_URL$|PRIVATE_KEY|^SUBGRAPH_AUTH_KEYS$/;
      const plain = (container.env ?? []).filter((v) => v.value !== undefined).map((v) => v.name);
      const fromConfigMaps = Object.keys(containerEnv({ ...container, env: [] }).env);
      expect([...plain, ...fromConfigMaps].filter((name) => secretLike.test(name))).toEqual([]);
    },
  );

  test.each(DEPLOYABLES)('%s: its configuration loads in production mode and points at real Services', async (service) => {
    const manifests = deployed();
    const { env } = containerEnv(podTemplate(service).spec.containers[0]!);
    for (const loader of await loadersOf(service)) expect(() => loader(env)).not.toThrow();

    const config = (service === 'gateway' ? loadGatewayConfig(env) : loadServiceConfig(service, env)) as {
      production: boolean;
      port: number;
      management: { host: string; port: number };
      kafkaBrokers: string[];
      redisUrl?: string;
      subgraphUrls: Record<ServiceName, string>;
      databaseUrl?: string;
      jwt: { jwksUrl?: string; privateKeyPem?: string };
    };
    expect(config.production).toBe(true);
    expect(config.port).toBe(DEFAULT_PORTS[service]);
    // The management listener on the port the container declares, reachable by the kubelet and Prometheus.
    expect(config.management).toEqual({ host: '0.0.0.0', port: DEFAULT_MANAGEMENT_PORTS[service] });
    const annotations = (
      find(manifests, 'Deployment', service) as { spec: { template: { metadata: { annotations: Record<string, string> } } } }
    ).spec.template.metadata.annotations;
    expect(annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(DEFAULT_MANAGEMENT_PORTS[service]),
      'prometheus.io/path': '/metrics',
    });

    const serviceAt = (url: string) => {
      const { hostname, port } = new URL(url.includes('://') ? url : `tcp://${url}`);
      const target = find(manifests, 'Service', hostname) as { spec: { type?: string; ports: { port: number }[] } } | undefined;
      return target !== undefined && target.spec.ports.some((p) => p.port === Number(port));
    };
    expect(config.kafkaBrokers.length).toBeGreaterThan(0);
    for (const broker of config.kafkaBrokers) expect(serviceAt(broker)).toBe(true);
    expect(serviceAt(config.redisUrl!)).toBe(true);
    for (const url of Object.values(config.subgraphUrls)) expect(serviceAt(url)).toBe(true);
    if (service !== 'gateway') expect(serviceAt(config.databaseUrl!)).toBe(true);
    // The users service signs; everyone else verifies with its JWKS.
    if (service === 'users') expect(config.jwt.privateKeyPem).toBeDefined();
    else expect(config.jwt.jwksUrl).toBe(`http://users:${DEFAULT_PORTS.users}/.well-known/jwks.json`);
  });

  test.each(DEPLOYABLES)(
    '%s: reads the subgraph access keyring from the one shared Secret, and refuses to start without it',
    (service) => {
      const container = podTemplate(service).spec.containers[0]!;
      const keys = container.env?.find((variable) => variable.name === 'SUBGRAPH_AUTH_KEYS');
      expect(keys?.valueFrom?.secretKeyRef).toEqual({ name: 'subgraph-auth', key: 'keys' });
      const { env } = containerEnv(container);
      const access = (variables: Record<string, string>) =>
        (service === 'gateway' ? loadGatewayConfig(variables) : loadServiceConfig(service, variables))
          .subgraphAccess as SubgraphAccessConfig;
      const problemOf = (variables: Record<string, string>) => {
        try {
          loadSubgraphAccessKeys(access(variables));
          return undefined;
        } catch (error) {
          return error instanceof ConfigError ? error.message : String(error);
        }
      };
      // The example's placeholder is refused (nobody runs on a published key), and so is its absence.
      expect(problemOf(env)).toMatch(/^SUBGRAPH_AUTH_KEYS: /);
      const { SUBGRAPH_AUTH_KEYS: _placeholder, ...without } = env;
      expect(problemOf(without)).toMatch(/^SUBGRAPH_AUTH_KEYS: required in production/);
      // A real keyring (as `openssl rand -base64 32` makes) is accepted.
      expect(problemOf({ ...env, SUBGRAPH_AUTH_KEYS: `2026-12:${Buffer.alloc(32, 7).toString('base64')}` })).toBeUndefined();
    },
  );

  test('PostgreSQL, Redis and Kafka are external services with stable in-cluster names', () => {
    for (const name of ['postgres', 'redis', 'kafka']) {
      expect(find(deployed(), 'Service', name)).toMatchObject({ spec: { type: 'ExternalName' } });
    }
  });

  interface Peer {
    podSelector?: { matchLabels: Record<string, string> };
    namespaceSelector?: { matchLabels: Record<string, string> };
  }
  interface PolicyRule {
    from?: Peer[];
    ports?: { protocol?: string; port: string | number }[];
  }
  const policies = () =>
    deployed()
      .filter((manifest) => manifest.kind === 'NetworkPolicy')
      .map(
        (manifest) =>
          manifest.object as unknown as { spec: { podSelector: { matchLabels: Record<string, string> }; ingress: PolicyRule[] } },
      );
  const labelsOf = (service: Deployable) => podTemplate(service).metadata.labels;
  /** The ingress rules of every policy that selects the service's pods (policies add up). */
  const rulesFor = (service: Deployable) =>
    policies()
      .filter((policy) => selects(policy.spec.podSelector.matchLabels, labelsOf(service)))
      .flatMap((policy) => policy.spec.ingress);
  const portsOf = (rule: PolicyRule) => (rule.ports ?? []).map((port) => port.port);
  const MONITORING = { 'kubernetes.io/metadata.name': 'monitoring' };

  test('the network policy admits the gateway and Prometheus to the subgraphs, and leaves the gateway open', () => {
    const policy = find(deployed(), 'NetworkPolicy', 'subgraphs-from-the-graph-only') as {
      spec: { podSelector: { matchLabels: Record<string, string> }; ingress: PolicyRule[] };
    };
    for (const service of SERVICE_NAMES) expect(selects(policy.spec.podSelector.matchLabels, labelsOf(service))).toBe(true);
    expect(selects(policy.spec.podSelector.matchLabels, labelsOf('gateway'))).toBe(false);
    const admittedToGraph = policy.spec.ingress
      .filter((rule) => portsOf(rule).includes('http'))
      .flatMap((rule) => rule.from ?? [])
      .flatMap((peer) => (peer.podSelector ? [peer.podSelector.matchLabels] : []));
    expect(admittedToGraph.some((selector) => selects(selector, labelsOf('gateway')))).toBe(true);
    expect(admittedToGraph.some((selector) => selects(selector, labelsOf('orders')))).toBe(true); // orders asks the catalog
    // The gateway's graph port: some rule admits every source on it.
    expect(rulesFor('gateway').some((rule) => rule.from === undefined && portsOf(rule).includes('http'))).toBe(true);
  });

  test.each(DEPLOYABLES)('%s: only Prometheus (the monitoring namespace) is admitted to the management port', (service) => {
    const rules = rulesFor(service);
    expect(rules.length).toBeGreaterThan(0); // selected by some policy, so what no rule admits is refused
    for (const rule of rules) {
      // A rule without ports admits every port; one without `from`, every source.
      const coversManagement = rule.ports === undefined || portsOf(rule).includes('management');
      if (!coversManagement) continue;
      expect(rule.from).toEqual([{ namespaceSelector: { matchLabels: MONITORING } }]);
      expect(portsOf(rule)).toEqual(['management']);
    }
    expect(rules.some((rule) => portsOf(rule).includes('management'))).toBe(true);
    // Nothing names the management port by number instead of by name, and no rule admits it to the graph's peers.
    expect(rules.flatMap(portsOf).every((port) => port === 'http' || port === 'management')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------
// docker-compose.yml

describe('docker-compose.yml', () => {
  const compose = () =>
    readYaml('docker-compose.yml') as {
      services: Record<
        string,
        { build?: { args?: { SERVICE?: string } }; environment?: Record<string, unknown>; ports?: string[] }
      >;
    };

  test('validates against the Compose Specification schema', () => {
    const schemaFile = path.join(
      path.dirname(repoPath('node_modules', 'dclint', 'package.json')),
      'schemas',
      'compose.schema.json',
    );
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Json;
    // The schema names draft-07 by its https URL, which Ajv knows under the http one.
    expect(schema.$schema).toMatch(/json-schema\.org\/draft-07\/schema/);
    const validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile({
      ...schema,
      $schema: 'http://json-schema.org/draft-07/schema#',
    });
    const valid = validate(compose());
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // The schema really is strict about unknown keys.
    expect(validate({ services: { gateway: { image: 'x', enviroment: {} } } })).toBe(false);
  });

  test.each(DEPLOYABLES)(
    '%s: its environment loads, every variable is read and documented, every required one is set',
    async (service) => {
      const definition = Object.values(compose().services).find((s) => s.build?.args?.SERVICE === service);
      expect(definition).toBeDefined();
      // Compose interpolation: ${VAR:-default} gives the default, a required ${VAR:?...} a placeholder.
      const interpolate = (value: unknown) =>
        String(value).replace(/\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (_all, _name, operator, rest) =>
          operator === '-' ? rest : 'placeholder',
        );
      const env = Object.fromEntries(
        Object.entries(definition!.environment ?? {}).map(([key, value]) => [key, interpolate(value)]),
      );
      const loaders = await loadersOf(service);
      for (const loader of loaders) expect(() => loader(env)).not.toThrow();
      // PORT_FOR_HEALTH is the Dockerfile HEALTHCHECK's, not the service's: the management port, where /health is.
      const healthcheck = readText('Dockerfile').match(/^HEALTHCHECK .*$/m)?.[0] ?? '';
      expect(healthcheck).toContain(`(process.env.PORT_FOR_HEALTH||${DEFAULT_MANAGEMENT_PORTS.gateway})+'/health'`);
      expect(Number(env.PORT_FOR_HEALTH)).toBe(DEFAULT_MANAGEMENT_PORTS[service]);
      const config = (service === 'gateway' ? loadGatewayConfig(env) : loadServiceConfig(service, env)) as {
        management: { port: number };
      };
      expect(config.management.port).toBe(DEFAULT_MANAGEMENT_PORTS[service]);
      // Published ports are the graph's only.
      expect(definition!.ports ?? []).not.toContainEqual(expect.stringContaining(String(DEFAULT_MANAGEMENT_PORTS[service])));
      const unread = Object.keys(env).filter((variable) => variable !== 'PORT_FOR_HEALTH' && !isRead(variable, env, loaders));
      expect(unread).toEqual([]);
      const documented = documentedVariables();
      expect(Object.keys(env).filter((variable) => variable !== 'PORT_FOR_HEALTH' && !documented.has(variable))).toEqual([]);
      expect(requiredVariables(service).filter((variable) => !(variable in env))).toEqual([]);
      expect(env.NODE_ENV).toBe('production');
      // The subgraph access keyring comes from the operator's environment, required (no default value).
      expect(definition!.environment?.SUBGRAPH_AUTH_KEYS).toMatch(/^\$\{SUBGRAPH_AUTH_KEYS:\?[^}]+\}$/);
    },
  );

  test('every address in an environment value names a service this file defines', () => {
    const services = compose().services;
    const hosts = Object.entries(services).flatMap(([name, definition]) =>
      Object.entries(definition.environment ?? {}).flatMap(([variable, value]) =>
        [...String(value).matchAll(/[a-z][a-z0-9+.-]*:\/\/(?:[^@/\s}]*@)?([A-Za-z0-9.-]+)(?::\d+)?/g)].map((m) => ({
          where: `${name}.${variable}`,
          host: m[1]!,
        })),
      ),
    );
    expect(hosts.length).toBeGreaterThan(10);
    expect(hosts.filter(({ host }) => !(host in services))).toEqual([]);
  });

  test('the graph is published on an explicit interface only', () => {
    for (const [name, definition] of Object.entries(compose().services))
      for (const port of definition.ports ?? [])
        expect({ name, port }).toEqual({ name, port: expect.stringMatching(/^(\d{1,3}\.){3}\d{1,3}:\d+:\d+$/) });
  });

  test('dclint reports no errors', () => {
    const result = spawnSync(
      process.execPath,
      [repoPath('node_modules', 'dclint', 'bin', 'dclint.cjs'), '--quiet', repoPath('docker-compose.yml')],
      {
        encoding: 'utf8',
      },
    );
    expect({ status: result.status, output: `${result.stdout}${result.stderr}`.trim() }).toEqual({ status: 0, output: '' });
  });
});

// ---------------------------------------------------------------------------------------------------------
// GitHub Actions

describe('.github/workflows/ci.yml', () => {
  const WORKFLOW = '.github/workflows/ci.yml';
  interface Step {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
  }
  interface Job {
    services?: Record<string, { image: string; ports?: string[] }>;
    steps: Step[];
    strategy?: { matrix?: Record<string, unknown> };
  }
  const jobs = () => (readYaml(WORKFLOW) as { jobs: Record<string, Job> }).jobs;

  test('is a valid workflow for the Actions workflow schema', async () => {
    const content = readText(WORKFLOW);
    const parsed = parseWorkflow({ name: WORKFLOW, content }, new NoOperationTraceWriter());
    expect(parsed.context.errors.getErrors().map((error) => error.message)).toEqual([]);
    const template = await convertWorkflowTemplate(parsed.context, parsed.value!);
    expect((template.errors ?? []).map((error) => (error as { Message?: string }).Message)).toEqual([]);
    expect(template.jobs.length).toBe(Object.keys(jobs()).length);
  });

  test('runs .ci/run with PostgreSQL 15, Redis 7, Java 17 (Kafka) and Node 20', () => {
    const ci = Object.values(jobs()).find((job) => job.steps.some((step) => step.run?.trim() === 'bash .ci/run'));
    expect(ci).toBeDefined();
    expect(ci!.services?.postgres).toMatchObject({ image: 'postgres:15', ports: ['5432:5432'] });
    expect(ci!.services?.redis).toMatchObject({ image: 'redis:7', ports: ['6379:6379'] });
    const using = (action: string) => ci!.steps.find((step) => step.uses?.startsWith(`${action}@`))?.with ?? {};
    expect(using('actions/setup-java')['java-version']).toBe('17');
    expect(String(using('actions/setup-node')['node-version'])).toMatch(/^20(\.|$)/);
    expect(readText('.ci/run')).toContain('ci/kafka/start.sh');
  });

  test('builds the image of every service from the root Dockerfile', () => {
    const images = Object.values(jobs()).find((job) =>
      job.steps.some((step) => step.uses?.startsWith('docker/build-push-action@')),
    );
    expect(images?.strategy?.matrix?.service).toEqual(DEPLOYABLES);
    const build = images!.steps.find((step) => step.uses?.startsWith('docker/build-push-action@'))!;
    expect(build.with).toMatchObject({ context: '.', file: 'Dockerfile', 'build-args': 'SERVICE=${{ matrix.service }}' });
    expect(readText('Dockerfile')).toMatch(/^ARG SERVICE$/m);
  });

  test('checks the alert rules with promtool on files that exist', () => {
    const commands = Object.values(jobs()).flatMap((job) => job.steps.flatMap((step) => (step.run ?? '').split('\n')));
    const promtool = commands.filter((command) => command.trim().startsWith('promtool '));
    expect(promtool.some((command) => command.includes('test rules'))).toBe(true);
    for (const command of promtool)
      for (const file of command.match(/ops\/\S+/g) ?? []) expect(existsSync(repoPath(file))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Prometheus rules and the Grafana dashboard

/** Series Prometheus writes itself (not scraped from the services). */
const PROMETHEUS_SERIES = new Set(['up', 'ALERTS', 'ALERTS_FOR_STATE']);

const scan = once(() => scanRegisteredMetrics(['packages', 'subgraphs', 'gateway']));

const seriesInCode = once(readSeriesInCode);
async function readSeriesInCode(): Promise<Set<string>> {
  const series = new Set(scan().metrics.flatMap(exposedSeries));
  // prom-client's default metrics (process_*, nodejs_*), as every service's registry collects them.
  const defaults = await createServiceMetrics('scan').registry.getMetricsAsJSON();
  for (const metric of defaults) {
    const type = String(metric.type); // a string at run time, whatever the typings say
    const kind = type === 'histogram' ? 'Histogram' : type === 'summary' ? 'Summary' : 'Gauge';
    for (const name of exposedSeries({ name: metric.name, kind })) series.add(name);
  }
  return series;
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rulesOf = (file: string) => (readYaml(file) as { groups: { name: string; rules: Rule[] }[] }).groups;
const ALERTS = 'ops/prometheus/alerts.yml';
const DASHBOARD = 'ops/grafana/commerce-graph.json';

describe('metrics registered in the code', () => {
  test('every metric construction names its metric in a way the scan can follow', () => {
    const { metrics, unresolved } = scan();
    expect(unresolved).toEqual([]);
    const names = metrics.map((metric) => metric.name);
    // Found through a literal, a helper's argument and a const respectively.
    expect(names).toEqual(
      expect.arrayContaining(['http_request_duration_seconds', 'outbox_published_total', 'events_dead_lettered_total']),
    );
  });
});

describe('Prometheus scrape configuration (ops/prometheus/prometheus.yml)', () => {
  test('scrapes the annotated pods on their management port, where /metrics is', () => {
    const config = readYaml('ops/prometheus/prometheus.yml') as {
      scrape_configs: {
        job_name: string;
        metrics_path?: string;
        relabel_configs: { source_labels?: string[]; action?: string; regex?: string; target_label?: string }[];
      }[];
    };
    expect(config.scrape_configs).toHaveLength(1);
    const [job] = config.scrape_configs;
    const keeps = job!.relabel_configs.filter((rule) => (rule.action ?? 'replace') === 'keep');
    expect(keeps).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], regex: 'true' }),
        // One target per pod, on the port the manifests name `management` (and serve /metrics on).
        expect.objectContaining({ source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'management' }),
      ]),
    );
    for (const service of DEPLOYABLES) {
      const ports = podTemplate(service).spec.containers[0]!.ports ?? [];
      expect(ports.find((port) => port.name === 'management')?.containerPort).toBe(DEFAULT_MANAGEMENT_PORTS[service]);
    }
  });
});

describe('Prometheus alert rules', () => {
  test('groups of rules with the fields alerting and the runbooks rely on', () => {
    const anchors = headingAnchors(readText('docs/operations.md'));
    const dashboardUid = (JSON.parse(readText(DASHBOARD)) as { uid: string }).uid;
    const groups = rulesOf(ALERTS);
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) {
      expect(group.rules.length).toBeGreaterThan(0);
      for (const rule of group.rules) {
        expect(rule.alert).toMatch(/^[A-Z][A-Za-z0-9]+$/);
        expect(typeof rule.expr).toBe('string');
        if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
        expect(['critical', 'warning']).toContain(rule.labels?.severity);
        expect(rule.annotations).toEqual(
          expect.objectContaining({ summary: expect.any(String), description: expect.any(String) }),
        );
        const [doc, anchor] = (rule.annotations?.runbook ?? '').split('#');
        expect({ alert: rule.alert, doc, anchorExists: anchors.has(anchor ?? '') }).toEqual({
          alert: rule.alert,
          doc: 'docs/operations.md',
          anchorExists: true,
        });
        if (rule.annotations?.dashboard) expect(rule.annotations.dashboard).toContain(`/d/${dashboardUid}/`);
      }
    }
  });

  test('alert names are unique, and no rule waits in a pending file', () => {
    const names = rulesOf(ALERTS).flatMap((group) => group.rules.map((rule) => rule.alert));
    expect(new Set(names).size).toBe(names.length);
    expect(listFiles('ops/prometheus', (file) => /\.ya?ml$/.test(file) && !file.includes('/tests/'))).toEqual([
      'ops/prometheus/alerts.yml',
      'ops/prometheus/prometheus.yml',
    ]);
  });

  test('active rules parse as PromQL and use only metrics the code registers', async () => {
    const known = await seriesInCode();
    const problems: string[] = [];
    for (const rule of rulesOf(ALERTS).flatMap((group) => group.rules)) {
      const { metrics, problems: syntax } = readPromql(rule.expr);
      problems.push(...syntax.map((problem) => `${rule.alert}: ${problem}`));
      expect(metrics.length).toBeGreaterThan(0);
      for (const metric of metrics)
        if (!known.has(metric) && !PROMETHEUS_SERIES.has(metric))
          problems.push(`${rule.alert}: ${metric} is not registered in the code`);
    }
    expect(problems).toEqual([]);
  });

  test('every metric an alert uses is in the metrics table of docs/operations.md', () => {
    const table = readText('docs/operations.md').split('## Metrics')[1]!.split('\n## ')[0]!;
    const documented = new Set([...table.matchAll(/`([a-z_:][a-z0-9_:]*)`/g)].map((match) => match[1]!));
    const undocumented = rulesOf(ALERTS)
      .flatMap((group) => group.rules)
      .flatMap((rule) => readPromql(rule.expr).metrics.map((metric) => ({ alert: rule.alert, metric })))
      .filter(({ metric }) => !PROMETHEUS_SERIES.has(metric) && !documented.has(metric.replace(/_(bucket|sum|count)$/, '')))
      .filter(({ metric }) => !/^(process|nodejs)_/.test(metric)); // prom-client defaults: `process_*`, `nodejs_*`
    expect(undocumented).toEqual([]);
  });

  test('the promtool unit tests make every active alert fire at least once', () => {
    const tests = readYaml('ops/prometheus/tests/alerts.test.yml') as {
      rule_files: string[];
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    expect(tests.rule_files).toEqual(['../alerts.yml']);
    const firing = new Set(
      tests.tests.flatMap((t) => t.alert_rule_test.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname)),
    );
    const alerts = rulesOf(ALERTS).flatMap((group) => group.rules.map((rule) => rule.alert));
    expect(alerts.filter((alert) => !firing.has(alert))).toEqual([]);
  });

  test('the PromQL reader notices syntax errors and unknown names', async () => {
    expect(readPromql('sum(rate(http_request_duration_seconds_count[5m]) / ').problems.length).toBeGreaterThan(0);
    expect(readPromql('max by (service) (outbox_oldest_event_age_seconds) > 120').metrics).toEqual([
      'outbox_oldest_event_age_seconds',
    ]);
    expect((await seriesInCode()).has('http_requests_total')).toBe(false);
  });
});

describe('Grafana dashboard (ops/grafana/commerce-graph.json)', () => {
  interface Panel {
    id: number;
    type: string;
    title: string;
    gridPos: { h: number; w: number; x: number; y: number };
    datasource?: { uid?: string };
    targets?: { expr?: string; refId: string }[];
  }
  const dashboard = () =>
    JSON.parse(readText(DASHBOARD)) as {
      uid: string;
      title: string;
      panels: Panel[];
      templating: { list: { name: string; type: string; query?: unknown; definition?: string }[] };
      annotations: { list: { expr?: string }[] };
    };

  test('is a dashboard with unique panel ids on a 24-column grid without overlaps', () => {
    const { uid, title, panels } = dashboard();
    expect(uid).toBe('commerce-graph');
    expect(title).toBeTruthy();
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const [i, a] of panels.entries()) {
      expect(a.gridPos.x + a.gridPos.w).toBeLessThanOrEqual(24);
      for (const b of panels.slice(i + 1)) {
        const overlap =
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h;
        expect({ a: a.title, b: b.title, overlap }).toEqual({ a: a.title, b: b.title, overlap: false });
      }
    }
  });

  test('every panel queries the chosen Prometheus data source', () => {
    const { panels, templating } = dashboard();
    expect(templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid).toBe('${datasource}');
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets!) expect(target.expr).toBeTruthy();
    }
  });

  test('every query parses as PromQL and uses only metrics the code registers', async () => {
    const known = await seriesInCode();
    const { panels, templating, annotations } = dashboard();
    const queries = [
      ...panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: panel.title, expr: target.expr! }))),
      ...annotations.list.filter((a) => a.expr).map((a) => ({ where: 'annotation', expr: a.expr! })),
    ];
    const problems: string[] = [];
    for (const { where, expr } of queries) {
      const reading = readPromql(withoutGrafanaVariables(expr));
      problems.push(...reading.problems.map((problem) => `${where}: ${problem}`));
      if (reading.metrics.length === 0) problems.push(`${where}: selects no metric`);
      for (const metric of reading.metrics)
        if (!known.has(metric) && !PROMETHEUS_SERIES.has(metric))
          problems.push(`${where}: ${metric} is not registered in the code`);
    }
    // Template variables use Grafana's label_values(metric, label).
    for (const variable of templating.list.filter((v) => v.type === 'query')) {
      const metric = /label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,/.exec(variable.definition ?? '')?.[1];
      if (!metric || !known.has(metric)) problems.push(`variable ${variable.name}: ${variable.definition}`);
    }
    expect(problems).toEqual([]);
  });
});
