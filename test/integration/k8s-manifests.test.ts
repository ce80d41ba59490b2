// The deploy manifests against the real service: every probe in deploy/k8s points at a route the
// built service answers with 200 on the port it listens on, the grace periods outlast the drain,
// and the containers run as the image's non-root user on a read-only root filesystem. Also keeps
// the Swarm stack's healthcheck in step with the Dockerfile's HEALTHCHECK.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig, shutdownBudgetWarning } from '../../src/config.js';
import { ROOT, startService, type ServiceProcess } from '../helpers/service-process.js';

/** Parsed YAML: shapes are checked by the assertions, not by types. */
type Yaml = Record<string, any>;

function readDocuments(relativePath: string): Yaml[] {
  const documents = parseAllDocuments(readFileSync(join(ROOT, relativePath), 'utf8'));
  return documents.map((document) => {
    assert.equal(document.errors.length, 0, `${relativePath}: ${document.errors.map((e) => e.message).join('; ')}`);
    return document.toJS() as Yaml;
  });
}

function findKind(documents: Yaml[], kind: string, file: string): Yaml {
  const found = documents.find((document) => document?.kind === kind);
  assert.ok(found, `${file} holds no ${kind}`);
  return found;
}

const deployment = findKind(readDocuments('deploy/k8s/deployment.yaml'), 'Deployment', 'deploy/k8s/deployment.yaml');
const service = findKind(readDocuments('deploy/k8s/service.yaml'), 'Service', 'deploy/k8s/service.yaml');
const podSpec: Yaml = deployment.spec.template.spec;
const container: Yaml = podSpec.containers.find((c: Yaml) => c.name === 'accountservice');
const containerEnv: Record<string, string> = Object.fromEntries(
  (container.env as Yaml[]).map((entry) => [entry.name as string, String(entry.value)]),
);
const PROBES = ['startupProbe', 'livenessProbe', 'readinessProbe'] as const;
/** Addresses that listen on every interface: what a scraper from outside the container needs. */
const WILDCARD_HOSTS = ['0.0.0.0', '::'];

/** A named or numbered container port, as a probe or a Service's targetPort gives it. */
function containerPort(port: string | number): number {
  if (typeof port === 'number') return port;
  const named = (container.ports as Yaml[]).find((p) => p.name === port);
  assert.ok(named, `no container port named ${port}`);
  return named.containerPort as number;
}

/** The image's HEALTHCHECK instruction, as the exec-form array Docker stores. */
function dockerfileHealthcheck(): { test: string[]; options: Record<string, string> } {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const match = /^HEALTHCHECK\s+(.*?)\s*CMD\s+(\[.*\])\s*$/m.exec(dockerfile);
  assert.ok(match, 'the Dockerfile has an exec-form HEALTHCHECK ... CMD [...]');
  const options = Object.fromEntries([...match[1]!.matchAll(/--([a-z-]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
  return { test: ['CMD', ...(JSON.parse(match[2]!) as string[])], options };
}

/**
 * Checks a grace period (seconds before SIGKILL) against the shutdown settings the service reads
 * from env, parsed by the service's own loader so its defaults apply: drain + timeout must fit,
 * and SHUTDOWN_GRACE_PERIOD_MS must tell the service the real grace period, so its start-up
 * budget check warns about the deployment as it is.
 */
function assertShutdownFits(env: Record<string, string>, graceSeconds: number, where: string): void {
  const { shutdown } = loadConfig(env);
  const neededSeconds = (shutdown.drainDelayMs + shutdown.timeoutMs) / 1000;
  assert.ok(
    graceSeconds > neededSeconds,
    `${where}: grace period ${graceSeconds} s > drain + timeout ${neededSeconds} s`,
  );
  assert.equal(shutdown.gracePeriodMs, graceSeconds * 1000, `${where}: SHUTDOWN_GRACE_PERIOD_MS is the grace period`);
  assert.equal(shutdownBudgetWarning(shutdown), undefined);
}

describe('kubernetes manifests', () => {
  let running: ServiceProcess | undefined;

  before(async () => {
    // The manifest's own environment, except where the test must differ: a free loopback port,
    // a database in a fresh temp dir (the helper's), and no drain delay to wait out when it stops.
    const { DB_PATH: _inTheVolume, ...env } = containerEnv;
    running = await startService({
      // METRICS_PORT: production's own metrics port (9100) is a fixed one; any free one here, on
      // loopback as HOST is (the manifest's METRICS_HOST is checked below, not bound here).
      env: {
        ...env,
        HOST: '127.0.0.1',
        PORT: '0',
        METRICS_PORT: '0',
        METRICS_HOST: '127.0.0.1',
        SHUTDOWN_DRAIN_DELAY_MS: '0',
        LOG_LEVEL: 'info',
      },
    });
  });

  after(async () => {
    await running?.stop('SIGTERM').catch(() => undefined);
    await running?.cleanup();
  });

  it('probes each health view the service serves, on the port it listens on', async () => {
    const expected = {
      startupProbe: '/health/started',
      livenessProbe: '/health/live',
      readinessProbe: '/health/ready',
    };
    for (const probe of PROBES) {
      const httpGet: Yaml | undefined = container[probe]?.httpGet;
      assert.ok(httpGet, `${probe} is an httpGet probe`);
      assert.equal(httpGet.path, expected[probe], `${probe} path`);
      assert.equal(
        containerPort(httpGet.port),
        Number(containerEnv.PORT),
        `${probe} targets the port PORT says the service listens on`,
      );

      const response = await fetch(`${running!.url}${httpGet.path}`, { signal: AbortSignal.timeout(5000) });
      assert.equal(
        response.status,
        200,
        `GET ${httpGet.path} (${probe}) answers 200 on a healthy service: ${await response.text()}`,
      );
    }
    // A path the service does not serve answers 404, so the 200s above mean something.
    const missing = await fetch(`${running!.url}/health/not-a-view`, { signal: AbortSignal.timeout(5000) });
    assert.equal(missing.status, 404);
  });

  it('Prometheus is pointed at the port the service serves /metrics on with this environment', () => {
    const annotations = deployment.spec.template.metadata.annotations as Record<string, string>;
    const { metrics } = loadConfig(containerEnv);
    assert.equal(metrics.port, 9100, 'production serves /metrics apart from the service port');
    assert.equal(Number(annotations['prometheus.io/port']), metrics.port);
    assert.equal(annotations['prometheus.io/path'], '/metrics');
    assert.equal(containerPort('metrics'), metrics.port);
  });

  it('the metrics port listens on the pod IP Prometheus scrapes, not on loopback alone', () => {
    const annotations = deployment.spec.template.metadata.annotations as Record<string, string>;
    assert.equal(annotations['prometheus.io/scrape'], 'true');
    const { metrics } = loadConfig(containerEnv);
    assert.ok(
      WILDCARD_HOSTS.includes(metrics.host),
      `METRICS_HOST is ${metrics.host}: Prometheus scrapes the pod IP, so it must be one of ${WILDCARD_HOSTS.join(', ')}`,
    );
  });

  it('the Service sends traffic to the container port the service listens on', () => {
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    const [port] = service.spec.ports as Yaml[];
    assert.ok(port);
    assert.equal(containerPort(port.targetPort), Number(containerEnv.PORT));
    assert.equal(port.port, 6767);
  });

  it('gives the service longer than its drain delay and shutdown timeout before SIGKILL', () => {
    assertShutdownFits(containerEnv, podSpec.terminationGracePeriodSeconds as number, 'terminationGracePeriodSeconds');
  });

  it('runs as the non-root user 65532 on a read-only root filesystem, with only /data writable', () => {
    const pod: Yaml = podSpec.securityContext;
    const own: Yaml = container.securityContext;
    assert.equal(pod.runAsNonRoot, true);
    assert.equal(own.runAsUser ?? pod.runAsUser, 65532);
    assert.equal(own.readOnlyRootFilesystem, true);
    assert.equal(own.allowPrivilegeEscalation, false);
    assert.deepEqual(own.capabilities?.drop, ['ALL']);
    for (const kind of ['requests', 'limits']) {
      assert.ok(container.resources?.[kind]?.memory, `resources.${kind}.memory is set`);
    }
    // The database directory must be a volume, or the read-only root makes the service exit.
    const dbDir = dirname(containerEnv.DB_PATH ?? '');
    const mount = (container.volumeMounts as Yaml[]).find((m) => m.mountPath === dbDir);
    assert.ok(mount, `DB_PATH's directory ${dbDir} is a volume mount`);
    assert.ok(
      (podSpec.volumes as Yaml[]).some((v) => v.name === mount.name),
      `volume ${mount.name} is declared`,
    );
  });

  it('matches the image: user 65532 and PORT 6767 in the Dockerfile too', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^USER 65532:65532$/m);
    assert.match(dockerfile, /\bPORT=6767\b/);
  });
});

describe('kubernetes storage', () => {
  it('writes only to per-pod emptyDir volumes: the surge pod of a rolling update gets its own', () => {
    assert.equal(deployment.spec.strategy.type, 'RollingUpdate');
    const volumes = new Map<string, Yaml>((podSpec.volumes as Yaml[]).map((volume) => [volume.name as string, volume]));
    const writable = (container.volumeMounts as Yaml[]).filter((mount) => mount.readOnly !== true);
    assert.ok(
      writable.some((mount) => mount.mountPath === '/data'),
      'the database directory is mounted',
    );
    for (const mount of writable) {
      const volume = volumes.get(mount.name as string);
      assert.ok(volume?.emptyDir, `${mount.mountPath} is an emptyDir, not a volume pods could share`);
    }
  });
});

describe('swarm stack', () => {
  const stack = parse(readFileSync(join(ROOT, 'deploy/swarm/stack.yml'), 'utf8')) as Yaml;
  const swarmService: Yaml = stack.services.accountservice;

  it('runs the same healthcheck as the Dockerfile HEALTHCHECK', () => {
    const { test, options } = dockerfileHealthcheck();
    assert.deepEqual(swarmService.healthcheck.test, test);
    assert.equal(swarmService.healthcheck.interval, options.interval);
    assert.equal(swarmService.healthcheck.timeout, options.timeout);
    assert.equal(String(swarmService.healthcheck.retries), options.retries);
    assert.equal(swarmService.healthcheck.start_period, options['start-period']);
    assert.ok(
      test.includes(`-port=${swarmService.environment.PORT}`),
      'the probe checks the port the service listens on',
    );
  });

  it('gives each task a /data of its own (an anonymous volume): two tasks never share an LMDB file', () => {
    // start-first updates and rollbacks run the old and the new task of a slot side by side.
    const mounts = (swarmService.volumes ?? []) as (Yaml | string)[];
    const data = mounts.filter(
      (mount) => (typeof mount === 'string' ? mount.split(':').at(-1) : mount.target) === '/data',
    );
    assert.equal(data.length, 1, 'one mount at /data');
    const mount = data[0]!;
    assert.ok(typeof mount !== 'string', 'the long syntax');
    assert.ok(['volume', 'tmpfs'].includes(mount.type as string), `a volume or tmpfs, not ${mount.type}`);
    // A named volume (or a bind) is one per node or slot, shared by the tasks that mount it.
    assert.equal(mount.source, undefined, 'no source: a fresh volume for each container');
    assert.equal(stack.volumes, undefined, 'no named volume a task could share');
  });

  it('keeps the metrics port on loopback unless something outside the task is meant to scrape it', () => {
    const environment = swarmService.environment as Record<string, string>;
    const { metrics } = loadConfig(environment);
    assert.equal(metrics.port, 9100, 'production serves /metrics apart from the service port');
    const published = ((swarmService.ports ?? []) as Yaml[]).some((port) => Number(port.target) === metrics.port);
    // Published, it would need a wildcard METRICS_HOST, or the scrape never connects.
    assert.equal(published, false, 'the metrics port is not published');
    assert.equal(metrics.host, '127.0.0.1', 'nothing in the stack scrapes /metrics: it stays on loopback');
  });

  it('waits longer than the drain delay and shutdown timeout before SIGKILL', () => {
    const grace = /^(\d+)s$/.exec(swarmService.stop_grace_period as string);
    assert.ok(grace, 'stop_grace_period is given in seconds');
    assertShutdownFits(swarmService.environment as Record<string, string>, Number(grace[1]), 'stop_grace_period');
  });
});
