import { readFile } from 'node:fs/promises';
import { isRecord } from '../http/is-record';

/** The `vault` configuration section (VAULT_* variables), with the address required. */
export interface VaultSettings {
  readonly addr: string;
  readonly token?: string | undefined;
  readonly namespace?: string | undefined;
  readonly k8sRole?: string | undefined;
  readonly k8sTokenFile: string;
  readonly k8sMount: string;
}

/** A Vault read failed; `message` is the cause, fit to follow a reference in a start-up error. */
export class VaultError extends Error {
  override readonly name = 'VaultError';
}

/** Renew a Kubernetes-issued token a little before Vault expires it. */
const RENEW_AT_FRACTION = 0.9;

interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

/**
 * The slice of Vault's HTTP API the key sources need (KV v2 reads, Kubernetes login), on the
 * global fetch: a client library would add a dependency for two requests. Every call is
 * bounded by `timeoutMs`. With VAULT_K8S_ROLE set, Kubernetes auth is used (it wins over a
 * VAULT_TOKEN left in the environment) and its token is shared by every `vault:` source.
 */
export class VaultClient {
  private token: Token | undefined;
  private login: Promise<Token> | undefined;

  constructor(
    private readonly settings: VaultSettings,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The `data` map of the latest version of `<mount>/<path>`. */
  async readKv(mount: string, path: string): Promise<Record<string, unknown>> {
    const url = this.url(`${encodeSegments(mount)}/data/${encodeSegments(path)}`);
    let res = await this.call(url, { headers: this.headers(await this.currentToken()) });
    if (res.status === 403 && this.usesKubernetes) {
      // A token Vault revoked or expired early: log in again once before giving up.
      this.token = undefined;
      await res.body?.cancel();
      res = await this.call(url, { headers: this.headers(await this.currentToken()) });
    }
    const body = await this.json(res);
    if (res.status === 404) throw new VaultError('secret not found (HTTP 404)');
    if (res.status === 403) throw new VaultError('permission denied (HTTP 403)');
    if (res.status !== 200)
      throw new VaultError(`Vault answered HTTP ${res.status}${errorsOf(body)}`);
    const data = field(field(body, 'data'), 'data');
    if (typeof data !== 'object' || data === null) {
      throw new VaultError('not a KV v2 secret (no data.data in the answer)');
    }
    return data as Record<string, unknown>;
  }

  private get usesKubernetes(): boolean {
    return this.settings.k8sRole !== undefined;
  }

  private async currentToken(): Promise<string> {
    if (!this.usesKubernetes) return this.settings.token ?? '';
    if (this.token && this.token.expiresAt > this.now()) return this.token.value;
    this.login ??= this.kubernetesLogin().finally(() => (this.login = undefined));
    this.token = await this.login;
    return this.token.value;
  }

  private async kubernetesLogin(): Promise<Token> {
    const { k8sTokenFile, k8sMount, k8sRole } = this.settings;
    let jwt: string;
    try {
      // Read each time: Kubernetes rotates projected service-account tokens.
      jwt = (await readFile(k8sTokenFile, 'utf8')).trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new VaultError(`service-account token ${k8sTokenFile} cannot be read (${code})`);
    }
    const res = await this.call(this.url(`auth/${encodeSegments(k8sMount)}/login`), {
      method: 'POST',
      headers: { ...this.headers(undefined), 'Content-Type': 'application/json' },
      body: JSON.stringify({ role: k8sRole, jwt }),
    });
    const body = await this.json(res);
    const auth = field(body, 'auth');
    const clientToken = field(auth, 'client_token');
    if (res.status !== 200 || typeof clientToken !== 'string') {
      throw new VaultError(
        `Kubernetes login as role ${String(k8sRole)} refused (HTTP ${res.status}${errorsOf(body)})`,
      );
    }
    const lease = Number(field(auth, 'lease_duration'));
    const expiresAt =
      lease > 0 ? this.now() + lease * 1000 * RENEW_AT_FRACTION : Number.POSITIVE_INFINITY;
    return { value: clientToken, expiresAt };
  }

  private headers(token: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers['X-Vault-Token'] = token;
    if (this.settings.namespace) headers['X-Vault-Namespace'] = this.settings.namespace;
    return headers;
  }

  private url(path: string): string {
    return `${this.settings.addr.replace(/\/+$/, '')}/v1/${path}`;
  }

  private async call(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw transportError(err, this.timeoutMs);
    }
  }

  /** The body as JSON, or undefined; the read shares the call's deadline. */
  private async json(res: Response): Promise<unknown> {
    try {
      return JSON.parse(await res.text()) as unknown;
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw transportError(err, this.timeoutMs);
      return undefined;
    }
  }
}

function transportError(err: unknown, timeoutMs: number): VaultError {
  const e = err as { name?: string; cause?: { code?: unknown } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return new VaultError(`Vault did not answer within ${timeoutMs} ms`);
  }
  const code = typeof e.cause?.code === 'string' ? e.cause.code : (e.name ?? 'error');
  return new VaultError(`Vault unreachable (${code})`);
}

const encodeSegments = (path: string): string => path.split('/').map(encodeURIComponent).join('/');

function field(value: unknown, name: string): unknown {
  return isRecord(value) ? value[name] : undefined;
}

/** Vault's own error strings (`{"errors":[…]}`), which describe the failure, never a secret. */
function errorsOf(body: unknown): string {
  const errors = field(body, 'errors');
  if (!Array.isArray(errors) || errors.length === 0) return '';
  return `: ${errors.map(String).join('; ').slice(0, 200)}`;
}
