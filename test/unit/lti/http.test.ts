import { expect } from 'chai';
import { LmsHttpError } from '../../../src/lti/errors.ts';
import { backoffDelayMs, parseLinkHeader, parseRetryAfter } from '../../../src/lti/http.ts';
import { json, startServer, testHttp } from './fixtures.ts';
import type { LocalServer } from './fixtures.ts';

async function expectHttpError(promise: Promise<unknown>): Promise<LmsHttpError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(LmsHttpError);
    return error as LmsHttpError;
  }
  throw new Error('expected LmsHttpError');
}

describe('outbound LMS HTTP', () => {
  let server: LocalServer;
  let sleeps: number[];
  const fixedNow = new Date('2026-11-27T04:00:00Z');

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.requests.length = 0;
    sleeps = [];
  });

  function client(overrides: Parameters<typeof testHttp>[0] = {}) {
    return testHttp({
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      now: () => fixedNow,
      ...overrides,
    });
  }

  /** Answers with the given statuses in order, then 200. */
  function sequence(
    responses: { status: number; headers?: Record<string, string>; body?: string }[],
  ) {
    let index = 0;
    server.handle((_req, res) => {
      const next = responses[index];
      index += 1;
      if (next === undefined) {
        json(res, 200, { ok: true });
        return;
      }
      res.writeHead(next.status, next.headers ?? {}).end(next.body ?? '');
    });
  }

  it('when the LMS answers 429 with Retry-After seconds, then it waits that long and retries', async () => {
    sequence([{ status: 429, headers: { 'Retry-After': '2' } }]);
    const response = await client().request({ url: `${server.url}/x` });
    expect(response.status).to.equal(200);
    expect(JSON.parse(response.body)).to.deep.equal({ ok: true });
    expect(server.requests).to.have.length(2);
    expect(sleeps).to.deep.equal([2000]);
  });

  it('when Retry-After is an HTTP date, then it waits until that date', async () => {
    const at = new Date(fixedNow.getTime() + 7000).toUTCString();
    sequence([{ status: 503, headers: { 'Retry-After': at } }]);
    await client().request({ url: `${server.url}/x` });
    expect(sleeps).to.deep.equal([7000]);
  });

  it('when Retry-After exceeds the cap, then it gives up at once and reports the wait', async () => {
    sequence([{ status: 429, headers: { 'Retry-After': '3600' } }]);
    const error = await expectHttpError(
      client({ maxRetryAfterMs: 60_000 }).request({ url: `${server.url}/x` }),
    );
    expect(error.status).to.equal(429);
    expect(error.retryable).to.equal(true);
    expect(error.retryAfterMs).to.equal(3_600_000);
    expect(server.requests).to.have.length(1);
    expect(sleeps).to.deep.equal([]);
  });

  it('when the LMS fails with 500s, then it backs off exponentially with full jitter and succeeds', async () => {
    sequence([{ status: 500 }, { status: 502 }]);
    const response = await client({ baseDelayMs: 1000, random: () => 0.5 }).request({
      url: `${server.url}/x`,
    });
    expect(response.status).to.equal(200);
    expect(sleeps).to.deep.equal([500, 1000]);
  });

  it('when 500s never stop, then it stops after maxRetries with a retryable error', async () => {
    server.handle((_req, res) => res.writeHead(500).end('down for maintenance'));
    const error = await expectHttpError(
      client({ maxRetries: 2 }).request({ url: `${server.url}/x` }),
    );
    expect(server.requests).to.have.length(3);
    expect(error).to.include({
      kind: 'status',
      status: 500,
      retryable: true,
      bodyExcerpt: 'down for maintenance',
    });
  });

  for (const status of [400, 401, 404, 422]) {
    it(`when the LMS answers ${status}, then it does not retry and returns the body excerpt`, async () => {
      sequence([
        {
          status,
          body: JSON.stringify({
            errors: [{ message: 'User not found in course or is not a student' }],
          }),
        },
      ]);
      const error = await expectHttpError(client().request({ url: `${server.url}/x` }));
      expect(server.requests).to.have.length(1);
      expect(error.status).to.equal(status);
      expect(error.retryable).to.equal(false);
      expect(error.bodyExcerpt).to.include('User not found');
    });
  }

  it('when a POST fails with 500, then it is not repeated unless marked idempotent', async () => {
    sequence([{ status: 500 }]);
    await expectHttpError(client().request({ method: 'POST', url: `${server.url}/x`, body: '{}' }));
    expect(server.requests).to.have.length(1);

    server.requests.length = 0;
    sequence([{ status: 500 }]);
    await client().request({
      method: 'POST',
      url: `${server.url}/x`,
      body: '{}',
      idempotent: true,
    });
    expect(server.requests).to.have.length(2);
  });

  it('when a POST is rate limited, then it is retried (the LMS did not process it)', async () => {
    sequence([{ status: 429, headers: { 'Retry-After': '1' } }]);
    await client().request({ method: 'POST', url: `${server.url}/x`, body: '{}' });
    expect(server.requests).to.have.length(2);
  });

  it('when the LMS is too slow, then the request times out and is retried', async () => {
    // The answer comes long after the client gave up. The client's timeout is generous enough that
    // each attempt reaches the server even on a loaded machine (a 50 ms one could expire before
    // the request was sent, and the server then saw fewer than two).
    server.handle((_req, res) => {
      setTimeout(() => {
        if (!res.writableEnded && !res.destroyed) res.writeHead(200).end('late');
      }, 30_000).unref();
    });
    const error = await expectHttpError(
      client({ timeoutMs: 1_500, maxRetries: 1 }).request({ url: `${server.url}/slow` }),
    );
    expect(error.kind).to.equal('timeout');
    expect(error.retryable).to.equal(true);
    expect(server.requests).to.have.length(2);
  });

  it('when nothing listens, then it reports a retryable network error', async () => {
    const closed = await startServer();
    const url = closed.url;
    await closed.close();
    const error = await expectHttpError(client({ maxRetries: 1 }).request({ url: `${url}/x` }));
    expect(error.kind).to.equal('network');
    expect(error.retryable).to.equal(true);
    expect(sleeps).to.have.length(1);
  });

  it('when any request is sent, then it carries our User-Agent', async () => {
    sequence([]);
    await client().request({ url: `${server.url}/x`, headers: { 'User-Agent': 'overridden?' } });
    expect(server.requests[0]?.headers['user-agent']).to.equal('MasteryPathways-Test/1.0');
  });

  describe('helpers', () => {
    it('when Retry-After is missing or garbage, then there is no delay hint', () => {
      expect(parseRetryAfter(null, fixedNow)).to.equal(undefined);
      expect(parseRetryAfter('soon', fixedNow)).to.equal(undefined);
      expect(parseRetryAfter('0', fixedNow)).to.equal(0);
    });

    it('when jitter is drawn, then the delay lies between zero and the capped exponential ceiling', () => {
      expect(backoffDelayMs(3, 100, 10_000, () => 0)).to.equal(0);
      expect(backoffDelayMs(3, 100, 10_000, () => 0.999)).to.equal(799);
      expect(backoffDelayMs(20, 100, 10_000, () => 0.5)).to.equal(5000);
    });

    it('when a Link header has several relations, then next is found and resolved', () => {
      const links = parseLinkHeader(
        '<https://lms.example/items?page=1>; rel="first", </items?page=3>; rel="next", <https://lms.example/items?page=9>; rel="last"',
        'https://lms.example/items?page=2',
      );
      expect(links.get('next')).to.equal('https://lms.example/items?page=3');
      expect(links.get('last')).to.equal('https://lms.example/items?page=9');
      expect(parseLinkHeader(null, 'https://lms.example').size).to.equal(0);
    });
  });
});
