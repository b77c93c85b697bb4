import { expect } from 'chai';
import * as oidc from 'openid-client';
import {
  authorizationUrl,
  CLASSROOM_SCOPES,
  longScopeName,
  missingScopes,
  newAuthorizationStart,
} from '../../../src/classroom/sign-in.ts';

const config = new oidc.Configuration(
  {
    issuer: 'https://accounts.google.com',
    authorization_endpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
  },
  'client.apps.googleusercontent.com',
);

async function prompt(input: { loginHint?: string; askConsent: boolean }) {
  const url = await authorizationUrl(config, {
    start: newAuthorizationStart(),
    redirectUri: 'https://tool.example/classroom/oauth/callback',
    loginHint: input.loginHint,
    allowedDomains: ['district.example.edu'],
    askConsent: input.askConsent,
  });
  return url.searchParams.get('prompt');
}

describe('Classroom sign-in: prompt and granted scopes', () => {
  it('when Classroom names the account and no refresh token is needed, then no prompt at all', async () => {
    expect(await prompt({ loginHint: '1123', askConsent: false })).to.equal(null);
  });

  it('when there is no login_hint, then the account chooser; consent only when asked for', async () => {
    expect(await prompt({ askConsent: false })).to.equal('select_account');
    expect(await prompt({ askConsent: true })).to.equal('select_account consent');
    expect(await prompt({ loginHint: '1123', askConsent: true })).to.equal('consent');
  });

  it('when Google reports short or long scope names, then the missing permissions per role are named in words', () => {
    const all = CLASSROOM_SCOPES.map(longScopeName);
    expect(missingScopes(all, 'teacher')).to.deep.equal([]);
    expect(missingScopes(all, 'student')).to.deep.equal([]);
    expect(longScopeName('email')).to.equal('https://www.googleapis.com/auth/userinfo.email');
    const withoutGrades = all.filter((s) => !s.endsWith('classroom.coursework.students'));
    const missing = missingScopes(withoutGrades, 'teacher');
    expect(missing.map((m) => m.scope)).to.deep.equal([
      'https://www.googleapis.com/auth/classroom.coursework.students',
    ]);
    expect(missing[0]?.words).to.match(/grades/);
    // A student needs only the student add-on scope.
    expect(missingScopes(withoutGrades, 'student')).to.deep.equal([]);
    expect(missingScopes(['openid'], 'student').map((m) => m.scope)).to.deep.equal([
      'https://www.googleapis.com/auth/classroom.addons.student',
    ]);
  });
});
