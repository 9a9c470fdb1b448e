import { z } from 'zod';

/**
 * The authorization-request parameters the BFF sets itself (docs/configuration.md, Sign-in):
 * OIDC_AUTH_PARAMS may not replace them, or a sign-in would lose its PKCE, state or nonce, or go
 * to another client or redirect URI.
 */
const PROTOCOL_PARAM =
  /^(client_id|redirect_uri|state|nonce|response_type|scope|code_challenge.*)$/;

/**
 * OIDC_AUTH_PARAMS: extra parameters for the authorization request, in query-string form
 * (`audience=x&acr_values=y`), as name → value. The message never repeats the value.
 */
export const authParamsSchema = z.string().transform((text, ctx) => {
  const params = new URLSearchParams(text);
  if ([...params.keys()].some((name) => PROTOCOL_PARAM.test(name))) {
    ctx.addIssue({
      code: 'custom',
      message:
        'must not set client_id, redirect_uri, state, nonce, code_challenge*, response_type or scope: the BFF sets them itself',
    });
    return z.NEVER;
  }
  return Object.fromEntries(params);
});
