// What answer() says to requests an attacker or a proxy sends, framework-free: no way to learn a
// view's check names without the permission, error answers whose size the request cannot grow,
// and request targets in absolute form.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHealth } from '../src/registry.js';
import type { Health, HealthAnswer } from '../src/types.js';
import { FakeClock } from './helpers/fake-clock.js';

const TOKEN = 'the-right-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** What an error answer may weigh, whatever the request: the 16 KB query gave 80 KB. */
const ERROR_MAX_BYTES = 1024;

function setup(): Health {
  return createHealth({
    clock: new FakeClock(),
    checks: [
      { name: 'database', kind: 'flag', initial: true, publicCause: 'the database cannot be read' },
      { name: 'started', kind: 'flag', initial: true },
    ],
    views: [{ name: 'ready', path: '/health/ready', checks: ['database', 'started'] }],
    disclosure: { mode: 'token', token: TOKEN },
  });
}

function ask(health: Health, url: string, headers: Record<string, string> = {}): HealthAnswer {
  const answer = health.answer({ method: 'GET', url, headers });
  assert.equal(answer?.kind, 'answer', `${url}: expected a complete answer, got ${answer?.kind ?? 'none'}`);
  return answer;
}

function shown(answer: HealthAnswer): string {
  return `${answer.statusCode} ${answer.body.toString()}`;
}

/** A query of about 15 KB (Node's request-line and header limit is 16 KB): names that each escape. */
function hugeNames(prefix: string): string {
  const names = Array.from({ length: 1000 }, (_, i) => `${prefix}${i}%22%5C%01`);
  return names.join(',');
}

describe('?exclude without the permission', () => {
  it('answers a check of the view and a made-up name alike: one 403, byte for byte', () => {
    const health = setup();
    const queries = ['exclude=database', 'exclude=nope', 'exclude=database,nope', 'exclude=started&exclude=x'];
    const answers = queries.map((query) => ask(health, `/health/ready?${query}`));
    for (const [i, answer] of answers.entries()) {
      assert.equal(answer.statusCode, 403, `?${queries[i]}: ${shown(answer)}`);
      assert.equal(shown(answer), shown(answers[0]!), `?${queries[i]} told apart from ?${queries[0]}`);
    }
    assert.match(answers[0]!.body.toString(), /\?exclude: this needs the health details permission/);
    assert.doesNotMatch(answers[0]!.body.toString(), /database|started|nope/);
  });

  it('with a failing check: still the same 403 for its name, another check and a made-up name', () => {
    const health = setup();
    health.flag('database').set(false, 'EIO');
    const bodies = ['database', 'started', 'nope'].map((name) => shown(ask(health, `/health/ready?exclude=${name}`)));
    assert.deepEqual(new Set(bodies).size, 1, `expected one answer for all three, got: ${bodies.join(' | ')}`);
  });

  it('an empty ?exclude= leaves nothing out and needs nothing', () => {
    assert.equal(shown(ask(setup(), '/health/ready?exclude=')), '200 {"status":"UP"}');
  });
});

describe('?exclude with the permission', () => {
  it("leaves a check out, and a name not in the view is a 400 naming it and the view's checks", () => {
    const health = setup();
    health.flag('database').set(false, 'EIO');
    const left = ask(health, '/health/ready?exclude=database', AUTH);
    assert.equal(left.statusCode, 200, shown(left));
    assert.deepEqual(JSON.parse(left.body.toString()).excluded, ['database']);
    const unknown = ask(health, '/health/ready?exclude=database,nope,nope,other', AUTH);
    assert.equal(unknown.statusCode, 400, shown(unknown));
    assert.equal(
      JSON.parse(unknown.body.toString()).message,
      '?exclude names no check of the ready view: "nope" and 1 more; its checks are: database, started',
    );
  });
});

describe('error answers are small whatever the request', () => {
  // [what, url, headers, the start of the request's text the message quotes (decoded), if any]
  const cases: [string, string, Record<string, string>, string | undefined][] = [
    ['15 KB of ?exclude names, with the permission', `/health/ready?exclude=${hugeNames('n')}`, AUTH, 'n0"\\\x01'],
    ['15 KB of ?exclude names, without it', `/health/ready?exclude=${hugeNames('n')}`, {}, undefined],
    ['?verbose=<15 KB>', `/health/ready?verbose=${'%22'.repeat(5000)}`, {}, '"""'],
    ['?details=<15 KB>', `/health/ready?details=${'%01'.repeat(5000)}`, {}, '\x01\x01'],
    ['an unknown check name of 15 KB', `/health/checks/${'%5Cx'.repeat(3500)}`, AUTH, '\\x\\x'],
  ];
  for (const [what, url, headers, quotedStart] of cases) {
    it(`${what}: at most ${ERROR_MAX_BYTES} bytes, the request's text escaped once`, (t) => {
      const answer = ask(setup(), url, headers);
      t.diagnostic(`${url.length} bytes of request target -> a ${answer.statusCode} of ${answer.body.length} bytes`);
      assert.ok(answer.statusCode >= 400 && answer.statusCode < 500, `expected a 4xx, got ${shown(answer)}`);
      const size = answer.body.length;
      assert.ok(size <= ERROR_MAX_BYTES, `expected at most ${ERROR_MAX_BYTES} bytes, got ${size}: ${shown(answer)}`);
      assert.equal(answer.headers['content-length'], String(size));
      if (quotedStart === undefined) return;
      // Escaped once, the parsed message holds the request's characters as they were sent.
      const { message } = JSON.parse(answer.body.toString()) as { message: string };
      const start = JSON.stringify(quotedStart);
      assert.ok(message.includes(`"${quotedStart}`), `expected the message to quote ${start}, got ${message}`);
    });
  }
});

describe('request targets in absolute form (RFC 9112 §3.2.2)', () => {
  it('are answered as their path and query', () => {
    const health = setup();
    const pairs: [string, string][] = [
      ['http://example.com/health/ready', '/health/ready'],
      ['HTTPS://example.com:8443/health/ready?verbose', '/health/ready?verbose'],
      ['http://user@example.com/health/checks/started', '/health/checks/started'],
    ];
    for (const [absolute, origin] of pairs) {
      assert.equal(shown(ask(health, absolute, AUTH)), shown(ask(health, origin, AUTH)), absolute);
    }
    assert.equal(health.answer({ method: 'GET', url: 'http://example.com/accounts/1', headers: {} }), undefined);
    assert.equal(health.answer({ method: 'GET', url: 'http://example.com', headers: {} }), undefined);
  });
});

describe('the per-check route', () => {
  it('judges a failing non-critical check alike in every format: 503, fail, failed', () => {
    const health = createHealth({
      clock: new FakeClock(),
      checks: [{ name: 'cache', kind: 'flag', initial: true, critical: false, publicCause: 'the cache is cold' }],
      views: [{ name: 'ready', path: '/health/ready', checks: ['cache'] }],
      disclosure: { mode: 'always' },
    });
    health.flag('cache').set(false, 'evicted');
    assert.equal(ask(health, '/health/ready').statusCode, 200, 'in its view it only warns');
    const json = ask(health, '/health/checks/cache');
    assert.equal(json.statusCode, 503, shown(json));
    assert.match(json.body.toString(), /"status":"DOWN"/);
    const healthJson = ask(health, '/health/checks/cache', { accept: 'application/health+json' });
    const parsed = JSON.parse(healthJson.body.toString()) as {
      status: string;
      checks: Record<string, { status: string }[]>;
    };
    assert.equal(parsed.status, 'fail');
    assert.deepEqual(
      Object.values(parsed.checks)
        .flat()
        .map((component) => component.status),
      ['fail'],
      'the component says what the answer says, not warn',
    );
    const text = ask(health, '/health/checks/cache?verbose').body.toString();
    assert.match(text, /\[-\]cache failed/, text);
    assert.doesNotMatch(text, /warning/, text);
  });
});

describe('the watch route after close()', () => {
  it('GET and HEAD both say health is closed, not "try again later"', () => {
    const health = setup();
    health.close();
    for (const method of ['GET', 'HEAD']) {
      const answer = health.answer({ method, url: '/health/watch', headers: AUTH });
      assert.equal(answer?.kind, 'answer', method);
      assert.equal(answer.statusCode, 503, `${method}: ${answer.statusCode}`);
      if (method === 'GET') assert.match(answer.body.toString(), /health is closed/);
    }
  });
});
