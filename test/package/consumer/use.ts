// A TypeScript consumer's first lines. tarball.test.ts type-checks this file against the installed
// tarball, as an ES module and as CommonJS, under nodenext, node16 and bundler resolution.

import { createHealth, withHealth, type Health } from 'health-views';
import { memoryCheck } from 'health-views/checks';

const health = createHealth({
  checks: [{ name: 'started', kind: 'flag' }, memoryCheck({ maxRssBytes: 2 ** 50 })],
  views: [{ name: 'ready', path: '/health/ready', checks: ['started', 'memory'] }],
});
health.flag('started').set(true);
// @ts-expect-error a misspelt flag does not compile: the declarations TypeScript found are the real ones, not `any`
health.flag('startd');

export const widened: Health = health;
export const listener = withHealth(health, (_request, response) => {
  response.statusCode = 404;
  response.end();
});
