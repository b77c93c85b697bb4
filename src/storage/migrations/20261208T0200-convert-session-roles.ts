import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * `sessions.roles` hold the LMS-neutral roles (`teacher`, `student`, `mentor`, `administrator`;
 * src/lms/roles.ts) instead of the LTI role URIs of the launch, so nothing above the LMS adapters
 * reads an LTI role. Live sessions are converted here. The rules are a frozen copy of
 * `parseRole` in src/lti/claims.ts as of this migration: the full LIS v2 URI, a context sub-role
 * URI (`membership/Instructor#TeachingAssistant`), the LIS v1 URN (with or without a sub-role) and
 * the short context form (`Instructor`). Neutral words already there are kept, so running it
 * twice changes nothing.
 */

const MEMBERSHIP = 'http://purl.imsglobal.org/vocab/lis/v2/membership';
const INSTITUTION = 'http://purl.imsglobal.org/vocab/lis/v2/institution/person';
const SYSTEM = 'http://purl.imsglobal.org/vocab/lis/v2/system/person';

interface RolePatterns {
  readonly exact: readonly string[];
  readonly like: readonly string[];
}

function contextRole(neutral: string, principal: string): RolePatterns {
  return {
    exact: [neutral, principal, `${MEMBERSHIP}#${principal}`, `urn:lti:role:ims/lis/${principal}`],
    like: [`${MEMBERSHIP}/${principal}#_%`, `urn:lti:role:ims/lis/${principal}/%`],
  };
}

const NEUTRAL: readonly (readonly [string, RolePatterns])[] = [
  ['teacher', contextRole('teacher', 'Instructor')],
  ['student', contextRole('student', 'Learner')],
  ['mentor', contextRole('mentor', 'Mentor')],
  [
    'administrator',
    {
      exact: [
        'administrator',
        `${INSTITUTION}#Administrator`,
        `${SYSTEM}#Administrator`,
        `${SYSTEM}#SysAdmin`,
        'urn:lti:instrole:ims/lis/Administrator',
        'urn:lti:sysrole:ims/lis/Administrator',
        'urn:lti:sysrole:ims/lis/SysAdmin',
      ],
      like: [
        'urn:lti:instrole:ims/lis/Administrator/%',
        'urn:lti:sysrole:ims/lis/Administrator/%',
        'urn:lti:sysrole:ims/lis/SysAdmin/%',
      ],
    },
  ],
];

/** `ARRAY['teacher', …]`: the neutral roles one of whose patterns a stored role matches. */
function neutralRoles(): RawBuilder<string[]> {
  const parts = NEUTRAL.map(
    ([neutral, patterns]) => sql`CASE WHEN EXISTS (
      SELECT 1 FROM unnest(roles) AS role
      WHERE role = ANY(${[...patterns.exact]}::text[]) OR role LIKE ANY(${[...patterns.like]}::text[])
    ) THEN ${neutral}::text END`,
  );
  return sql<string[]>`array_remove(ARRAY[${sql.join(parts)}]::text[], NULL)`;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE sessions SET roles = ${neutralRoles()}`.execute(db);
}

/** Back to the LIS v2 URIs each neutral role stands for (sub-roles and URN forms are not kept). */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    UPDATE sessions SET roles = ARRAY(
      SELECT CASE role
        WHEN 'teacher' THEN ${`${MEMBERSHIP}#Instructor`}::text
        WHEN 'student' THEN ${`${MEMBERSHIP}#Learner`}::text
        WHEN 'mentor' THEN ${`${MEMBERSHIP}#Mentor`}::text
        WHEN 'administrator' THEN ${`${INSTITUTION}#Administrator`}::text
        ELSE role
      END
      FROM unnest(roles) AS role
    )
  `.execute(db);
}
