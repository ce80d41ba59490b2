// Thousands of random and hostile requests against the built service in a child process, so a crash
// shows as an exit: well-formed requests with hostile content (random methods, paths, ids,
// percent-encoding, unicode, NUL, long URLs and headers, bodies where none belong), then malformed
// HTTP on raw sockets (garbage, bad request lines and headers, huge headers, invalid chunked
// encoding, HTTP/0.9, truncation, pipelined junk). Every answer is below 500, seeded lookups are
// 200 with the account, the process never exits, and its memory stays bounded.
//
// Reproducible: fast-check runs with a fixed seed (in the test names); a failure prints the seed,
// the path and the shrunk request to replay it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startService, type ServiceProcess } from '../helpers/service-process.js';
import { seededAccountJson } from '../helpers/account-json.js';
import { rawExchange, rssKb, type RawExchange } from './support.js';

const SEED = 20_260_801;
/** Warm-up of each kind, before the memory baseline: the heap grows to its working size first. */
const WARM_UP_RUNS = 300;
const WELL_FORMED_RUNS = 2500;
const MALFORMED_RUNS = 2500;
/**
 * Generous, as RSS also holds heap the garbage collector has not given back: a leak of 13 kB a
 * request (one copy of a typical hostile request kept) crosses it over 5000 requests.
 */
const RSS_GROWTH_LIMIT_KB = 64 * 1024;

// ---- generators -------------------------------------------------------------------------------

const UNRESERVED = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/;

/** Percent-encodes the UTF-8 bytes of text that are not safe as they are in a path segment. */
function encodeSegment(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const hostilePercent = fc.constantFrom(
  '%00',
  '%2F',
  '%2e%2e',
  '%ZZ',
  '%',
  '%E0%A4%A',
  '%C0%AF',
  '%FF',
  '%25',
  '%0D%0A',
  '%u0000',
  '%%30%30',
);
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const segment = fc.oneof(
  { weight: 3, arbitrary: anyText.map(encodeSegment) },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9._~-]{0,12}$/) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.oneof(hostilePercent, fc.stringMatching(/^[a-z0-9]{0,3}$/)), { maxLength: 4 })
      .map((parts) => parts.join('')),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('..', '.', '', 'accounts', 'health', '10000', '%2e%2e%2f%2e%2e%2fetc%2fpasswd'),
  },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 6000 }).map((n) => 'a'.repeat(n)) },
);
const seededId = fc.integer({ min: 10_000, max: 10_099 }).map(String);
const accountId = fc.oneof(
  seededId,
  fc.stringMatching(/^[0-9]{1,25}$/),
  fc.constantFrom(
    '0',
    '-1',
    '1e5',
    '0x2710',
    '10000 ',
    ' 10000',
    '10000.0',
    '１００００',
    '10000%00',
    '10000/',
    '10000?x',
  ),
  segment,
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?details',
    '?verbose',
    '?details=false',
    '?exclude=database',
    '?exclude=',
    '?details&details&verbose=0',
  ),
  fc
    .array(fc.tuple(segment, segment), { maxLength: 5 })
    .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
);
const path = fc.oneof(
  { weight: 4, arbitrary: accountId.map((id) => `/accounts/${id}`) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom('/health', '/health/live', '/health/ready', '/health/started', '/health/'), query)
      .map(([p, q]) => p + q),
  },
  { weight: 1, arbitrary: segment.map((name) => `/health/checks/${name}`) },
  { weight: 1, arbitrary: segment.map((state) => `/testability/healthy/${state}`) },
  { weight: 3, arbitrary: fc.array(segment, { minLength: 0, maxLength: 6 }).map((parts) => `/${parts.join('/')}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '*',
      'http://127.0.0.1/health',
      'http://evil.example/accounts/10000',
      '//accounts//10000',
      '/accounts/10000#frag',
    ),
  },
);
const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'HEAD') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'POST',
      'PUT',
      'DELETE',
      'PATCH',
      'OPTIONS',
      'TRACE',
      'PROPFIND',
      'SEARCH',
      'PURGE',
      'LINK',
      'QUERY',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,12}$/) },
);
const visible = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 60,
});
const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,30}$/);
const header = fc.oneof(
  fc.tuple(headerName, visible),
  fc.tuple(
    fc.constantFrom(
      'Accept',
      'Authorization',
      'Content-Type',
      'Cookie',
      'X-Forwarded-For',
      'X-Request-Id',
      'Range',
      'If-None-Match',
      'Expect',
      'Accept-Encoding',
    ),
    visible,
  ),
  fc.tuple(
    fc.constant('Accept'),
    fc.constantFrom('application/health+json', 'text/plain', '*/*', 'application/json;q=0', ''),
  ),
  fc.tuple(
    headerName,
    fc.integer({ min: 1000, max: 12_000 }).map((n) => 'v'.repeat(n)),
  ),
);
const body = fc.option(
  fc.oneof(visible, fc.constantFrom('{}', '{"id":"10000"}', '{"a":', 'null', '[]', '{"__proto__":{"x":1}}')),
  { nil: undefined },
);

interface WellFormed {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string | undefined;
  readonly host: boolean;
  readonly chunked: boolean;
}

const wellFormed: fc.Arbitrary<WellFormed> = fc.record({
  method,
  path,
  headers: fc.array(header, { maxLength: 6 }),
  body,
  host: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  chunked: fc.boolean(),
});

function render(request: WellFormed): string {
  const lines = [`${request.method} ${request.path} HTTP/1.1`];
  if (request.host) lines.push('Host: 127.0.0.1');
  for (const [name, value] of request.headers) {
    // Framing headers come only from the generator's own choice below, so the request stays well-formed.
    if (/^(content-length|transfer-encoding|connection|host|upgrade)$/i.test(name)) continue;
    lines.push(`${name}: ${value}`);
  }
  lines.push('Connection: close');
  let payload = '';
  if (request.body !== undefined) {
    if (request.chunked) {
      lines.push('Transfer-Encoding: chunked');
      payload = `${Buffer.byteLength(request.body).toString(16)}\r\n${request.body}\r\n0\r\n\r\n`;
      if (request.body === '') payload = '0\r\n\r\n';
    } else {
      lines.push(`Content-Length: ${Buffer.byteLength(request.body)}`);
      payload = request.body;
    }
  }
  return `${lines.join('\r\n')}\r\n\r\n${payload}`;
}

/** Malformed or hostile bytes; each kind names what it tries. */
/** heads: which of the requests sent are HEAD, so their bodiless answers parse right. */
const malformed: fc.Arbitrary<{ kind: string; bytes: Buffer; heads?: boolean[] }> = fc.oneof(
  fc
    .uint8Array({ minLength: 1, maxLength: 3000 })
    .map((bytes) => ({ kind: 'random bytes', bytes: Buffer.from(bytes) })),
  fc
    .tuple(visible, visible)
    .map(([a, b]) => ({ kind: 'garbage request line', bytes: Buffer.from(`${a}\r\n${b}\r\n\r\n`) })),
  fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'G ET', 'get', ''),
      anyText,
      fc.constantFrom('HTTP/1.1', 'HTTP/0.9', 'HTTP/2.0', 'HTTP/1.1x', 'HTTP/1', 'HTTPS/1.1', '', 'HTTP/1.1 extra'),
    )
    .map(([m, target, version]) => ({
      kind: 'raw unicode/NUL/space in the request line',
      bytes: Buffer.from(`${m} /${target} ${version}\r\nHost: x\r\n\r\n`, 'utf8'),
    })),
  fc
    .constantFrom('GET /\r\n', 'GET /health\r\n', 'GET /accounts/10000\r\n\r\n', '\r\n\r\n', '\r\n', 'GET\r\n\r\n')
    .map((text) => ({ kind: 'HTTP/0.9 and bare lines', bytes: Buffer.from(text) })),
  fc
    .tuple(visible, fc.constantFrom(':', ' :', ': ', ''))
    .chain(([name, sep]) =>
      fc
        .constantFrom(
          `GET /health HTTP/1.1\r\nHost: x\r\n${name}${sep}\r\n\r\n`,
          `GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n`,
          `GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n`,
          `GET /health HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n`,
          `GET /health HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n`,
          `GET /health HTTP/1.1\nHost: x\n\n`,
          `GET /health HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n`,
        )
        .map((text) => ({ kind: 'bad header syntax', bytes: Buffer.from(text, 'latin1') })),
    ),
  fc.integer({ min: 17_000, max: 80_000 }).map((n) => ({
    kind: 'huge header',
    bytes: Buffer.from(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(n)}\r\n\r\n`),
  })),
  fc.integer({ min: 17_000, max: 80_000 }).map((n) => ({
    kind: 'huge URL',
    bytes: Buffer.from(`GET /accounts/${'9'.repeat(n)} HTTP/1.1\r\nHost: x\r\n\r\n`),
  })),
  fc.integer({ min: 100, max: 3000 }).map((n) => ({
    kind: 'very many headers',
    bytes: Buffer.from(
      `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: n }, (_, i) => `X-H${i}: ${i}`).join('\r\n')}\r\n\r\n`,
    ),
  })),
  fc
    .constantFrom(
      'zz\r\nabc\r\n0\r\n\r\n',
      '5\r\nab\r\n0\r\n\r\n',
      'ffffffffffffffffffff\r\nx\r\n',
      '3\r\nabc0\r\n\r\n',
      '-1\r\n\r\n',
      '3;ext\r\nabc\r\n0\r\nTrailer: x\r\n\r\n',
      '3\nabc\n0\n\n',
    )
    .map((chunks) => ({
      kind: 'invalid chunked encoding',
      bytes: Buffer.from(
        `POST /accounts/10000 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}`,
      ),
    })),
  fc
    .constantFrom(
      'Content-Length: 5\r\nContent-Length: 6',
      'Content-Length: -1',
      'Content-Length: 1e3',
      'Content-Length: 99999999999999999999',
      'Content-Length: 3\r\nTransfer-Encoding: chunked',
      'Transfer-Encoding: gzip, chunked',
      'Transfer-Encoding: chunked, identity',
    )
    .map((framing) => ({
      kind: 'conflicting framing',
      bytes: Buffer.from(`POST /health HTTP/1.1\r\nHost: x\r\n${framing}\r\n\r\nabc`),
    })),
  fc.tuple(wellFormed, fc.uint8Array({ minLength: 1, maxLength: 200 })).map(([request, junk]) => ({
    kind: 'pipelined junk after a request',
    bytes: Buffer.concat([Buffer.from(render(request).replace('Connection: close\r\n', '')), Buffer.from(junk)]),
    heads: [request.method === 'HEAD'],
  })),
  fc.array(wellFormed, { minLength: 2, maxLength: 5 }).map((requests) => ({
    kind: 'pipelined requests',
    bytes: Buffer.from(requests.map((r) => render(r).replace('Connection: close\r\n', '')).join('')),
    heads: requests.map((r) => r.method === 'HEAD'),
  })),
  fc.tuple(wellFormed, fc.double({ min: 0, max: 1, noNaN: true })).map(([request, at]) => {
    const text = render(request);
    return {
      kind: 'truncated request',
      bytes: Buffer.from(text.slice(0, Math.floor(text.length * at))),
      heads: [request.method === 'HEAD'],
    };
  }),
  fc
    .constantFrom(
      'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
    )
    .map((text) => ({ kind: 'protocol switches', bytes: Buffer.from(text) })),
);

// ---- the run ----------------------------------------------------------------------------------

describe(`HTTP fuzzing of the built service (fast-check seed ${SEED})`, () => {
  let service: ServiceProcess;
  let port: number;
  let exitedWith: number | string | undefined;
  const rss: { label: string; kb: number }[] = [];
  const counts = { requests: 0, byStatus: new Map<number, number>(), noAnswer: 0, byKind: new Map<string, number>() };

  before(async () => {
    // Production-like: info logging with the access log on, so its cost is part of what memory shows.
    service = await startService();
    port = Number(new URL(service.url).port);
    void service.exited.then((code) => {
      exitedWith = code;
    });
    rss.push({ label: 'at start', kb: await rssKb(service.pid) });
  });
  after(() => service.cleanup());

  function alive(): void {
    assert.equal(exitedWith, undefined, `the service exited (${exitedWith}); stderr: ${service.stderr()}`);
  }

  function tally(exchange: RawExchange, kind?: string): void {
    counts.requests++;
    if (kind !== undefined) counts.byKind.set(kind, (counts.byKind.get(kind) ?? 0) + 1);
    if (exchange.responses.length === 0) counts.noAnswer++;
    for (const response of exchange.responses)
      counts.byStatus.set(response.status, (counts.byStatus.get(response.status) ?? 0) + 1);
  }

  async function sendWellFormed(request: WellFormed): Promise<void> {
    const exchange = await rawExchange(port, render(request), { headRequests: [request.method === 'HEAD'] });
    tally(exchange);
    alive();
    assert.ok(exchange.closedByServer, `no answer within 3 s to ${JSON.stringify(render(request).slice(0, 300))}`);
    const finals = exchange.responses.filter((response) => response.status >= 200);
    assert.equal(finals.length, 1, `one answer: ${JSON.stringify(exchange.received.slice(0, 300))}`);
    const answer = finals[0]!;
    assert.ok(
      answer.status < 500,
      `${request.method} ${request.path.slice(0, 200)} answered ${answer.status}: ${answer.body}`,
    );
    const lookup = /^\/accounts\/(\d+)$/.exec(request.path);
    const seeded =
      lookup !== null && Number(lookup[1]) >= 10_000 && Number(lookup[1]) <= 10_099 && lookup[1]!.length === 5;
    // The oracle for a plain valid lookup; extras that change the answer (Expect, oversize headers) are left out.
    const plain =
      request.host &&
      request.body === undefined &&
      !request.headers.some(([name]) => name.toLowerCase() === 'expect') &&
      render(request).length < 16_000;
    if (seeded && plain && (request.method === 'GET' || request.method === 'HEAD')) {
      assert.equal(answer.status, 200, `a valid lookup: ${answer.body}`);
      if (request.method === 'GET') assert.equal(answer.body, seededAccountJson(Number(lookup[1]) - 10_000));
    }
  }

  async function sendMalformed({
    kind,
    bytes,
    heads,
  }: {
    kind: string;
    bytes: Buffer;
    heads?: boolean[];
  }): Promise<void> {
    const exchange = await rawExchange(port, bytes, heads === undefined ? {} : { headRequests: heads });
    tally(exchange, kind);
    alive();
    assert.ok(exchange.closedByServer, `${kind}: the server neither answered nor closed within 3 s`);
    for (const response of exchange.responses) {
      assert.ok(response.status < 500, `${kind}: answered ${response.status}: ${response.body}`);
    }
  }

  it(`warms up with ${WARM_UP_RUNS} well-formed and ${WARM_UP_RUNS} malformed requests (seeds ${SEED + 10}, ${SEED + 11})`, async () => {
    await fc.assert(fc.asyncProperty(wellFormed, sendWellFormed), { seed: SEED + 10, numRuns: WARM_UP_RUNS });
    await fc.assert(fc.asyncProperty(malformed, sendMalformed), { seed: SEED + 11, numRuns: WARM_UP_RUNS });
    rss.push({ label: `after warm-up (${counts.requests} requests)`, kb: await rssKb(service.pid) });
  });

  it(`answers ${WELL_FORMED_RUNS} well-formed hostile requests below 500, seeded lookups 200 (seed ${SEED})`, async () => {
    await fc.assert(fc.asyncProperty(wellFormed, sendWellFormed), { seed: SEED, numRuns: WELL_FORMED_RUNS });
  });

  it(`answers ${MALFORMED_RUNS} malformed raw-socket exchanges with a 4xx or a close, never a 5xx (seed ${SEED + 1})`, async () => {
    await fc.assert(fc.asyncProperty(malformed, sendMalformed), { seed: SEED + 1, numRuns: MALFORMED_RUNS });
  });

  it('is still alive and well, with its memory bounded', async (t) => {
    alive();
    const health = await fetch(`${service.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), '{"status":"UP"}');
    assert.equal((await fetch(`${service.url}/accounts/10099`)).status, 200);
    rss.push({ label: `at the end (${counts.requests} requests)`, kb: await rssKb(service.pid) });
    const warm = rss.find((sample) => sample.label.startsWith('after warm-up'))!.kb;
    const end = rss[rss.length - 1]!.kb;
    const statuses = [...counts.byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}:${n}`)
      .join(' ');
    t.diagnostic(
      `requests fuzzed: ${counts.requests} (seed ${SEED}); answers by status: ${statuses}; closed without an answer: ${counts.noAnswer}`,
    );
    t.diagnostic(`malformed kinds: ${[...counts.byKind.entries()].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    t.diagnostic(
      `RSS: ${rss.map((sample) => `${sample.label} ${Math.round(sample.kb / 1024)} MB`).join(', ')}; growth after warm-up ${Math.round((end - warm) / 1024)} MB (limit ${RSS_GROWTH_LIMIT_KB / 1024} MB)`,
    );
    assert.ok(counts.requests >= 2 * WARM_UP_RUNS + WELL_FORMED_RUNS + MALFORMED_RUNS, 'every run sent its request');
    assert.ok(end - warm < RSS_GROWTH_LIMIT_KB, `RSS grew by ${end - warm} kB after warm-up`);
    assert.ok(![...counts.byStatus.keys()].some((status) => status >= 500), 'no 5xx at all');
  });
});
