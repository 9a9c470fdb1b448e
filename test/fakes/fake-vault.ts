import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the fake received it. */
export interface VaultCall {
  readonly method: string;
  readonly path: string;
  readonly token: string | undefined;
  readonly namespace: string | undefined;
  readonly body: unknown;
}

/**
 * HashiCorp Vault on loopback, as far as the key sources use it: KV v2 reads
 * (`GET /v1/<mount>/data/<path>`) and Kubernetes login (`POST /v1/auth/<mount>/login`). The
 * test sets the secrets, the tokens it accepts and the role -> service-account JWT pairs.
 */
export class FakeVault {
  /** `<mount>/<path>` -> the secret's data map. */
  readonly kv = new Map<string, Record<string, unknown>>();
  /** Tokens accepted for reads; Kubernetes logins add theirs. */
  readonly tokens = new Set<string>();
  /** Role -> the JWT a login for it must present. */
  readonly k8sRoles = new Map<string, string>();
  k8sMount = 'kubernetes';
  /** `lease_duration` of tokens issued by login, in seconds. */
  leaseSeconds = 3600;
  /** When set, every request must carry this X-Vault-Namespace. */
  namespace: string | undefined;
  /** Never answer (for deadline tests). */
  hang = false;
  readonly calls: VaultCall[] = [];
  /** Tokens issued by Kubernetes login, in order. */
  readonly issuedTokens: string[] = [];
  private issued = 0;
  private readonly sockets = new Set<Socket>();

  private readonly server: Server = createServer((req, res) => this.handle(req, res));

  private constructor() {
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(): Promise<FakeVault> {
    const fake = new FakeVault();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** `http://127.0.0.1:<port>`, for VAULT_ADDR. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Revokes every token issued by login, as Vault does when a lease expires. */
  revokeLoginTokens(): void {
    for (const t of [...this.tokens]) if (t.startsWith('hvs.k8s-')) this.tokens.delete(t);
  }

  callsTo(path: string): VaultCall[] {
    return this.calls.filter((c) => c.path === path);
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        body = raw;
      }
      const path = req.url ?? '';
      const call: VaultCall = {
        method: req.method ?? '',
        path,
        token: req.headers['x-vault-token'] as string | undefined,
        namespace: req.headers['x-vault-namespace'] as string | undefined,
        body,
      };
      this.calls.push(call);
      if (this.hang) return;
      if (this.namespace !== undefined && call.namespace !== this.namespace) {
        return send(res, 403, { errors: ['permission denied'] });
      }
      if (call.method === 'POST' && path === `/v1/auth/${this.k8sMount}/login`) {
        return this.login(res, body);
      }
      const read = /^\/v1\/([^/]+)\/data\/(.+)$/.exec(path);
      if (call.method === 'GET' && read) {
        if (call.token === undefined || !this.tokens.has(call.token)) {
          return send(res, 403, { errors: ['permission denied'] });
        }
        const data = this.kv.get(`${read[1]}/${decodeURIComponent(read[2] as string)}`);
        if (data === undefined) return send(res, 404, { errors: [] });
        return send(res, 200, {
          request_id: '0f0e0d0c-0b0a-4909-8807-060504030201',
          data: { data, metadata: { version: 1, destroyed: false, deletion_time: '' } },
        });
      }
      send(res, 404, { errors: [] });
    });
  }

  private login(res: ServerResponse, body: unknown): void {
    const { role, jwt } = (body ?? {}) as { role?: unknown; jwt?: unknown };
    if (typeof role !== 'string' || !this.k8sRoles.has(role)) {
      return send(res, 400, { errors: [`invalid role name "${String(role)}"`] });
    }
    if (this.k8sRoles.get(role) !== jwt) return send(res, 403, { errors: ['permission denied'] });
    const token = `hvs.k8s-${++this.issued}`;
    this.tokens.add(token);
    this.issuedTokens.push(token);
    send(res, 200, {
      auth: {
        client_token: token,
        lease_duration: this.leaseSeconds,
        renewable: true,
        policies: ['gather'],
      },
    });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
