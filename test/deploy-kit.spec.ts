import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { loadConfig } from '../src/config/load-config';
import { FILE_SECRETS } from '../src/config/secret-settings';
import { variablesTheConfigurationReads } from './support/config-variables';
import { freePort } from '../src/http/free-port';
import { isRecord } from '../src/http/is-record';
import { kustomize, yamlDocuments, type Tree } from './support/kustomize';
import { startTestApp } from './support/start-app';
import { tempDir } from './support/temp-dir';

/**
 * The deploy kit (compose.yaml, deploy/) checked without Docker or Kubernetes: every YAML file
 * parses, sets only variables the configuration reads, and points probes, ports, secrets and
 * proxies at what the app and the other files really have.
 */
const ROOT = join(__dirname, '..');
const CONFIG_DIR = join(ROOT, 'config');

const tree = (v: unknown): Tree => (isRecord(v) ? v : {});
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

const KIT_FILES = [join(ROOT, 'compose.yaml'), ...yamlFiles(join(ROOT, 'deploy'))];
const parsed = new Map(KIT_FILES.map((file) => [relative(ROOT, file), yamlDocuments(file)]));

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
        'deploy/compose/oidc.yaml',
        'deploy/kubernetes/base/deployment.yaml',
        'deploy/kubernetes/base/service.yaml',
        'deploy/kubernetes/base/pdb.yaml',
        'deploy/kubernetes/base/hpa.yaml',
        'deploy/kubernetes/base/networkpolicy.yaml',
        'deploy/kubernetes/base/kustomization.yaml',
        'deploy/kubernetes/overlays/staging/kustomization.yaml',
        'deploy/kubernetes/overlays/production/kustomization.yaml',
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

/** Each environment's overlay, rendered as `kubectl kustomize` would (test/support/kustomize.ts). */
const OVERLAYS = readdirSync(join(ROOT, 'deploy/kubernetes/overlays'));
const rendered = new Map(
  OVERLAYS.map((o) => [o, kustomize(join(ROOT, 'deploy/kubernetes/overlays', o))]),
);

/** What the Deployment's container is given: variables, and the files its Secret volume mounts. */
function podInputs(deployment: Tree) {
  const pod = tree(tree(tree(deployment.spec).template).spec);
  const container = containersOf(deployment)[0] as Tree;
  const env = Object.fromEntries(
    containerEnv(container).map((e) => [String(e.name), scalar(e.value)]),
  );
  /** The Secret key mounted at a path, with the Secret's name. */
  const secretAt = (path: string): { secret: unknown; key: unknown } | undefined => {
    const mount = list(container.volumeMounts)
      .map(tree)
      .find((m) => m.mountPath === posix.dirname(path));
    if (mount?.readOnly !== true) return undefined;
    const secret = tree(
      tree(
        list(pod.volumes)
          .map(tree)
          .find((v) => v.name === mount.name),
      ).secret,
    );
    const item = list(secret.items)
      .map(tree)
      .find((i) => i.path === posix.basename(path));
    return item ? { secret: secret.secretName, key: item.key } : undefined;
  };
  return { pod, container, env, secretAt };
}

describe('deploy kit: Kubernetes, base and overlays', () => {
  const base = join(ROOT, 'deploy/kubernetes/base');

  it('has a staging and a production overlay', () => {
    expect(OVERLAYS.sort()).toEqual(['production', 'staging']);
  });

  it.each(['base', ...OVERLAYS.map((o) => `overlays/${o}`)])(
    'uses every file of %s, as a resource or a patch',
    (dir) => {
      const path = join(ROOT, 'deploy/kubernetes', dir);
      const [k = {}] = parsed.get(`deploy/kubernetes/${dir}/kustomization.yaml`) ?? [];
      const used = [
        ...list(k.resources).map(String),
        ...list(k.patches).map((p) => String(tree(p).path)),
      ];
      const files = readdirSync(path).filter(
        (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
      );
      expect(used.filter((u) => !u.startsWith('../')).sort()).toEqual(files.sort());
      if (dir !== 'base') expect(used).toContain('../../base');
    },
  );

  it('leaves APP_ENV, PUBLIC_URL, the image and the Secret to the overlays', () => {
    const deployment = kustomize(base).find((d) => d.kind === 'Deployment') as Tree;
    const { env, container } = podInputs(deployment);
    expect(env.APP_ENV).toBeUndefined();
    expect(env.PUBLIC_URL).toBeUndefined();
    expect(container.image).toBe('gather-bff');
  });

  it('gives each environment its own Secret, and so its own key', () => {
    const secretNames = OVERLAYS.map((o) => {
      const deployment = (rendered.get(o) ?? []).find((d) => d.kind === 'Deployment') as Tree;
      return podInputs(deployment).secretAt(podInputs(deployment).env.GATHER_API_KEY_FILE ?? '')
        ?.secret;
    });
    expect(secretNames).toEqual(OVERLAYS.map((o) => `gather-bff-${o}`));
    expect(new Set(secretNames).size).toBe(OVERLAYS.length);
  });
});

describe.each(OVERLAYS)('deploy kit: Kubernetes, the %s overlay as rendered', (overlay) => {
  const docs = rendered.get(overlay) ?? [];
  const ofKind = (kind: string): Tree => {
    const found = docs.filter((d) => d.kind === kind);
    expect(found).toHaveLength(1);
    return found[0] as Tree;
  };
  const deployment = ofKind('Deployment');
  const { pod, container, env, secretAt } = podInputs(deployment);
  const app = appSettings(env);
  const portNamed = (name: unknown): number | undefined =>
    typeof name === 'number'
      ? name
      : (list(container.ports)
          .map(tree)
          .find((p) => p.name === name)?.containerPort as number | undefined);
  const probe = (which: string) => tree(tree(container[which]).httpGet);
  const labels = tree(tree(tree(deployment.spec).template).metadata).labels;

  it('uses the API versions the kinds have today', () => {
    const versions = Object.fromEntries(docs.map((d) => [String(d.kind), d.apiVersion]));
    expect(versions).toEqual({
      Deployment: 'apps/v1',
      Service: 'v1',
      PodDisruptionBudget: 'policy/v1',
      HorizontalPodAutoscaler: 'autoscaling/v2',
      NetworkPolicy: 'networking.k8s.io/v1',
      Ingress: 'networking.k8s.io/v1',
    });
  });

  it(`puts everything in the gather-${overlay} namespace`, () => {
    expect(docs.map((d) => tree(d.metadata).namespace)).toEqual(
      docs.map(() => `gather-${overlay}`),
    );
  });

  it("runs a pinned release of the image, with the environment's APP_ENV and settings file", () => {
    expect(container.image).toMatch(
      /^registry\.example\.com\/gather-bff(:\d+\.\d+\.\d+|@sha256:[0-9a-f]{64})$/,
    );
    expect(env.APP_ENV).toBe(overlay);
    expect(existsSync(join(CONFIG_DIR, `${overlay}.yaml`))).toBe(true);
  });

  it('sets only variables the configuration reads, each accepted by it', async () => {
    expect(Object.keys(env).filter((name) => !known(name))).toEqual([]);
    // The secrets as the Secret volume would hold them; loadConfig reads every *_FILE but the key's.
    const dir = await tempDir('deploy-kit-');
    const files: Record<string, string> = {
      session_secret: 'Zq3v9N1xK8pW2mR7tY4bL6cH0dF5gJ3s',
      redis_url: 'rediss://:password@redis.internal:6380/0',
      admin_token: 'Ad9v9N1xK8pW2mR7tY4bL6cH0dF5gJ3s',
      gather_api_key: 'qapi_deployKitCheck0123456789',
    };
    const local: Record<string, string> = { ...env };
    for (const [name, value] of Object.entries(env).filter(([n]) => n.endsWith('_FILE'))) {
      const key = String(secretAt(value)?.key);
      await writeFile(join(dir, key), `${files[key] ?? ''}\n`);
      local[name] = join(dir, key);
    }
    const config = loadConfig(local, CONFIG_DIR);
    expect(config.appEnv).toBe(overlay);
    expect(config.session.redisUrl).toBe(files.redis_url);
    expect(config.metrics.adminToken).toBe(files.admin_token);
  });

  it('mounts every secret from the Secret, as a file where its *_FILE variable points', () => {
    const fileVariables = Object.entries(env).filter(([name]) => name.endsWith('_FILE'));
    expect(fileVariables.map(([name]) => name).sort()).toEqual([
      'ADMIN_TOKEN_FILE',
      'GATHER_API_KEY_FILE',
      'REDIS_URL_FILE',
      'SESSION_SECRET_FILE',
    ]);
    for (const [, path] of fileVariables) {
      expect(secretAt(path)?.secret).toBe(`gather-bff-${overlay}`);
    }
    // No secret as a variable: `kubectl describe pod` and /proc/<pid>/environ show none.
    expect(containerEnv(container).filter((e) => e.valueFrom !== undefined)).toEqual([]);
  });

  it("serves PUBLIC_URL's host through the Ingress, one hop as TRUST_PROXY says", () => {
    const ingress = tree(ofKind('Ingress').spec);
    const publicUrl = new URL(env.PUBLIC_URL ?? '');
    expect(publicUrl.protocol).toBe('https:');
    const rules = list(ingress.rules).map(tree);
    expect(rules.map((r) => r.host)).toEqual([publicUrl.host]);
    expect(list(ingress.tls).flatMap((t) => list(tree(t).hosts))).toEqual([publicUrl.host]);
    // The controller is the one proxy in front: it alone is believed about the client.
    expect(env.TRUST_PROXY).toBe('1');
    const service = ofKind('Service');
    const paths = list(tree(rules[0]?.http).paths).map(tree);
    expect(paths.map((p) => p.path)).toEqual(['/auth/', '/api/']);
    for (const path of paths) {
      const backend = tree(tree(path.backend).service);
      expect(backend.name).toBe(tree(service.metadata).name);
      const port = list(tree(service.spec).ports)
        .map(tree)
        .find((p) => p.name === tree(backend.port).name);
      expect(portNamed(port?.targetPort)).toBe(app.port);
    }
  });

  it('lets only the monitoring namespace reach the metrics port, and the ingress controller the public one', () => {
    const policy = tree(ofKind('NetworkPolicy').spec);
    expect(tree(policy.podSelector).matchLabels).toEqual(labels);
    expect(policy.policyTypes).toEqual(['Ingress']);
    const allowed = list(policy.ingress)
      .map(tree)
      .map((rule) => ({
        from: list(rule.from).map((f) => tree(tree(tree(f).namespaceSelector).matchLabels)),
        ports: list(rule.ports).map((p) => portNamed(tree(p).port)),
      }));
    expect(allowed).toEqual([
      { from: [{ 'kubernetes.io/metadata.name': 'ingress-nginx' }], ports: [app.port] },
      { from: [{ 'kubernetes.io/metadata.name': 'monitoring' }], ports: [app.metricsPort] },
    ]);
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

  it('selects the Deployment’s pods from the Service and the PDB, and scales it from the HPA', () => {
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

  it.each(['compose.yaml', 'deploy/compose/oidc.yaml'])(
    '%s gives each replica its secrets as compose secret files, per environment',
    (file) => {
      const doc = (parsed.get(file) ?? [])[0] as Tree;
      const secrets = tree(doc.secrets);
      const replicas = Object.entries(tree(doc.services)).filter(([name]) => /^bff-/.test(name));
      expect(replicas.map(([name]) => name)).toEqual(['bff-a', 'bff-b']);
      for (const [, service] of replicas) {
        const env = composeEnv(tree(service));
        const files = Object.entries(env).filter(([name]) => name.endsWith('_FILE'));
        expect(files.length).toBeGreaterThan(0);
        for (const [, path] of files) {
          expect(path).toMatch(/^\/run\/secrets\/[a-z_]+$/);
          const name = posix.basename(path);
          expect(list(tree(service).secrets)).toContain(name);
          expect(String(tree(secrets[name]).file)).toBe(
            `./deploy/compose/secrets/\${APP_ENV:-staging}/${name}`,
          );
        }
        // No secret as a variable or from an env file: `docker inspect` shows none. (The stack's
        // own Redis has no password, so its REDIS_URL holds none.)
        const asVariables = FILE_SECRETS.filter((name) => env[name] !== undefined);
        expect(asVariables.filter((name) => name !== 'REDIS_URL')).toEqual([]);
        if (env.REDIS_URL !== undefined) expect(new URL(env.REDIS_URL).password).toBe('');
        expect(tree(service).env_file).toBeUndefined();
      }
      // Never committed: the folder the secrets live in is ignored.
      expect(readFileSync(join(ROOT, 'deploy/compose/.gitignore'), 'utf8')).toMatch(
        /^\/secrets\/$/m,
      );
    },
  );

  it('mounts the key and the session secret in the base file', () => {
    for (const [, service] of bffs) {
      expect(Object.keys(composeEnv(tree(service)))).toEqual(
        expect.arrayContaining(['GATHER_API_KEY_FILE', 'SESSION_SECRET_FILE']),
      );
    }
  });

  it('runs exact versions of its images, as the Dockerfile does', () => {
    const exact = /:\d+\.\d+\.\d+(-[a-z]+)?(@sha256:[0-9a-f]{64})?$/;
    const images = Object.values(services)
      .map(tree)
      .filter((s) => s.build === undefined)
      .map((s) => String(s.image));
    expect(images).toHaveLength(2);
    for (const image of images) expect(image).toMatch(exact);
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const node = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    expect(node).toMatch(/^node:\d+\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual([
      '${NODE_IMAGE}',
      '${NODE_IMAGE}',
    ]);
    // The Node the tests run on is the one the image runs.
    expect(node.split(':')[1]?.split('-')[0]).toBe(process.versions.node);
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

/**
 * Debian's docker-compose (1.29) reads the files as an engine would, without one. Where it is not
 * installed (CI does not install it) the check is skipped: the tests above hold either way.
 */
const DOCKER_COMPOSE = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
const describeWithCompose = DOCKER_COMPOSE.status === 0 ? describe : describe.skip;

describeWithCompose('deploy kit: docker-compose config, where docker-compose is installed', () => {
  it.each([[['compose.yaml']], [['compose.yaml', 'deploy/compose/oidc.yaml']]])(
    'accepts %j',
    (files) => {
      const run = spawnSync(
        'docker-compose',
        [...files.flatMap((f) => ['-f', f]), 'config', '-q'],
        {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, OIDC_ISSUER_URL: 'https://id.example.com', OIDC_CLIENT_ID: 'bff' },
        },
      );
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
    },
  );
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
