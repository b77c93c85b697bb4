import { sql, type Kysely } from 'kysely';

// Tables of the LTI area. Every table holding district data carries tenant_id (STYLE: tenancy);
// platforms, login states, nonces and tool keys are operator-level.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Per-district switches. Email is personal data: stored only when the district turns it on.
  await sql`
    ALTER TABLE tenants ADD COLUMN settings jsonb NOT NULL DEFAULT '{"storeEmail": false}'::jsonb
  `.execute(db);

  await sql`
    CREATE TABLE platforms (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      issuer text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2000),
      client_id text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      flavour text NOT NULL CHECK (flavour IN ('canvas', 'schoology', 'moodle', 'generic')),
      auth_login_url text NOT NULL,
      auth_token_url text NOT NULL,
      token_audience text,
      jwks_url text NOT NULL,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending')),
      capture_first_deployment boolean NOT NULL DEFAULT false,
      default_tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (issuer, client_id),
      CHECK (NOT capture_first_deployment OR default_tenant_id IS NOT NULL)
    )
  `.execute(db);

  await sql`
    CREATE TABLE deployments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      platform_id uuid NOT NULL REFERENCES platforms (id) ON DELETE RESTRICT,
      deployment_id text NOT NULL CHECK (length(deployment_id) BETWEEN 1 AND 500),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
      label text,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (platform_id, deployment_id)
    )
  `.execute(db);
  await sql`CREATE INDEX deployments_tenant_idx ON deployments (tenant_id)`.execute(db);

  await sql`
    CREATE TABLE login_states (
      state text PRIMARY KEY,
      nonce text NOT NULL,
      platform_id uuid NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
      deployment_id text,
      target_link_uri text NOT NULL,
      storage_target text,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db);
  await sql`CREATE INDEX login_states_expires_idx ON login_states (expires_at)`.execute(db);

  await sql`
    CREATE TABLE used_nonces (
      issuer text NOT NULL,
      nonce text NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (issuer, nonce)
    )
  `.execute(db);
  await sql`CREATE INDEX used_nonces_expires_idx ON used_nonces (expires_at)`.execute(db);

  await sql`
    CREATE TABLE tool_keys (
      kid text PRIMARY KEY,
      status text NOT NULL CHECK (status IN ('next', 'current', 'retiring', 'retired')),
      public_jwk jsonb NOT NULL,
      encrypted_private_key jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      activated_at timestamptz,
      retired_at timestamptz
    )
  `.execute(db);
  // At most one key signs at a time, and at most one waits to.
  await sql`CREATE UNIQUE INDEX tool_keys_one_current ON tool_keys (status) WHERE status IN ('current', 'next')`.execute(
    db,
  );

  await sql`
    CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      issuer text NOT NULL,
      sub text NOT NULL,
      name text,
      given_name text,
      family_name text,
      email text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      UNIQUE (tenant_id, issuer, sub)
    )
  `.execute(db);

  await sql`
    CREATE TABLE courses (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      deployment_row_id uuid NOT NULL REFERENCES deployments (id) ON DELETE RESTRICT,
      context_id text NOT NULL,
      title text,
      label text,
      ags_line_items_url text,
      ags_scopes text[] NOT NULL DEFAULT '{}',
      nrps_memberships_url text,
      nrps_service_versions text[] NOT NULL DEFAULT '{}',
      updated_at timestamptz NOT NULL,
      UNIQUE (deployment_row_id, context_id)
    )
  `.execute(db);
  await sql`CREATE INDEX courses_tenant_idx ON courses (tenant_id)`.execute(db);

  await sql`
    CREATE TABLE enrollments (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      roles text[] NOT NULL DEFAULT '{}',
      status text NOT NULL CHECK (status IN ('active', 'inactive')),
      source text NOT NULL CHECK (source IN ('launch', 'roster')),
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (course_id, user_id)
    )
  `.execute(db);
  await sql`CREATE INDEX enrollments_user_idx ON enrollments (user_id)`.execute(db);

  await sql`
    CREATE TABLE resource_links (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      resource_link_id text NOT NULL,
      title text,
      line_item_url text,
      created_via text NOT NULL CHECK (created_via IN ('launch', 'deep_link')),
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      UNIQUE (course_id, resource_link_id)
    )
  `.execute(db);

  await sql`
    CREATE TABLE sessions (
      id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      course_id uuid REFERENCES courses (id) ON DELETE CASCADE,
      roles text[] NOT NULL DEFAULT '{}',
      csrf_secret text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL
    )
  `.execute(db);
  await sql`CREATE INDEX sessions_expires_idx ON sessions (expires_at)`.execute(db);

  await sql`
    CREATE TABLE admin_users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE,
      username text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9._@-]{3,100}$'),
      password_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      disabled_at timestamptz
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'admin_users',
    'sessions',
    'resource_links',
    'enrollments',
    'courses',
    'users',
    'tool_keys',
    'used_nonces',
    'login_states',
    'deployments',
    'platforms',
  ]) {
    await sql`DROP TABLE ${sql.id(table)}`.execute(db);
  }
  await sql`ALTER TABLE tenants DROP COLUMN settings`.execute(db);
}
