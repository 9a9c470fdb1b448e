import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ENV_SETTINGS } from '../src/config/env-map';
import { loadConfig, type Env } from '../src/config/load-config';
import { freePort } from './support/free-port';
import { startTestApp } from './support/start-app';

/**
 * The deploy kit (compose.yaml, deploy/) checked without Docker or Kubernetes: every YAML file
 * parses, sets only variables the configuration reads, and points probes, ports, secrets and
 * proxies at what the app and the other files really have.
 */
const ROOT = join(__dirname, '..');
const CONFIG_DIR = join(ROOT, 'config');

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);
const tree = (v: unknown): Tree => (isTree(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** A YAML scalar as the environment would hold it; anything else (a valueFrom) as empty. */
const scalar = (v: unknown): string =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/** Every document of a file; a syntax error or duplicate key fails the test with the file's name. */
function documents(file: string): Tree[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? ''}`);
  }
  return list.map((doc) => tree(doc.toJS()));
}

const KIT_FILES = [join(ROOT, 'compose.yaml'), ...yamlFiles(join(ROOT, 'deploy'))];
const parsed = new Map(KIT_FILES.map((file) => [relative(ROOT, file), documents(file)]));

/**
 * What the configuration reads from the environment, asked of the code itself: the settings
 * table, and every name loadConfig looks up (APP_ENV, the key variables and their _FILE and
 * _REF forms) while loading a minimal configuration.
 */
function variablesTheConfigurationReads(): Set<string> {
  const read = new Set(ENV_SETTINGS.map((s) => s.env));
  const env: Env = {
    GATHER_API_KEY: 'qapi_deployKitCheck0123456789',
    SESSION_SECRET: 'Zq3v9N1xK8pW2mR7tY4bL6cH0dF5gJ3s',
  };
  const watched = new Proxy(env, {
    get(target, name, receiver) {
      if (typeof name === 'string') read.add(name);
      return Reflect.get(target, name, receiver) as unknown;
    },
  });
  loadConfig(watched, CONFIG_DIR);
  return read;
}
const KNOWN = variablesTheConfigurationReads();
/** The OpenTelemetry SDK reads its whole family (OTEL_EXPORTER_OTLP_HEADERS, ...) itself. */
const known = (name: string): boolean => KNOWN.has(name) || name.startsWith('OTEL_');

/** compose `environment:` as a map, either of its two forms. */
function composeEnv(service: Tree): Record<string, string> {
  const env = service.environment;
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const [name, ...value] = String(entry).split('=');
        return [name as string, value.join('=')];
      }),
    );
  }
  return Object.fromEntries(Object.entries(tree(env)).map(([k, v]) => [k, scalar(v)]));
}

/** Every `containers` / `initContainers` entry of a Kubernetes document. */
function containersOf(doc: Tree): Tree[] {
  const pod = tree(tree(tree(doc.spec).template).spec);
  return [...list(pod.containers), ...list(pod.initContainers)].map(tree);
}

const containerEnv = (container: Tree): Tree[] => list(container.env).map(tree);

/** The value of `${VAR:-default}` as compose would interpolate it with VAR unset. */
const withDefaults = (s: string): string =>
  s.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').replace(/\$\{[A-Z_]+\}/g, '');

/** What the app itself takes: the defaults loadConfig gives the environment a file sets. */
function appSettings(env: Record<string, string>) {
  const config = loadConfig(
    {
      GATHER_API_KEY: 'qapi_deployKitCheck0123456789',
      SESSION_SECRET: 'Zq3v9N1xK8pW2mR7tY4bL6cH0dF5gJ3s',
      ...Object.fromEntries(
        Object.entries(env).filter(([k]) => /^(APP_ENV|PORT|METRICS_PORT|SHUTDOWN_GRACE_)/.test(k)),
      ),
    },
    CONFIG_DIR,
  );
  return {
    port: config.server.port,
    metricsPort: config.metrics.port,
    graceSeconds: config.server.shutdownGraceSeconds,
  };
}

describe('deploy kit: every YAML file', () => {
  it('is found and parses (compose.yaml and everything under deploy/)', () => {
    expect([...parsed.keys()]).toEqual(
      expect.arrayContaining([
        'compose.yaml',
        'deploy/kubernetes/deployment.yaml',
        'deploy/kubernetes/service.yaml',
        'deploy/kubernetes/pdb.yaml',
        'deploy/kubernetes/hpa.yaml',
        'deploy/kubernetes/kustomization.yaml',
      ]),
    );
  });

  it('reads the known variables from the code, the contract’s among them', () => {
    for (const name of [
      'APP_ENV',
      'GATHER_API_KEY',
      'GATHER_API_KEY_FILE',
      'GATHER_API_KEY_REF',
      'REDIS_URL',
      'REDIS_SENTINELS',
      'REDIS_SENTINEL_MASTER',
      'REDIS_CLUSTER_NODES',
      'REDIS_PASSWORD',
      'SHUTDOWN_GRACE_SECONDS',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_SERVICE_NAME',
    ]) {
      expect(known(name)).toBe(true);
    }
    expect(known('GATHER_API_KEY_PATH')).toBe(false);
  });

  it.each([...parsed.keys()])('%s sets only variables the configuration reads', (file) => {
    const names: string[] = [];
    for (const doc of parsed.get(file) ?? []) {
      for (const service of Object.values(tree(doc.services)).map(tree)) {
        names.push(...Object.keys(composeEnv(service)));
      }
      for (const container of containersOf(doc)) {
        names.push(...containerEnv(container).map((e) => String(e.name)));
      }
    }
    expect(names.filter((name) => !known(name))).toEqual([]);
  });

  it('holds no key or secret value', () => {
    for (const file of KIT_FILES) {
      const text = readFileSync(file, 'utf8');
      expect(text).not.toMatch(/qapi_[A-Za-z0-9_-]{8,}/);
      expect(text).not.toMatch(/SESSION_SECRET\s*[:=]\s*['"]?[A-Za-z0-9]{16,}/);
    }
  });
});

describe('deploy kit: Kubernetes', () => {
  const docs = [...parsed.entries()]
    .filter(([file]) => file.startsWith('deploy/kubernetes/'))
    .flatMap(([, d]) => d);
  const ofKind = (kind: string): Tree => {
    const found = docs.filter((d) => d.kind === kind);
    expect(found).toHaveLength(1);
    return found[0] as Tree;
  };
  const deployment = ofKind('Deployment');
  const pod = tree(tree(tree(deployment.spec).template).spec);
  const container = containersOf(deployment)[0] as Tree;
  const env = Object.fromEntries(
    containerEnv(container).map((e) => [String(e.name), scalar(e.value)]),
  );
  const app = appSettings(env);
  const portNamed = (name: unknown): number | undefined =>
    typeof name === 'number'
      ? name
      : (list(container.ports)
          .map(tree)
          .find((p) => p.name === name)?.containerPort as number | undefined);
  const probe = (which: string) => tree(tree(container[which]).httpGet);

  it('uses the API versions the kinds have today', () => {
    const versions = Object.fromEntries(docs.map((d) => [String(d.kind), d.apiVersion]));
    expect(versions).toEqual({
      Kustomization: 'kustomize.config.k8s.io/v1beta1',
      Deployment: 'apps/v1',
      Service: 'v1',
      PodDisruptionBudget: 'policy/v1',
      HorizontalPodAutoscaler: 'autoscaling/v2',
    });
  });

  it('lists every manifest in kustomization.yaml', () => {
    const resources = list(ofKind('Kustomization').resources).map(String).sort();
    const manifests = [...parsed.keys()]
      .filter((f) => f.startsWith('deploy/kubernetes/') && !f.endsWith('kustomization.yaml'))
      .map((f) => posix.basename(f))
      .sort();
    expect(resources).toEqual(manifests);
  });

  it("probes /healthz and /readyz on the app's port, and exposes the metrics port", async () => {
    expect(portNamed('http')).toBe(app.port);
    expect(portNamed('metrics')).toBe(app.metricsPort);
    expect(probe('livenessProbe')).toEqual({ path: '/healthz', port: 'http' });
    expect(probe('startupProbe')).toEqual({ path: '/healthz', port: 'http' });
    expect(probe('readinessProbe')).toEqual({ path: '/readyz', port: 'http' });
    const annotations = tree(tree(tree(tree(deployment.spec).template).metadata).annotations);
    expect(Number(annotations['prometheus.io/port'])).toBe(app.metricsPort);

    // The paths answer 200 on the real app: probes on the public port, metrics on its own.
    const metricsPort = await freePort();
    const t = await startTestApp({ METRICS_PORT: String(metricsPort) });
    try {
      for (const path of [probe('livenessProbe').path, probe('readinessProbe').path]) {
        expect((await fetch(`${t.url}${String(path)}`)).status).toBe(200);
      }
      const metricsPath = String(annotations['prometheus.io/path']);
      expect((await fetch(`http://127.0.0.1:${metricsPort}${metricsPath}`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('gives the drain its time: termination grace > preStop + SHUTDOWN_GRACE_SECONDS', () => {
    const command = list(tree(tree(tree(container.lifecycle).preStop).exec).command).map(String);
    expect(command[0]).toBe('sleep');
    const preStop = Number(command[1]);
    expect(preStop).toBeGreaterThan(0);
    expect(Number(pod.terminationGracePeriodSeconds)).toBeGreaterThan(preStop + app.graceSeconds);
  });

  it('requests and limits memory (256Mi / 512Mi)', () => {
    const resources = tree(container.resources);
    expect(tree(resources.requests).memory).toBe('256Mi');
    expect(tree(resources.limits).memory).toBe('512Mi');
  });

  it('mounts the key from a Secret where GATHER_API_KEY_FILE points', () => {
    const file = env.GATHER_API_KEY_FILE as string;
    const mount = list(container.volumeMounts)
      .map(tree)
      .find((m) => m.mountPath === posix.dirname(file));
    expect(mount?.readOnly).toBe(true);
    const volume = tree(
      list(pod.volumes)
        .map(tree)
        .find((v) => v.name === mount?.name),
    );
    const items = list(tree(volume.secret).items).map(tree);
    expect(items.map((i) => i.path)).toContain(posix.basename(file));
  });

  it('selects the Deployment’s pods from the Service and the PDB, and scales it from the HPA', () => {
    const labels = tree(tree(tree(deployment.spec).template).metadata).labels;
    expect(tree(tree(deployment.spec).selector).matchLabels).toEqual(labels);
    const service = ofKind('Service');
    expect(tree(service.spec).selector).toEqual(labels);
    for (const port of list(tree(service.spec).ports).map(tree)) {
      expect(portNamed(port.targetPort)).toBe(app.port);
    }
    const pdb = ofKind('PodDisruptionBudget');
    expect(tree(tree(pdb.spec).selector).matchLabels).toEqual(labels);
    const hpa = tree(ofKind('HorizontalPodAutoscaler').spec);
    expect(hpa.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: tree(deployment.metadata).name,
    });
    // A drain must be able to evict one pod while the HPA keeps its minimum.
    expect(Number(tree(pdb.spec).minAvailable)).toBeLessThan(Number(hpa.minReplicas));
  });
});

describe('deploy kit: compose.yaml', () => {
  const compose = (parsed.get('compose.yaml') ?? [])[0] as Tree;
  const services = tree(compose.services);
  const bffs = Object.entries(services).filter(([, s]) => tree(s).build !== undefined);
  const nginx = readFileSync(join(ROOT, 'deploy/compose/nginx.conf'), 'utf8');

  it('builds two BFF replicas from the Dockerfile, on one Redis', () => {
    expect(bffs.map(([name]) => name)).toEqual(['bff-a', 'bff-b']);
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    for (const [, service] of bffs) {
      const env = composeEnv(tree(service));
      const host = new URL(env.REDIS_URL as string).hostname;
      expect(Object.keys(services)).toContain(host);
    }
  });

  it('gives each replica the key as a compose secret file, per environment', () => {
    const secrets = tree(compose.secrets);
    for (const [, service] of bffs) {
      const file = composeEnv(tree(service)).GATHER_API_KEY_FILE as string;
      expect(file).toMatch(/^\/run\/secrets\/[a-z_]+$/);
      const name = posix.basename(file);
      expect(list(tree(service).secrets)).toContain(name);
      expect(String(tree(secrets[name]).file)).toBe(
        './deploy/compose/secrets/${APP_ENV:-staging}/gather_api_key',
      );
    }
    // Never committed: the folder the secrets live in is ignored.
    expect(readFileSync(join(ROOT, 'deploy/compose/.gitignore'), 'utf8')).toMatch(/^\/secrets\/$/m);
  });

  it('stops a replica no sooner than its drain allows', () => {
    for (const [, service] of bffs) {
      const env = composeEnv(tree(service));
      const grace = appSettings({ ...env, APP_ENV: withDefaults(env.APP_ENV ?? '') }).graceSeconds;
      expect(String(tree(service).stop_grace_period)).toMatch(/^\d+s$/);
      expect(parseInt(String(tree(service).stop_grace_period), 10)).toBeGreaterThan(grace);
    }
  });

  it('routes /auth and /api through nginx to both replicas on the app’s port', () => {
    const upstream = /upstream (\w+) \{([^}]*)\}/.exec(nginx);
    expect(upstream).not.toBeNull();
    const servers = [...(upstream?.[2] ?? '').matchAll(/server ([\w-]+):(\d+);/g)];
    expect(servers.map((m) => m[1]).sort()).toEqual(bffs.map(([name]) => name).sort());
    for (const [, name, port] of servers) {
      const env = composeEnv(tree(services[name as string]));
      expect(Number(port)).toBe(appSettings({ APP_ENV: withDefaults(env.APP_ENV ?? '') }).port);
    }
    const location = /location ~ \^\/\(auth\|api\)\/ \{([^}]*)\}/.exec(nginx)?.[1] ?? '';
    expect(location).toContain(`proxy_pass http://${upstream?.[1] ?? ''};`);
    expect(location).toContain('proxy_set_header X-Forwarded-Proto $scheme;');
  });

  it('serves the files it mounts from the repository', () => {
    const proxy = Object.values(services)
      .map(tree)
      .find((s) => String(s.image).startsWith('nginx'));
    const mounts = list(proxy?.volumes).map((v) => String(v).split(':')[0] as string);
    expect(mounts).toEqual(['./deploy/compose/nginx.conf', './deploy/compose/frontend']);
    for (const path of mounts) expect(existsSync(join(ROOT, path))).toBe(true);
    expect(existsSync(join(ROOT, 'deploy/compose/frontend/index.html'))).toBe(true);
  });
});

describe('deploy kit: the start command', () => {
  /** The Dockerfile's `CMD`, as an argv. */
  const startCommand = (): string[] => {
    const cmd = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').match(/^CMD (\[.*\])$/m);
    return JSON.parse(cmd?.[1] ?? '[]') as string[];
  };

  it('is the same in the Dockerfile and `npm start`, with the garbage-collector settings', () => {
    const argv = startCommand();
    expect(argv).toEqual([
      'node',
      '--max-semi-space-size=8',
      '--no-allocation-site-pretenuring',
      'dist/main.js',
    ]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    // `exec`: npm's child is node itself, so a signal npm forwards reaches the service.
    expect(pkg.scripts.start).toBe(`exec ${argv.join(' ')}`);
  });

  it("uses only flags this Node accepts (V8's flags change between releases)", () => {
    const flags = startCommand().slice(1, -1);
    const run = spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
