import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One GetSecretValue call as the fake received it. */
export interface SecretsManagerCall {
  readonly target: string | undefined;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly secretId: unknown;
}

/**
 * AWS Secrets Manager on loopback, as far as the key sources use it: `GetSecretValue` in the
 * JSON 1.1 protocol (POST /, `X-Amz-Target: secretsmanager.GetSecretValue`). Errors have the
 * service's `__type` shape. Signatures are not verified; the test sets the secrets and the
 * secret ids it denies, and reads back every call.
 */
export class FakeSecretsManager {
  /** Secret id -> SecretString; a Buffer stands for a binary secret. */
  readonly secrets = new Map<string, string | Buffer>();
  readonly denied = new Set<string>();
  readonly calls: SecretsManagerCall[] = [];

  private readonly server: Server = createServer((req, res) => this.handle(req, res));

  private constructor() {}

  static async start(): Promise<FakeSecretsManager> {
    const fake = new FakeSecretsManager();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_SECRETS_MANAGER or the client's endpoint. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  callsFor(secretId: string): number {
    return this.calls.filter((c) => c.secretId === secretId).length;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let input: { SecretId?: unknown } = {};
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: unknown };
      } catch {
        // Answered below as a malformed request.
      }
      const target = req.headers['x-amz-target'] as string | undefined;
      const contentType = req.headers['content-type'];
      this.calls.push({
        target,
        contentType,
        authorization: req.headers.authorization,
        secretId: input.SecretId,
      });
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        return send(res, 400, { __type: 'UnknownOperationException' });
      }
      if (contentType !== 'application/x-amz-json-1.1' || typeof input.SecretId !== 'string') {
        return send(res, 400, { __type: 'SerializationException' });
      }
      const id = input.SecretId;
      if (this.denied.has(id)) {
        return send(res, 400, {
          __type: 'AccessDeniedException',
          Message: `User: arn:aws:iam::000000000000:user/bff is not authorized to perform: secretsmanager:GetSecretValue on resource: ${id}`,
        });
      }
      const secret = this.secrets.get(id);
      if (secret === undefined) {
        return send(res, 400, {
          __type: 'ResourceNotFoundException',
          Message: "Secrets Manager can't find the specified secret.",
        });
      }
      send(res, 200, {
        ARN: `arn:aws:secretsmanager:eu-west-1:000000000000:secret:${id}-AbCdEf`,
        Name: id,
        VersionId: '00000000-0000-4000-8000-000000000000',
        ...(typeof secret === 'string'
          ? { SecretString: secret }
          : { SecretBinary: secret.toString('base64') }),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1767225600,
      });
    });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': '11111111-2222-4333-8444-555555555555',
  });
  res.end(text);
}
