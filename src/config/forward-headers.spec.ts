import { forwardHeaderProblem } from './forward-headers';

describe('forwardHeaderProblem', () => {
  it.each(['X-Tenant-Hint', 'x-client-version', 'Sec-Fetch-Mode', 'Origin', 'x-user-agent-hint'])(
    'lets an operator add %s',
    (name) => {
      expect(forwardHeaderProblem(name)).toBeUndefined();
    },
  );

  it.each([
    // Named in docs/contract.md, "Headers to Gather", in any case.
    'Cookie',
    'authorization',
    'X-API-Key',
    'proxy-authorization',
    'Connection',
    'keep-alive',
    'transfer-encoding',
    'upgrade',
    'te',
    'trailer',
    'proxy-connection',
    'x-http-method-override',
    'X-HTTP-Method',
    'x-method-override',
    'x-original-url',
    'x-rewrite-url',
    'x-forwarded-prefix',
    'x-forwarded-server',
    'x-forwarded-port',
    'x-client-ip',
    'true-client-ip',
    'X-Real-IP',
    'forwarded',
    'baggage',
    'host',
    'content-length',
    'x-request-id',
    'traceparent',
    'tracestate',
    // The families, with the names the attack of issue #23 used.
    'Via',
    'X-Forwarded-For',
    'X-Forwarded-Uri',
    'X-Forwarded-User',
    'x-forwarded-anything',
    'X-Original-Method',
    'X-Original-Host',
    'X-Cluster-Client-IP',
    'Fastly-Client-IP',
    'X-Auth-Request-User',
    'X-Remote-User',
    'CF-Connecting-IP',
    'X-Envoy-Original-Path',
    'X-Rewrite-URI',
    'X-Host',
  ])('refuses %s', (name) => {
    expect(forwardHeaderProblem(name)).toMatch(/is never forwarded to Gather/);
  });

  it.each(['', 'x tenant', 'x-tenant:', 'x-ténant', 'x-a\r\nx-b'])(
    'refuses %j as not a header name',
    (name) => {
      expect(forwardHeaderProblem(name)).toBe(`"${name}" is not a header name`);
    },
  );
});
