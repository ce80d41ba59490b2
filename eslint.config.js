// ESLint: typescript-eslint's type-checked rules on every file, and the import boundaries of
// README's Layout (see CONTRIBUTING.md). Formatting is Prettier's job: eslint-config-prettier
// turns off every rule that would fight it.
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * @typedef {{ name: string, message: string, allowTypeImports?: boolean }} RestrictedPath
 * @typedef {{ regex: string, message: string, allowTypeImports?: boolean }} RestrictedPattern
 * @typedef {{ paths?: RestrictedPath[], patterns?: RestrictedPattern[] }} Restriction
 */

/** @param {string[]} names @param {string} message @returns {Restriction} */
const modules = (names, message) => ({ paths: names.map((name) => ({ name, message })) });

const fastify = modules(
  ['fastify'],
  'only the adapters and the edge files (http/app.ts, service/service.ts, routes.ts, http/errors.ts, request-observer.ts) know Fastify',
);
/** @type {Restriction} */
const fastifyPlugins = {
  patterns: [{ regex: '^@fastify/', message: 'only the adapters and the edge files know Fastify' }],
};
const nodeHttp = modules(
  ['http', 'node:http', 'https', 'node:https', 'http2', 'node:http2', 'undici'],
  'the stores know no HTTP: they are read by routes, not the other way round',
);
/** @type {Restriction} */
const testOrBench = {
  patterns: [
    {
      regex: String.raw`^(\.\./)+(test|bench)/`,
      message: 'the service imports nothing of test/ or bench/: they import it',
    },
  ],
};
/** @type {Restriction} */
const service = {
  patterns: [
    {
      regex: String.raw`^(\.\./)+src/|^accountservice(/|$)`,
      message: 'the health package knows nothing of the service that uses it',
    },
  ],
};
const frameworkNames = ['fastify', 'express', 'koa', '@hapi/hapi', 'pino', 'winston', 'bunyan'];
/** @type {Restriction} */
const frameworksAndLoggers = {
  ...modules(frameworkNames, 'the health package is framework- and logger-free; only its adapters name one, by type'),
  patterns: [{ regex: '^@fastify/', message: 'the health package is framework-free' }],
};
/** @type {Restriction} */
const frameworkTypesOnly = {
  paths: (frameworksAndLoggers.paths ?? []).map((path) => ({ ...path, allowTypeImports: true })),
  patterns: (frameworksAndLoggers.patterns ?? []).map((pattern) => ({ ...pattern, allowTypeImports: true })),
};

/**
 * One rule entry from several restrictions: a later config object replaces a rule's options
 * rather than merging them, so each file group lists every restriction it is under.
 * @param {Restriction[]} restrictions
 * @returns {import('eslint').Linter.RulesRecord}
 */
function restrict(...restrictions) {
  return {
    'no-restricted-imports': [
      'error',
      {
        paths: restrictions.flatMap((r) => r.paths ?? []),
        patterns: restrictions.flatMap((r) => r.patterns ?? []),
      },
    ],
  };
}

/**
 * src/'s layers, highest first: a module imports from its own layer and the ones below it, never
 * from one above (the process runs the service, which composes the HTTP app, which serves the
 * features, which read the configuration and the shared parts).
 * @type {ReadonlyArray<{ name: string, folders: string[], files?: string[] }>}
 */
const LAYERS = [
  { name: 'process/', folders: ['process'] },
  { name: 'service/', folders: ['service'] },
  { name: 'http/', folders: ['http'] },
  { name: 'the features', folders: ['accounts', 'health', 'metrics', 'observability', 'testability'] },
  { name: 'config.ts and shared/', folders: ['shared'], files: ['src/config.ts'] },
];
const LAYER_ORDER = LAYERS.map((layer) => layer.folders.join(', ')).join(' -> ');

/** A layer's files may import nothing of the folders of the layers above it. @returns {Restriction} */
function belowLayersAbove(/** @type {number} */ index) {
  const above = LAYERS.slice(0, index).flatMap((layer) => layer.folders);
  if (above.length === 0) return {};
  return {
    patterns: [
      {
        // From src/config.ts (./http/...) or from a file in a folder (../http/...).
        regex: String.raw`^(\./|(\.\./)+)(${above.join('|')})/`,
        message: `${LAYERS[index]?.name} is below ${above.join(', ')}: src/'s layers are ${LAYER_ORDER}, config.ts; a module imports only from its own layer or below`,
      },
    ],
  };
}

/** Files that may import Fastify: the HTTP edge. */
const FASTIFY_EDGE = [
  'src/http/app.ts',
  'src/service/service.ts',
  'src/**/routes.ts',
  'src/http/errors.ts',
  'src/observability/request-observer.ts',
  'src/observability/request-logger.ts',
];
/** The data: no HTTP at all. */
const DATA = ['src/accounts/*store*.ts', 'src/accounts/account.ts', 'src/accounts/seed.ts'];

/**
 * The import rules of src/: each layer's files under its layer rule, and within it the Fastify
 * edge and the data under theirs (ESLint replaces a rule's options rather than merging them, so
 * each group lists every restriction it is under; a nested files array means "all of these").
 * @returns {import('eslint').Linter.Config[]}
 */
function serviceBoundaries() {
  return LAYERS.flatMap((layer, index) => {
    const globs = [...layer.folders.map((folder) => `src/${folder}/**/*.ts`), ...(layer.files ?? [])];
    const within = (/** @type {string[]} */ kind) => globs.flatMap((glob) => kind.map((file) => [glob, file]));
    const layerRule = belowLayersAbove(index);
    return [
      { files: globs, rules: restrict(testOrBench, fastify, fastifyPlugins, layerRule) },
      { files: within(FASTIFY_EDGE), rules: restrict(testOrBench, layerRule) },
      { files: within(DATA), rules: restrict(testOrBench, fastify, fastifyPlugins, nodeHttp, layerRule) },
    ];
  });
}

const healthPackage = 'packages/health-views';

export default defineConfig(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'data/**', '.tmp/**'],
  },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names document an argument a signature needs but this body does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Numbers and booleans in template literals read naturally in messages and logs.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      // An async function without await is how a Promise-returning contract (AccountStore, a Fastify
      // plugin) turns a throw into a rejection: required by design, not a smell.
      '@typescript-eslint/require-await': 'off',
      // `import x = require('…')` is how a .cts file imports under verbatimModuleSyntax.
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
      // Fastify's hooks and Node's listeners take async functions and handle or ignore their promise by design.
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, properties: false } },
      ],
    },
  },

  {
    files: ['test/**/*.ts', 'packages/*/test/**/*.ts'],
    rules: {
      // Tests assert on parsed JSON and YAML whose shape is what is under test: the assertions check the `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },

  {
    // A function does one job: one that grows past 80 lines (blank lines and comments counted) is two.
    files: ['src/**', 'packages/*/src/**', 'launcher/**', 'healthchecker/**', 'bench/**', 'scripts/**'],
    rules: { 'max-lines-per-function': ['error', { max: 80 }] },
  },
  {
    // The tarball test's CommonJS consumers (test/package/): require() is what they test. The
    // bench's minimal probe: a CommonJS file, as the healthchecker it is the anchor of.
    files: ['test/package/consumer/*.cjs', 'bench/programs/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },

  // Import boundaries (README's Layout); tests, bench and scripts may import anything.
  { files: ['src/**/*.ts'], rules: restrict(testOrBench, fastify, fastifyPlugins) },
  ...serviceBoundaries(),
  { files: [`${healthPackage}/src/**/*.ts`], rules: restrict(service, frameworksAndLoggers, nodeHttp) },
  {
    // The public types name node:http's request and response (RequestListener, withHealth's), by type only.
    files: [`${healthPackage}/src/types.ts`],
    rules: restrict(service, frameworksAndLoggers, {
      paths: (nodeHttp.paths ?? []).map((path) => ({ ...path, allowTypeImports: true })),
    }),
  },
  {
    // The adapters: the only files that know an HTTP API, each naming a framework by type at most.
    files: ['fastify', 'express', 'koa', 'node-http'].map((name) => `${healthPackage}/src/${name}.ts`),
    rules: restrict(service, frameworkTypesOnly),
  },
  {
    // The http check makes requests to a dependency: node:http and node:https, and still no framework.
    files: [`${healthPackage}/src/checks/http.ts`],
    rules: restrict(service, frameworksAndLoggers),
  },

  prettier,
);
