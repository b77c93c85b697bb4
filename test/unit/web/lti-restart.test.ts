import type { ServerResponse } from 'node:http';
import { expect } from 'chai';
import { moodleRelaunchUrl, restartUrl } from '../../../src/web/lti-restart.ts';
import { allowFrameAncestors } from '../../../src/web/middleware/security.ts';

describe('restarting a login in a new window', () => {
  const moodle = 'https://moodle.district.example';

  it("when the hint is Moodle's JSON with a course module id, then the restart is Moodle's launch page for it", () => {
    expect(moodleRelaunchUrl(moodle, '{"cmid":42,"launchid":"ltilaunch7_99"}')).to.equal(
      `${moodle}/mod/lti/launch.php?id=42`,
    );
    // A site installed under a path keeps it.
    expect(moodleRelaunchUrl(`${moodle}/lms`, '{"cmid":"42","launchid":"x"}')).to.equal(
      `${moodle}/lms/mod/lti/launch.php?id=42`,
    );
  });

  for (const [name, hint] of [
    ['an opaque hint', 'opaque-hint'],
    ['no hint', undefined],
    ['JSON without a launch id', '{"cmid":42}'],
    ['Deep Linking (no course module id)', '{"launchid":"ltilaunch_x"}'],
    ['a course module id that is not a number', '{"cmid":"42/../../admin","launchid":"x"}'],
    ['broken JSON', '{"cmid":'],
  ] as const) {
    it(`when the hint is ${name}, then there is no Moodle launch page to open`, () => {
      expect(moodleRelaunchUrl(moodle, hint)).to.equal(undefined);
    });
  }

  it('when the issuer is not an http(s) URL, then there is no Moodle launch page to open', () => {
    expect(moodleRelaunchUrl('javascript:alert(1)', '{"cmid":1,"launchid":"x"}')).to.equal(
      undefined,
    );
  });

  it("when the hint is not Moodle's, then the restart is our login with the LMS's own parameters", () => {
    const url = new URL(
      restartUrl('https://tool.example', '/lti/login', {
        state: 's',
        issuer: 'https://schoology.schoology.com',
        clientId: '123',
        deploymentId: '1-2',
        targetLinkUri: 'https://tool.example/lti/launch',
        loginHint: 'u1',
        messageHint: 'm1',
      }),
    );
    expect(url.origin + url.pathname).to.equal('https://tool.example/lti/login');
    expect(Object.fromEntries(url.searchParams)).to.deep.equal({
      iss: 'https://schoology.schoology.com',
      login_hint: 'u1',
      target_link_uri: 'https://tool.example/lti/launch',
      lti_message_hint: 'm1',
      client_id: '123',
      lti_deployment_id: '1-2',
    });
  });
});

describe('frame-ancestors widened for one response', () => {
  function response(policy: string) {
    const headers = new Map<string, string>([['Content-Security-Policy', policy]]);
    return {
      getHeader: (name: string) => headers.get(name),
      setHeader: (name: string, value: string) => headers.set(name, value),
      policy: () => headers.get('Content-Security-Policy'),
    };
  }

  it('when origins are added, then only frame-ancestors changes', () => {
    const res = response(
      "default-src 'self';frame-ancestors 'self' https://a.example;form-action 'self'",
    );
    allowFrameAncestors(res as unknown as ServerResponse, [
      'https://moodle.example',
      'http://10.0.0.5:8080',
    ]);
    expect(res.policy()).to.equal(
      "default-src 'self';frame-ancestors 'self' https://a.example https://moodle.example http://10.0.0.5:8080;form-action 'self'",
    );
  });

  it('when an entry is not a bare origin, then it is ignored', () => {
    const policy = "frame-ancestors 'self'";
    const res = response(policy);
    allowFrameAncestors(res as unknown as ServerResponse, [
      'https://moodle.example/path',
      "'unsafe-inline'",
      '*',
      'javascript:alert(1)',
    ]);
    expect(res.policy()).to.equal(policy);
  });
});
