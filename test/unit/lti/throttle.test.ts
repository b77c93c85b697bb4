import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { LmsHttpError } from '../../../src/lti/errors.ts';
import { createLmsHttpClient, isThrottleAnswer } from '../../../src/lti/http.ts';

/** Canvas's throttling answer (`app/middleware/request_throttle.rb`, `rate_limit_exceeded`). */
describe('LMS HTTP client: Canvas throttling 403', () => {
  let server: Server;
  let origin: string;
  let answers: { status: number; headers: Record<string, string>; body: string }[];
  let seen: number;

  before(async () => {
    server = createServer((_req, res) => {
      seen += 1;
      const next = answers.shift() ?? { status: 200, headers: {}, body: '{}' };
      res.writeHead(next.status, next.headers).end(next.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  });
  beforeEach(() => {
    seen = 0;
  });

  const throttled = {
    status: 403,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Rate-Limit-Remaining': '0.0' },
    body: '403 Forbidden (Rate Limit Exceeded)\n',
  };

  function client(sleeps: number[]) {
    return createLmsHttpClient({
      fetch,
      userAgent: 'MasteryPathways-test/1.0',
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      random: () => 0.5,
      now: () => new Date(),
      maxRetries: 3,
      throttleDelayMs: 1500,
    });
  }

  it('when Canvas throttles a POST, then it is retried after seconds (the LMS did not process it) and lands', async () => {
    answers = [throttled, throttled];
    const sleeps: number[] = [];
    const res = await client(sleeps).request({
      method: 'POST',
      url: `${origin}/scores`,
      body: '{}',
    });
    expect(res.status).to.equal(200);
    expect(seen).to.equal(3);
    expect(sleeps).to.deep.equal([1500, 1500]);
  });

  it('when a 403 is a genuine refusal, then it is not retried', async () => {
    answers = [
      {
        status: 403,
        headers: { 'X-Rate-Limit-Remaining': '587.2' },
        body: '{"errors":[{"message":"user not authorized to perform that action"}]}',
      },
    ];
    const sleeps: number[] = [];
    const error = await client(sleeps)
      .request({ url: `${origin}/members` })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).to.be.instanceOf(LmsHttpError);
    expect(error).to.include({ status: 403, retryable: false });
    expect(seen).to.equal(1);
    expect(sleeps).to.deep.equal([]);
  });

  it('when only the header says the bucket is empty, then it is throttling too', () => {
    const headers = new Headers({ 'X-Rate-Limit-Remaining': '0.0' });
    expect(isThrottleAnswer(403, headers, 'Forbidden')).to.equal(true);
    expect(isThrottleAnswer(403, new Headers(), 'Forbidden')).to.equal(false);
    expect(isThrottleAnswer(429, new Headers(), '')).to.equal(true);
  });
});
