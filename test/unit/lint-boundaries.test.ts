// The import boundaries of README's Layout, as eslint.config.js enforces them: each case lints a
// small snippet as if it lived at a given path, through ESLint's own Node API and the project's config.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { ROOT } from '../helpers/service-process.js';

// Type information is not needed for import rules, and the paths below need not exist.
const eslint = new ESLint({ cwd: ROOT, overrideConfig: [tseslint.configs.disableTypeChecked] });

async function importErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath, warnIgnored: true });
  assert.ok(result !== undefined, `no lint result for ${filePath}`);
  return result.messages
    .filter((message) => message.ruleId === 'no-restricted-imports' || message.fatal === true)
    .map((message) => message.message);
}

const refused: ReadonlyArray<readonly [string, string, string]> = [
  ['src/accounts/lmdb-account-store.ts', "import { createServer } from 'node:http';", 'a store imports node:http'],
  ['src/accounts/lmdb-account-store.ts', "import type { FastifyInstance } from 'fastify';", 'a store imports Fastify'],
  ['src/accounts/account.ts', "import { request } from 'https';", 'the Account imports https'],
  ['src/accounts/seed.ts', "import Fastify from 'fastify';", 'seeding imports Fastify'],
  ['src/health/checks.ts', "import Fastify from 'fastify';", 'a non-edge file imports Fastify'],
  ['src/shared/lifecycle.ts', "import cors from '@fastify/cors';", 'a non-edge file imports a Fastify plugin'],
  ['src/http/app.ts', "import { waitFor } from '../../test/helpers/wait.js';", 'the service imports test/'],
  ['src/accounts/routes.ts', "import { median } from '../../bench/lib.mjs';", 'the service imports bench/'],
  // The layers, highest first: process -> service -> http -> the features -> config.ts and shared/.
  ['src/service/service.ts', "import { runMain } from '../process/main.js';", 'the service imports the process'],
  ['src/http/app.ts', "import type { Service } from '../service/service.js';", 'http imports the service'],
  ['src/http/app.ts', "import { STOP_SIGNALS } from '../process/stop-signals.js';", 'http imports the process'],
  ['src/accounts/routes.ts', "import { toClientError } from '../http/errors.js';", 'a feature imports http'],
  [
    'src/health/service-health.ts',
    "import type { Service } from '../service/service.js';",
    'a feature imports the service',
  ],
  ['src/metrics/metrics.ts', "import { createLoggers } from '../process/logger.js';", 'a feature imports the process'],
  [
    'src/observability/request-id.ts',
    "import { answerHeaders } from '../http/answer-headers.js';",
    'a feature imports http',
  ],
  [
    'src/testability/routes.ts',
    "import { installErrorHandling } from '../http/errors.js';",
    'a routes file imports http',
  ],
  [
    'src/config.ts',
    "import { DEFAULT_MAX_QUEUED_BYTES } from './http/connection-guard.js';",
    'the config imports http',
  ],
  [
    'src/config.ts',
    "import type { StoreOptions } from './accounts/lmdb-account-store.js';",
    'the config imports a feature',
  ],
  [
    'src/shared/lifecycle.ts',
    "import type { Health } from '../health/service-health.js';",
    'shared/ imports a feature',
  ],
  ['src/shared/http-error.ts', "import { httpError } from '../http/errors.js';", 'shared/ imports http'],
  [
    'packages/health-views/src/registry.ts',
    "import { loadConfig } from '../../../src/config.js';",
    'the package imports the service',
  ],
  ['packages/health-views/src/registry.ts', "import type { Logger } from 'pino';", 'the package core names a logger'],
  [
    'packages/health-views/src/state.ts',
    "import type { FastifyReply } from 'fastify';",
    'the package core names Fastify',
  ],
  ['packages/health-views/src/render.ts', "import { STATUS_CODES } from 'node:http';", 'the package core knows HTTP'],
  ['packages/health-views/src/fastify.ts', "import Fastify from 'fastify';", 'an adapter imports Fastify as a value'],
  [
    'packages/health-views/src/checks/tcp.ts',
    "import { request } from 'node:http';",
    'a built-in check other than http imports node:http',
  ],
  [
    'packages/health-views/src/checks/http.ts',
    "import type { FastifyInstance } from 'fastify';",
    'the http check names a framework',
  ],
  [
    'packages/health-views/src/fastify.ts',
    "import { relative } from '../../../src/app.js';",
    'an adapter imports the service',
  ],
  ['packages/health-views/src/express.ts', "import express from 'express';", 'an adapter imports Express as a value'],
  ['packages/health-views/src/koa.ts', "import Koa from 'koa';", 'an adapter imports Koa as a value'],
  ['packages/health-views/src/render.ts', "import type { Context } from 'koa';", 'the package core names Koa'],
  [
    'packages/health-views/src/types.ts',
    "import { STATUS_CODES } from 'node:http';",
    'the public types load node:http',
  ],
  [
    'packages/health-views/src/types.ts',
    "import type { FastifyReply } from 'fastify';",
    'the public types name Fastify',
  ],
];

for (const [filePath, code, what] of refused) {
  test(`lint refuses: ${what} (${filePath})`, async () => {
    const errors = await importErrors(filePath, code);
    assert.equal(errors.length, 1, `expected one boundary error, got ${JSON.stringify(errors)}`);
  });
}

const allowed: ReadonlyArray<readonly [string, string, string]> = [
  ['src/accounts/routes.ts', "import type { FastifyPluginAsync } from 'fastify';", 'a routes file imports Fastify'],
  ['src/http/app.ts', "import Fastify from 'fastify';", 'app.ts imports Fastify'],
  ['src/service/service.ts', "import Fastify from 'fastify';", 'service.ts imports Fastify'],
  ['src/http/errors.ts', "import type { FastifyError } from 'fastify';", 'the error handler imports Fastify'],
  ['src/observability/request-observer.ts', "import { LogController } from 'fastify';", 'the request observer'],
  ['src/accounts/lmdb-account-store.ts', "import { open } from 'lmdb';", 'a store imports lmdb'],
  ['src/process/main.ts', "import { createService } from '../service/service.js';", 'the process imports the service'],
  [
    'src/process/main.ts',
    "import { checkListenAddresses } from '../http/listen-addresses.js';",
    'the process imports http',
  ],
  ['src/service/service.ts', "import { buildApp } from '../http/app.js';", 'the service imports http'],
  ['src/http/app.ts', "import { accountRoutes } from '../accounts/routes.js';", 'http imports a feature'],
  [
    'src/health/service-health.ts',
    "import type { AccountStore } from '../accounts/account-store.js';",
    'a feature imports a feature',
  ],
  ['src/accounts/routes.ts', "import { httpError } from '../shared/http-error.js';", 'a feature imports shared/'],
  [
    'src/http/connection-guard.ts',
    "import { DEFAULT_MAX_QUEUED_BYTES } from '../config.js';",
    'http imports the config',
  ],
  ['src/config.ts', "import type { Lifecycle } from './shared/lifecycle.js';", 'the config imports shared/'],
  ['src/http/metrics-port.ts', "import { createServer } from 'node:http';", 'the metrics port imports node:http'],
  [
    'packages/health-views/src/fastify.ts',
    "import type { FastifyInstance } from 'fastify';",
    'an adapter names Fastify by type',
  ],
  [
    'packages/health-views/src/checks/http.ts',
    "import { request } from 'node:https';",
    'the http check requests a dependency over node:https',
  ],
  [
    'packages/health-views/src/express.ts',
    "import type { Request } from 'express';",
    'an adapter names Express by type',
  ],
  ['packages/health-views/src/koa.ts', "import type { Context } from 'koa';", 'an adapter names Koa by type'],
  [
    'packages/health-views/src/types.ts',
    "import type { IncomingMessage } from 'node:http';",
    'the public types name node:http by type (RequestListener)',
  ],
  [
    'test/unit/anything.test.ts',
    "import Fastify from 'fastify';\nimport { open } from 'lmdb';",
    'a test imports anything',
  ],
  ['scripts/anything.mjs', "import { loadConfig } from '../src/config.js';", 'a script imports the service'],
];

for (const [filePath, code, what] of allowed) {
  test(`lint allows: ${what} (${filePath})`, async () => {
    assert.deepEqual(await importErrors(filePath, code), []);
  });
}
