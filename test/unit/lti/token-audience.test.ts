import { expect } from 'chai';
import { clientAssertionAudience } from '../../../src/lti/token-client.ts';

describe("client assertion audience (Dynamic Registration's authorization_server)", () => {
  const platform = {
    issuer: 'https://canvas.instructure.com',
    clientId: '10000000000001',
    tokenEndpoint: 'https://sso.canvaslms.com/login/oauth2/token',
  };

  it('when the platform names no other audience, then aud is the token endpoint', () => {
    expect(clientAssertionAudience(platform)).to.equal(platform.tokenEndpoint);
  });

  it('when the platform names a bare host (Canvas), then aud lists the token endpoint first and the host beside it', () => {
    expect(
      clientAssertionAudience({ ...platform, tokenAudience: 'sso.canvaslms.com' }),
    ).to.deep.equal([platform.tokenEndpoint, 'sso.canvaslms.com']);
  });

  it('when the platform names another URL, then aud is that URL', () => {
    expect(
      clientAssertionAudience({ ...platform, tokenAudience: 'https://auth.example/oauth2/token' }),
    ).to.equal('https://auth.example/oauth2/token');
  });
});
