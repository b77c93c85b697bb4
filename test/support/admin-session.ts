import { expect } from 'chai';
import type { Express } from 'express';
import request from 'supertest';
import { createAppServices, type AppServices } from '../../src/app-services.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { Readiness } from '../../src/readiness.ts';
import { createApp } from '../../src/web/app.ts';
import { LogCapture, testConfig } from './app.ts';
import type { TestDatabase } from './database.ts';

/** The admin pages with a password sign-in, as a browser without JavaScript uses them. */

export const PUBLIC_URL = 'https://mastery.example.org';
export const PASSWORD = 'correct horse battery staple';

export function buildApp(
  database: TestDatabase,
  now?: () => Date,
): { app: Express; services: AppServices; logs: LogCapture } {
  const config = testConfig({ PUBLIC_URL });
  const logs = new LogCapture();
  const services = createAppServices({
    db: database.db,
    keyEncryptionSecret: 'test-key-encryption-secret-0123456789abcdef',
    ...(now === undefined ? {} : { now }),
  });
  const app = createApp(config, {
    logger: createLogger({ level: 'info' }, logs.stream),
    database,
    readiness: new Readiness(database.db),
    metrics: createMetrics({ defaultMetrics: false }),
    services,
  });
  return { app, services, logs };
}

/** The value of a cookie set by a response (supertest keeps no Secure cookies over http). */
export function setCookie(res: request.Response, name: string): string | undefined {
  const header: unknown = res.headers['set-cookie'];
  const list = Array.isArray(header) ? (header as string[]) : [];
  const found = list.find((c) => c.startsWith(`${name}=`));
  return found?.split(';')[0]?.slice(name.length + 1);
}

export function csrfIn(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (token === undefined) throw new Error(`no CSRF field in:\n${html.slice(0, 400)}`);
  return token;
}

export async function attemptSignIn(app: Express, username: string, password: string) {
  const page = await request(app).get('/admin/login');
  const loginCookie = setCookie(page, 'mp_admin_login') ?? '';
  return request(app)
    .post('/admin/login')
    .set('Cookie', `mp_admin_login=${loginCookie}`)
    .type('form')
    .send({ _csrf: csrfIn(page.text), username, password });
}

export interface SignedIn {
  readonly cookie: string;
  get(path: string): request.Test;
  post(path: string, fields: Record<string, string>): Promise<request.Response>;
}

export async function signIn(app: Express, username: string): Promise<SignedIn> {
  const res = await attemptSignIn(app, username, PASSWORD);
  expect(res.status, res.text).to.equal(303);
  const token = setCookie(res, 'mp_admin');
  if (token === undefined) throw new Error('no admin cookie');
  const cookie = `mp_admin=${token}`;
  const get = (path: string) => request(app).get(path).set('Cookie', cookie);
  return {
    cookie,
    get,
    post: async (path, fields) => {
      const page = await get('/admin');
      return request(app)
        .post(path)
        .set('Cookie', cookie)
        .type('form')
        .send({ _csrf: csrfIn(page.text), ...fields });
    },
  };
}
