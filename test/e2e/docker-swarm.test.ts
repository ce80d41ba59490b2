// The article's experiment on a real Docker engine: the built image's HEALTHCHECK (the probe in a
// distroless image) reports (healthy), turns (unhealthy) when /testability/healthy/false makes
// /health answer 503, and a Swarm service heals itself: the failing task is killed and a new
// container takes its place without anyone touching it.
//
// Also what an update does to storage: the old and the new container of a task side by side, each
// with the /data deploy/swarm/stack.yml gives a task; and how long healing takes with the stack's
// own healthcheck, restart and drain settings, phase by phase (scripts/healing-phases.ts).
//
// Needs an engine (deploy/docker/ensure-engine.sh starts one). Without one it is skipped, except
// in CI (CI set to a true-like value), where a missing engine is a broken pipeline and fails. Everything runs on the
// host network and talks to 127.0.0.1 only. The image's HEALTHCHECK probes port 6767 (exec form,
// no shell to substitute a port into), so the service listens on 127.0.0.1:6767 here: the test
// checks that the port is free first and fails with a clear message if it is not.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  formatPhases,
  healingPhases,
  stopSignalAt,
  stopSignalEventsArgs,
  type Inspected,
} from '../../scripts/healing-phases.js';
import { isCi } from '../helpers/ci.js';
import { ROOT } from '../helpers/service-process.js';
import { waitFor } from '../helpers/wait.js';

const DOCKER = process.env.DOCKER ?? 'docker';
const PORT = 6767;
const BASE = `http://127.0.0.1:${PORT}`;
const RUN = `accountservice-e2e-${process.pid}`;
/** The image build-image.sh produces; the test runs it under a tag of its own. */
const BUILT_IMAGE = '127.0.0.1:5000/accountservice:dev';
const TEST_IMAGE = `127.0.0.1:5000/accountservice:${RUN}`;
const IMAGE_HEALTHCHECK = ['CMD', '/nodejs/bin/node', '/app/healthchecker.cjs', `-port=${PORT}`];
/** Faster than the image's 3 s x 3, so the whole test takes a minute or two, not five. */
const FAST_HEALTH = { interval: '1s', retries: '2', timeout: '3s', startPeriod: '10s' };
/**
 * Switch-off to a new (healthy) container with the stack's settings (docs/reliability.md): up to
 * 3 probes of 3 s plus their run time to detect (the article's), Swarm's own 2 s pause before it
 * stops an unhealthy task (its gossip converge delay), our stop and start, and one interval until
 * the new container's first probe (Docker 25's start_interval could shorten that; not in 20.10).
 */
const HEALING_BOUND_S = 18;
/** The part after detection: what the service and the stack's restart policy decide. */
const AFTER_UNHEALTHY_BOUND_S = 7;

/** What deploy/swarm/stack.yml gives each task: its healthcheck, restart delay, env and /data. */
function stackTask() {
  const stack = parse(readFileSync(join(ROOT, 'deploy/swarm/stack.yml'), 'utf8')) as Record<string, any>;
  const service = stack.services.accountservice as Record<string, any>;
  const data = (service.volumes as Record<string, any>[]).find((mount) => mount.target === '/data');
  assert.ok(data, 'stack.yml mounts something at /data');
  let mount: string;
  let volume: string | undefined;
  if (data.type === 'tmpfs') {
    mount = `type=tmpfs,destination=/data,tmpfs-size=${data.tmpfs?.size ?? 0}`;
  } else if (data.type === 'volume' && data.source === undefined) {
    // Anonymous: each container gets a fresh one, removed with it (docker rm -v).
    mount = 'type=volume,destination=/data';
  } else {
    assert.equal(data.type, 'volume', `a /data of type ${data.type}`);
    // The name a task of slot 1 gets, as Swarm expands the template.
    volume = String(stack.volumes?.[data.source]?.name ?? data.source).replace('{{.Task.Slot}}', '1');
    mount = `type=volume,source=${volume},destination=/data`;
  }
  const health = service.healthcheck as Record<string, string | number>;
  return {
    mount,
    volume,
    interval: String(health.interval),
    retries: String(health.retries),
    timeout: String(health.timeout),
    startPeriod: String(health.start_period),
    restartDelay: String(service.deploy.restart_policy.delay),
    drainDelayMs: String(service.environment.SHUTDOWN_DRAIN_DELAY_MS),
  };
}

const HOST_ENV = {
  HOST: '127.0.0.1',
  PORT: String(PORT),
  NODE_ENV: 'development',
  TESTABILITY_ENABLED: 'true',
  // Only the drain of the task Swarm kills is waited out; keep it short.
  SHUTDOWN_DRAIN_DELAY_MS: '500',
};
/** HOST_ENV as docker run / service create flags. */
const HOST_ENV_FLAGS = Object.entries(HOST_ENV).flatMap(([name, value]) => ['--env', `${name}=${value}`]);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command without blocking the event loop; never rejects on a non-zero exit. */
function run(file: string, args: readonly string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (error?.message ?? '') });
    });
  });
}

async function docker(args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await run(DOCKER, args, timeoutMs);
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout.trim();
}

interface ContainerState {
  readonly Status: string;
  readonly ExitCode: number;
  readonly Health?: { Status: string; Log: { ExitCode: number; Output: string }[] };
}

async function state(container: string): Promise<ContainerState> {
  return JSON.parse(await docker(['inspect', '--format', '{{json .State}}', container])) as ContainerState;
}

/** Waits for a container's health status; fails at once, with its logs, if the container stops. */
async function waitForHealth(
  container: string,
  wanted: 'healthy' | 'unhealthy',
  timeoutMs: number,
): Promise<ContainerState> {
  const reached = await waitFor(
    async () => {
      const current = await state(container);
      return current.Status !== 'running' || current.Health?.Status === wanted ? current : undefined;
    },
    { timeoutMs, intervalMs: 250, what: `container ${container.slice(0, 12)} to be ${wanted}` },
  );
  if (reached.Status !== 'running') {
    const logs = await run(DOCKER, ['logs', '--tail', '30', container]);
    throw new Error(
      `container ${container} is ${reached.Status} (exit ${reached.ExitCode}), not ${wanted}:\n${logs.stdout}${logs.stderr}`,
    );
  }
  return reached;
}

async function get(path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${BASE}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.text() };
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function assertPortFree(port = PORT): Promise<void> {
  const problem = await new Promise<string | undefined>((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(undefined)));
  });
  if (problem === undefined) return;
  const leftovers = await run(DOCKER, [
    'ps',
    '--filter',
    'name=accountservice',
    '--format',
    '{{.Names}} ({{.Status}})',
  ]);
  assert.fail(
    `127.0.0.1:${port} is not free (${problem}). The image's HEALTHCHECK probes port ${PORT}, so this test needs it. ` +
      `Stop what listens there (deploy/swarm/deploy.sh --down for a deployed stack). Containers named accountservice*: ` +
      `${leftovers.stdout.trim().replace(/\n/g, ', ') || 'none'}`,
  );
}

/** The containers of a Swarm service, newest first. */
async function serviceContainers(service: string, ...filters: string[]): Promise<string[]> {
  const out = await docker([
    'ps',
    '-q',
    '--no-trunc',
    '--filter',
    `label=com.docker.swarm.service.name=${service}`,
    ...filters.flatMap((f) => ['--filter', f]),
  ]);
  return out === '' ? [] : out.split('\n');
}

/** Whether a service or volume by that name exists (a failed create may have made none). */
async function exists(kind: 'service' | 'volume', name: string): Promise<boolean> {
  return (await run(DOCKER, [kind, 'inspect', name])).code === 0;
}

async function engineProblem(): Promise<string | undefined> {
  const info = await run(DOCKER, ['info', '--format', '{{.ServerVersion}}'], 20_000);
  if (info.code === 0 && info.stdout.trim() !== '') return undefined;
  return (info.stderr || info.stdout).trim().split('\n').slice(-2).join(' ') || `exit ${info.code}`;
}

test('docker HEALTHCHECK and swarm self-healing on a real engine', { timeout: 15 * 60_000 }, async (t: TestContext) => {
  const problem = await engineProblem();
  if (problem !== undefined) {
    if (isCi()) {
      assert.fail(
        `CI=${process.env.CI} but no Docker engine answers (${DOCKER} info: ${problem}); CI must start one with deploy/docker/ensure-engine.sh`,
      );
    }
    t.skip('no Docker engine reachable: run deploy/docker/ensure-engine.sh');
    return;
  }

  // Checked again before each step; here so a busy port fails before a minute of building.
  await assertPortFree();

  const timings: [string, number][] = [];
  const timed = async <T>(step: string, body: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await body();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      timings.push([step, seconds]);
      t.diagnostic(`${step}: ${seconds.toFixed(1)} s`);
    }
  };

  const task = stackTask();
  const sideBySide = [`${RUN}-old`, `${RUN}-new`];
  const created = { container: false, pair: false, service: false, swarm: false, tag: false };
  t.after(async () => {
    const failures: string[] = [];
    const attempt = async (what: string, body: () => Promise<unknown>) => {
      try {
        await body();
      } catch (error) {
        failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    if (created.container) await attempt('remove the container', () => docker(['rm', '-f', '-v', RUN]));
    if (created.pair)
      await attempt('remove the side-by-side containers', () => docker(['rm', '-f', '-v', ...sideBySide]));
    if (created.service && (await exists('service', RUN))) {
      await attempt('remove the service', async () => {
        await docker(['service', 'rm', RUN]);
        // The tasks' containers outlive `service rm` for a moment; the volume is busy until they go.
        await waitFor(
          async () => (await docker(['ps', '-aq', '--filter', `label=com.docker.swarm.service.name=${RUN}`])) === '',
          {
            timeoutMs: 60_000,
            intervalMs: 250,
            what: `the containers of service ${RUN} to be removed`,
          },
        );
      });
    }
    // After the service: its tasks' containers hold the volume until they are gone.
    if (task.volume !== undefined && (await exists('volume', task.volume))) {
      await attempt('remove the task volume', () => docker(['volume', 'rm', task.volume!]));
    }
    if (created.swarm) await attempt('leave the swarm the test created', () => docker(['swarm', 'leave', '--force']));
    if (created.tag) await attempt('remove the test tag', () => docker(['image', 'rm', TEST_IMAGE]));
    console.log(
      `\ndocker/swarm e2e timings:\n${timings.map(([step, s]) => `  ${s.toFixed(1).padStart(6)} s  ${step}`).join('\n')}\n`,
    );
    if (failures.length > 0) throw new Error(`cleanup failed: ${failures.join('; ')}`);
  });

  let built = false;
  await t.test('builds the image on local base images', async () => {
    await timed('build the image (build-image.sh)', async () => {
      const build = await run('bash', [join(ROOT, 'deploy/docker/build-image.sh'), BUILT_IMAGE], 10 * 60_000);
      assert.equal(build.code, 0, `build-image.sh failed:\n${build.stderr.split('\n').slice(-40).join('\n')}`);
    });
    await docker(['tag', BUILT_IMAGE, TEST_IMAGE]);
    created.tag = true;
    const config = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .Config}}', TEST_IMAGE])) as {
      User: string;
      Healthcheck: { Test: string[] };
    };
    assert.equal(config.User, '65532:65532');
    assert.deepEqual(config.Healthcheck.Test, IMAGE_HEALTHCHECK);
    // The runtime the real distroless base has, not this machine's node (make-base-images.sh).
    const nodeVersion = await docker([
      'run',
      '--rm',
      '--pull',
      'never',
      '--network',
      'none',
      '--entrypoint',
      '/nodejs/bin/node',
      TEST_IMAGE,
      '--version',
    ]);
    assert.match(nodeVersion.trim(), /^v24\./);
    built = true;
  });

  await t.test('a container on a read-only root turns (healthy), then (unhealthy) when /health fails', async (step) => {
    if (!built) return step.skip('no image: the build failed');
    await assertPortFree();
    await timed('docker run until (healthy)', async () => {
      created.container = true;
      await docker([
        'run',
        '--detach',
        '--pull',
        'never',
        '--name',
        RUN,
        '--network',
        'host',
        '--read-only',
        '--tmpfs',
        '/data:uid=65532,gid=65532,mode=0700,size=64m',
        ...HOST_ENV_FLAGS,
        // Faster timings; no --health-cmd, so the image's own HEALTHCHECK command is what runs.
        `--health-interval=${FAST_HEALTH.interval}`,
        `--health-retries=${FAST_HEALTH.retries}`,
        `--health-timeout=${FAST_HEALTH.timeout}`,
        `--health-start-period=${FAST_HEALTH.startPeriod}`,
        TEST_IMAGE,
      ]);
      await waitForHealth(RUN, 'healthy', 60_000);
    });

    const inspected = JSON.parse(await docker(['inspect', '--format', '{{json .}}', RUN])) as {
      Config: { User: string; Healthcheck: { Test: string[] } };
      HostConfig: { ReadonlyRootfs: boolean };
    };
    assert.equal(inspected.Config.User, '65532:65532');
    assert.equal(inspected.HostConfig.ReadonlyRootfs, true);
    assert.deepEqual(inspected.Config.Healthcheck.Test, IMAGE_HEALTHCHECK, "the image's HEALTHCHECK command runs");
    // What the process itself sees: uid 65532, and a root filesystem it cannot write.
    const probe = await docker([
      'exec',
      RUN,
      '/nodejs/bin/node',
      '-e',
      "let ro; try { require('fs').writeFileSync('/app/x', 'x'); ro = false } catch (e) { ro = e.code } console.log(process.getuid(), ro)",
    ]);
    assert.equal(probe, '65532 EROFS');
    assert.deepEqual(await get('/health'), { status: 200, body: '{"status":"UP"}' });
    assert.equal((await get('/accounts/10000')).status, 200);

    await timed('testability/healthy/false until (unhealthy)', async () => {
      assert.equal((await get('/testability/healthy/false')).status, 200);
      assert.equal((await get('/health')).status, 503);
      const unhealthy = await waitForHealth(RUN, 'unhealthy', 30_000);
      const failed = unhealthy.Health!.Log.filter((entry) => entry.ExitCode !== 0);
      assert.ok(failed.length > 0, 'the health log holds failed checks');
      // The probe's reason line, as `docker inspect` shows it to whoever investigates.
      assert.match(failed.at(-1)!.Output, /503/);
      t.diagnostic(`health log: ${failed.at(-1)!.Output.trim()}`);
    });

    // The image's Node (24) too takes SIGUSR1 as the service says: no inspector on the host's 9229.
    const inspectorBefore = await listening(9229);
    await docker(['kill', '--signal', 'USR1', RUN]);
    await waitFor(async () => (await run(DOCKER, ['logs', RUN])).stdout.includes('SIGUSR1 ignored'), {
      timeoutMs: 10_000,
      what: 'the SIGUSR1 log line',
    });
    const logs = await run(DOCKER, ['logs', RUN]);
    assert.doesNotMatch(logs.stderr, /Debugger listening/);
    if (!inspectorBefore) assert.equal(await listening(9229), false, 'nothing listens on 127.0.0.1:9229');
    assert.equal((await get('/accounts/10000')).status, 200, 'still serving');

    await docker(['rm', '-f', '-v', RUN]);
    created.container = false;
  });

  await t.test(
    "an update's old and new container side by side, each with the stack's /data, are both healthy",
    async (step) => {
      if (!built) return step.skip('no image: the build failed');
      // What a start-first update or rollback does: the new container of a slot starts while the
      // old one runs, each with the storage the stack gives a task. Each in a network namespace of
      // its own (--network none: loopback only), as tasks on a cluster are, so both listen on 6767
      // and the image's own HEALTHCHECK probes each; the test asks them through docker exec.
      created.pair = true;
      for (const name of sideBySide) {
        await docker([
          'run',
          '--detach',
          '--pull',
          'never',
          '--name',
          name,
          '--network',
          'none',
          '--read-only',
          '--mount',
          task.mount,
          ...HOST_ENV_FLAGS,
          `--health-interval=${FAST_HEALTH.interval}`,
          `--health-retries=${FAST_HEALTH.retries}`,
          `--health-timeout=${FAST_HEALTH.timeout}`,
          `--health-start-period=${FAST_HEALTH.startPeriod}`,
          TEST_IMAGE,
        ]);
        await timed(`${name.endsWith('old') ? 'old' : 'new'} container until (healthy)`, () =>
          waitForHealth(name, 'healthy', 60_000),
        );
      }
      // The old one must have survived the new one's start (LMDB's reader table is keyed by PID,
      // PID 1 in both), and both must answer, for a few probes more.
      const lookup =
        "fetch('http://127.0.0.1:6767/accounts/10000').then(async (r) => console.log(r.status, await r.text()))";
      for (let round = 0; round < 3; round++) {
        for (const name of sideBySide) {
          const current = await state(name);
          assert.equal(current.Status, 'running', `${name} is running`);
          assert.equal(current.Health?.Status, 'healthy', `${name} is healthy`);
          const answer = await docker(['exec', name, '/nodejs/bin/node', '-e', lookup]);
          assert.match(answer, /^200 \{"id":"10000","name":"Person_0","servedBy":/, `${name} answers`);
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      await docker(['rm', '-f', '-v', ...sideBySide]);
      created.pair = false;
    },
  );

  await t.test('swarm replaces an unhealthy task with a new container, unattended', async (step) => {
    if (!built) return step.skip('no image: the build failed');
    await assertPortFree();
    await timed('join or init a single-node swarm', async () => {
      const swarm = await docker(['info', '--format', '{{.Swarm.LocalNodeState}}']);
      if (swarm === 'inactive') {
        await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:2377']);
        created.swarm = true;
      } else {
        assert.equal(swarm, 'active', `this engine's swarm state is ${swarm}`);
        assert.equal(
          await docker(['info', '--format', '{{.Swarm.ControlAvailable}}']),
          'true',
          'this node must be a swarm manager',
        );
      }
    });

    const first = await timed('service create until (healthy)', async () => {
      created.service = true;
      // The flags of deploy/swarm/stack.yml + stack.local.yml.
      await docker([
        'service',
        'create',
        '--detach',
        '--name',
        RUN,
        '--no-resolve-image',
        '--network',
        'host',
        '--read-only',
        '--mount',
        task.mount,
        ...HOST_ENV_FLAGS,
        '--env',
        `SHUTDOWN_DRAIN_DELAY_MS=${task.drainDelayMs}`,
        // The stack's own healthcheck timings and restart delay: this is the healing it gets.
        '--health-interval',
        task.interval,
        '--health-retries',
        task.retries,
        '--health-timeout',
        task.timeout,
        '--health-start-period',
        task.startPeriod,
        '--restart-condition',
        'any',
        '--restart-delay',
        task.restartDelay,
        '--stop-grace-period',
        '20s',
        TEST_IMAGE,
      ]);
      return waitFor(async () => (await serviceContainers(RUN, 'health=healthy'))[0], {
        timeoutMs: 90_000,
        intervalMs: 250,
        what: `a (healthy) task of service ${RUN}`,
      });
    });
    assert.deepEqual(await get('/health'), { status: 200, body: '{"status":"UP"}' });

    let switchedOffAt = 0;
    const second = await timed('testability/healthy/false until a new container is (healthy)', async () => {
      switchedOffAt = Date.now();
      assert.equal((await get('/testability/healthy/false')).status, 200);
      const unhealthyAt = performance.now();
      await waitFor(
        async () => {
          const current = await state(first);
          return current.Health?.Status === 'unhealthy' || current.Status !== 'running';
        },
        {
          timeoutMs: 30_000,
          intervalMs: 250,
          what: `the first task ${first.slice(0, 12)} to be unhealthy`,
        },
      );
      t.diagnostic(`first task unhealthy or stopped after ${((performance.now() - unhealthyAt) / 1000).toFixed(1)} s`);
      return waitFor(async () => (await serviceContainers(RUN, 'health=healthy')).find((id) => id !== first), {
        timeoutMs: 90_000,
        intervalMs: 250,
        what: `Swarm to start a new (healthy) task for service ${RUN}`,
      });
    });

    assert.notEqual(second, first);
    const old = await state(first);
    assert.notEqual(old.Status, 'running', 'Swarm stopped the unhealthy container');
    const inspect = async (id: string) =>
      JSON.parse(await docker(['inspect', '--format', '{{json .}}', id])) as Inspected;
    const signalledAt = stopSignalAt(
      await docker(stopSignalEventsArgs(first, switchedOffAt, Date.now())),
      switchedOffAt,
    );
    const replacement = await inspect(second);
    const phases = healingPhases(switchedOffAt, await inspect(first), replacement, Number(task.retries), signalledAt);
    t.diagnostic(`healing phases (s after the switch-off):\n${formatPhases(phases)}`);
    // Replaced because it was unhealthy, not because it stopped for some other reason.
    assert.equal(old.Health?.Status, 'unhealthy', 'the replaced container was unhealthy');
    // Stopped after it turned unhealthy (the task itself says "complete": the service exits 0 on
    // Swarm's SIGTERM), with its /health DOWN when the stop came.
    const at = Object.fromEntries(phases.map(({ phase, at: seconds }) => [phase, seconds]));
    assert.ok(at['unhealthy']! <= at['old container gone']!, 'the old container stopped after it turned unhealthy');
    const healed = at['new container healthy']!;
    assert.ok(
      healed <= HEALING_BOUND_S,
      `a new healthy container ${healed} s after the switch-off (bound ${HEALING_BOUND_S} s)`,
    );
    // What the service decides within that: it exits at once on the engine's SIGTERM when /health is
    // DOWN (the engine's own pause before it sends one is fixed), and the new container answers its
    // very first probe healthy, so nothing of ours adds an interval.
    const signalled = at['stop signal sent by the engine'];
    assert.ok(signalled !== undefined, 'docker events recorded the SIGTERM the engine sent the unhealthy container');
    const exitS = at['old container gone']! - signalled;
    assert.ok(exitS <= 1, `the unhealthy container was gone ${exitS.toFixed(2)} s after its SIGTERM (bound 1 s)`);
    const probes = [...(replacement.State.Health?.Log ?? [])].sort((a, b) => Date.parse(a.Start) - Date.parse(b.Start));
    assert.equal(probes[0]?.ExitCode, 0, 'the new container passed its first probe');
    const ours = healed - at['unhealthy']!;
    assert.ok(
      ours <= AFTER_UNHEALTHY_BOUND_S,
      `${ours.toFixed(1)} s from unhealthy to a new healthy container (bound ${AFTER_UNHEALTHY_BOUND_S} s)`,
    );
    const stop = await run(DOCKER, ['logs', first]);
    assert.match(
      stop.stdout,
      /\/health is DOWN: no drain delay/,
      'stopped while unhealthy, without waiting out the drain',
    );
    // The new task is a fresh process: healthy again, with no one having switched it back.
    assert.deepEqual(await get('/health'), { status: 200, body: '{"status":"UP"}' });
    const tasks = await docker([
      'service',
      'ps',
      RUN,
      '--format',
      '{{.Name}} {{.DesiredState}} {{.CurrentState}} {{.Error}}',
    ]);
    t.diagnostic(`tasks:\n${tasks}`);
    t.diagnostic(`replaced container ${first.slice(0, 12)} by ${second.slice(0, 12)}`);
  });
});
