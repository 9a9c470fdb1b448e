/**
 * Secret-manager references as docs/contract.md writes them ("Keys"):
 * `aws-sm:<secret-id>[#<json-field>]` and `vault:<mount>/<path>[#<field>]`. Parsed once, by
 * configuration, which refuses bad syntax and hands the parsed form on to the source factory.
 */
export type KeyRef =
  | { readonly kind: 'aws-sm'; readonly secretId: string; readonly field: string | undefined }
  | {
      readonly kind: 'vault';
      readonly mount: string;
      readonly path: string;
      readonly field: string;
    };

export type ParsedKeyRef = KeyRef | { readonly kind: 'invalid'; readonly problem: string };

/** The field `vault kv put secret/gather api_key=…` writes, the contract's default. */
export const DEFAULT_VAULT_FIELD = 'api_key';

export const KEY_REF_FORMS = 'aws-sm:<secret-id>[#<json-field>] or vault:<mount>/<path>[#<field>]';

/** Secret names and ARNs as AWS allows them (ARNs add the colon). */
const AWS_SECRET_ID = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;
/** One path segment of a Vault mount or secret: no slashes, no URL syntax, no dot segments. */
const VAULT_SEGMENT = /^[A-Za-z0-9_.@+=-]+$/;
const FIELD = /^[^\s#]+$/;

const invalid = (problem: string): ParsedKeyRef => ({ kind: 'invalid', problem });

export function parseKeyRef(ref: string): ParsedKeyRef {
  const hash = ref.indexOf('#');
  const body = hash < 0 ? ref : ref.slice(0, hash);
  const field = hash < 0 ? undefined : ref.slice(hash + 1);
  if (field !== undefined && !FIELD.test(field)) {
    return invalid('has an empty or malformed #field');
  }
  if (body.startsWith('aws-sm:')) {
    const secretId = body.slice('aws-sm:'.length);
    return AWS_SECRET_ID.test(secretId)
      ? { kind: 'aws-sm', secretId, field }
      : invalid('needs a secret name or ARN after aws-sm:');
  }
  if (body.startsWith('vault:')) {
    const [mount, ...rest] = body.slice('vault:'.length).split('/');
    const segments = [mount ?? '', ...rest];
    if (rest.length === 0 || segments.some((s) => !VAULT_SEGMENT.test(s) || /^\.+$/.test(s))) {
      return invalid('needs <mount>/<path> after vault: (e.g. vault:secret/gather#api_key)');
    }
    return {
      kind: 'vault',
      mount: mount as string,
      path: rest.join('/'),
      field: field ?? DEFAULT_VAULT_FIELD,
    };
  }
  return invalid(`is not a secret-manager reference (expected ${KEY_REF_FORMS})`);
}
