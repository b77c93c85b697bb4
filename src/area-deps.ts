import type { Kysely } from 'kysely';
import type { Logger } from './logger.ts';
import type { JobRunner } from './jobs/runner.ts';
import type { FetchFunction, LmsHttpClient } from './lti/http.ts';
import type { TokenClient } from './lti/token-client.ts';
import type { Database } from './storage/schema.ts';

/** What each feature area's services are built from (see `createAppServices`). */
export interface AreaDeps {
  readonly db: Kysely<Database>;
  readonly now: () => Date;
  readonly http: LmsHttpClient;
  readonly tokenClient: TokenClient;
  /** Encrypts secrets at rest (e.g. Google refresh tokens), like the tool's private keys. */
  readonly keyEncryptionSecret: string;
  readonly fetch: FetchFunction;
  /** For background work that has nobody to show an error to (recompute jobs). */
  readonly logger: Logger | undefined;
  /** The app's one background-job runner: areas register their job kinds and queue jobs on it. */
  readonly jobs: JobRunner;
}
