import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { BlockedAddressError, createPinnedFetch } from '../../../src/net/pinned-fetch.ts';

describe('pinned fetch (SSRF and DNS rebinding guard)', () => {
  let server: Server;
  let port: number;
  let hits: string[];

  before(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://10.0.0.1/' }).end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-host', req.headers.host ?? '');
      res.end(JSON.stringify({ ok: true, method: req.method }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  beforeEach(() => {
    hits = [];
  });
  after(async () => {
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });

  it('when loopback is allowed, then a local server answers with status, headers and body', async () => {
    const fetch = createPinnedFetch({ allowLoopback: true });
    const response = await fetch(`http://127.0.0.1:${port}/x`, { headers: { accept: 'a/b' } });
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('application/json');
    expect(await response.json()).to.deep.equal({ ok: true, method: 'GET' });
  });

  it('when loopback is not allowed, then an address literal is refused before any connection', async () => {
    const fetch = createPinnedFetch({ allowLoopback: false });
    let error: unknown;
    try {
      await fetch(`http://127.0.0.1:${port}/x`);
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(BlockedAddressError);
    expect(hits).to.deep.equal([]);
  });

  it('when a host name resolves to a private address at connect time, then the connection is refused', async () => {
    const fetch = createPinnedFetch({
      allowLoopback: true,
      resolve: () => Promise.resolve([{ address: '10.0.0.5', family: 4 }]),
    });
    let error: unknown;
    try {
      await fetch('http://case.example.org/ims/case/v1p0/CFPackages/1');
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(BlockedAddressError);
    expect((error as Error).message).to.contain('10.0.0.5');
  });

  it('when one of several addresses is private, then the host is refused', async () => {
    const fetch = createPinnedFetch({
      allowLoopback: false,
      resolve: () =>
        Promise.resolve([
          { address: '93.184.216.34', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ]),
    });
    let error: unknown;
    try {
      await fetch(`http://case.example.org:${port}/`);
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(BlockedAddressError);
    expect(hits).to.deep.equal([]);
  });

  it('when a host name is resolved, then the socket connects to the checked address (pinned), with the Host header kept', async () => {
    const fetch = createPinnedFetch({
      allowLoopback: true,
      resolve: (hostname) =>
        Promise.resolve(hostname === 'case.test' ? [{ address: '127.0.0.1', family: 4 }] : []),
    });
    const response = await fetch(`http://case.test:${port}/pinned`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('x-host')).to.equal(`case.test:${port}`);
    expect(hits).to.deep.equal(['/pinned']);
  });

  it('when the server redirects, then the redirect is returned, never followed', async () => {
    const fetch = createPinnedFetch({ allowLoopback: true });
    const response = await fetch(`http://127.0.0.1:${port}/redirect`);
    expect(response.status).to.equal(302);
    expect(response.headers.get('location')).to.equal('http://10.0.0.1/');
    expect(hits).to.deep.equal(['/redirect']);
  });

  it('when a POST carries a string body, then it is sent', async () => {
    const fetch = createPinnedFetch({ allowLoopback: true });
    const response = await fetch(`http://127.0.0.1:${port}/post`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(await response.json()).to.deep.equal({ ok: true, method: 'POST' });
  });
});
