import {
  GetSecretValueCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { KeySource, KeySourceError } from './key-source';
import { isRecord } from '../http/is-record';

/**
 * A key in AWS Secrets Manager (`aws-sm:<secret-id>[#<json-field>]`). Without a field the
 * secret string is the key; with one, the string is a JSON object holding it. Credentials,
 * region and endpoint come from the SDK's own chain (AWS_REGION, AWS_ENDPOINT_URL_SECRETS_MANAGER…).
 */
export class AwsSecretsManagerKeySource extends KeySource {
  readonly reloadable = true;

  constructor(
    readonly name: string,
    private readonly ref: string,
    private readonly secretId: string,
    private readonly field: string | undefined,
    private readonly client: SecretsManagerClient,
  ) {
    super();
  }

  get description(): string {
    return `${this.name}=${this.ref}`;
  }

  async load(): Promise<string> {
    let secret: string | undefined;
    try {
      secret = (await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId })))
        .SecretString;
    } catch (err) {
      throw new KeySourceError(this, awsCause(err));
    }
    if (secret === undefined) {
      throw new KeySourceError(
        this,
        'the secret has no string value (binary secrets are not used)',
      );
    }
    if (this.field === undefined) return secret.trim();
    let doc: unknown;
    try {
      doc = JSON.parse(secret);
    } catch {
      // The parser's message quotes the text it choked on, which is the secret: never pass it on.
      throw new KeySourceError(
        this,
        `the secret string is not JSON, so it has no field "${this.field}"`,
      );
    }
    const value = isRecord(doc) ? doc[this.field] : undefined;
    if (typeof value !== 'string') {
      throw new KeySourceError(this, `the secret has no string field "${this.field}"`);
    }
    return value.trim();
  }
}

const NETWORK_CODE =
  /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b/;

/**
 * What went wrong, for an operator: the service's own errors by name and message (they never
 * hold a secret value), network failures by code.
 */
function awsCause(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; message?: unknown };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  if (err instanceof SecretsManagerServiceException) {
    const label =
      name === 'ResourceNotFoundException'
        ? 'secret not found'
        : name === 'AccessDeniedException'
          ? 'access denied'
          : 'refused';
    return `${label} (${name}: ${err.message.slice(0, 200)})`;
  }
  if (name === 'CredentialsProviderError')
    return 'no AWS credentials found (CredentialsProviderError)';
  if (name === 'TimeoutError') return 'AWS Secrets Manager did not answer in time';
  const network =
    typeof e.code === 'string'
      ? e.code
      : // The SDK re-wraps an error that is not an Error of its own realm into a bare message.
        NETWORK_CODE.exec(typeof e.message === 'string' ? e.message : '')?.[0];
  if (network !== undefined) return `AWS Secrets Manager unreachable (${network})`;
  // The SDK's client-side errors (e.g. "Region is missing") describe configuration, not data.
  const message = typeof e.message === 'string' ? `: ${e.message.slice(0, 200)}` : '';
  return `AWS Secrets Manager request failed (${name}${message})`;
}
