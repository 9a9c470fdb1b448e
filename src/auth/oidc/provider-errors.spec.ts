import * as oidc from 'openid-client';
import { describeProviderError, providerUnavailable } from './provider-errors';

const clientError = (code: string) => Object.assign(new oidc.ClientError('failed'), { code });
const bodyError = (status: number) =>
  new oidc.ResponseBodyError('server responded with an error', {
    cause: { error: status >= 500 ? 'server_error' : 'invalid_grant' },
    response: new Response(null, { status }),
  });

describe('providerUnavailable', () => {
  it('is true when the provider could not be reached, timed out or failed itself', () => {
    const refused = new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    expect(providerUnavailable(refused)).toBe(true);
    expect(providerUnavailable(clientError('OAUTH_TIMEOUT'))).toBe(true);
    expect(providerUnavailable(clientError('OAUTH_ABORT'))).toBe(true);
    expect(providerUnavailable(bodyError(503))).toBe(true);
  });

  it('is false when the provider refused, or its answer does not verify', () => {
    expect(providerUnavailable(bodyError(400))).toBe(false);
    expect(providerUnavailable(clientError('OAUTH_JWT_CLAIM_COMPARISON_FAILED'))).toBe(false);
    const denied = new oidc.AuthorizationResponseError(
      'authorization response from the server is an error',
      {
        cause: new URLSearchParams({ error: 'access_denied' }),
      },
    );
    expect(providerUnavailable(denied)).toBe(false);
  });
});

describe('describeProviderError', () => {
  it('names the kind, code and cause', () => {
    const refused = new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    expect(describeProviderError(refused)).toBe('fetch failed / ECONNREFUSED');
    expect(describeProviderError(bodyError(400))).toBe('HTTP 400 "invalid_grant"');
    expect(describeProviderError(clientError('OAUTH_TIMEOUT'))).toBe('failed / OAUTH_TIMEOUT');
  });
});
