/**
 * The environment variables of docs/configuration.md and where each lands in the nested
 * configuration that the YAML files also write. One table, so a problem found at any depth
 * can be reported under the variable an operator would set.
 */
export interface EnvSetting {
  readonly env: string;
  readonly path: readonly string[];
  readonly parse?: (raw: string) => unknown;
}

const list = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** Express `trust proxy` as docs/configuration.md allows it: a hop count or CIDRs; `true` is refused later. */
export const parseTrustProxy = (raw: string): unknown =>
  /^\d+$/.test(raw) ? Number(raw) : raw === 'true' || raw === 'false' ? raw === 'true' : list(raw);

export const ENV_SETTINGS: readonly EnvSetting[] = [
  { env: 'PORT', path: ['server', 'port'] },
  { env: 'HOST', path: ['server', 'host'] },
  { env: 'PUBLIC_URL', path: ['server', 'publicUrl'] },
  { env: 'ALLOWED_ORIGINS', path: ['server', 'allowedOrigins'], parse: list },
  { env: 'TRUST_PROXY', path: ['server', 'trustProxy'], parse: parseTrustProxy },
  { env: 'SHUTDOWN_GRACE_SECONDS', path: ['server', 'shutdownGraceSeconds'] },
  { env: 'GATHER_BASE_URL', path: ['gather', 'baseUrl'] },
  { env: 'GATHER_TIMEOUT_MS', path: ['gather', 'timeoutMs'] },
  { env: 'GATHER_API_KEY_REFRESH_SECONDS', path: ['gather', 'keyRefreshSeconds'] },
  { env: 'GATHER_MAX_PAUSE_SECONDS', path: ['gather', 'maxPauseSeconds'] },
  { env: 'VAULT_ADDR', path: ['vault', 'addr'] },
  { env: 'VAULT_TOKEN', path: ['vault', 'token'] },
  { env: 'VAULT_NAMESPACE', path: ['vault', 'namespace'] },
  { env: 'VAULT_K8S_ROLE', path: ['vault', 'k8sRole'] },
  { env: 'VAULT_K8S_TOKEN_FILE', path: ['vault', 'k8sTokenFile'] },
  { env: 'VAULT_K8S_MOUNT', path: ['vault', 'k8sMount'] },
  { env: 'PROXY_MAX_BODY_BYTES', path: ['proxy', 'maxBodyBytes'] },
  { env: 'PROXY_MAX_BUFFERED_BYTES', path: ['proxy', 'maxBufferedBytes'] },
  { env: 'PROXY_MAX_BUFFERED_BYTES_PER_USER', path: ['proxy', 'maxBufferedBytesPerUser'] },
  { env: 'SESSION_SECRET', path: ['session', 'secrets'], parse: list },
  { env: 'SESSION_IDLE_TIMEOUT_SECONDS', path: ['session', 'idleTimeoutSeconds'] },
  { env: 'SESSION_ABSOLUTE_TIMEOUT_SECONDS', path: ['session', 'absoluteTimeoutSeconds'] },
  { env: 'SESSION_MAX_PER_USER', path: ['session', 'maxPerUser'] },
  { env: 'COOKIE_SECURE', path: ['session', 'cookieSecure'] },
  { env: 'COOKIE_SAMESITE', path: ['session', 'cookieSameSite'], parse: (s) => s.toLowerCase() },
  { env: 'REDIS_URL', path: ['session', 'redisUrl'] },
  { env: 'REDIS_SENTINELS', path: ['session', 'redisSentinels'], parse: list },
  { env: 'REDIS_SENTINEL_MASTER', path: ['session', 'redisSentinelMaster'] },
  { env: 'REDIS_CLUSTER_NODES', path: ['session', 'redisClusterNodes'], parse: list },
  { env: 'REDIS_PASSWORD', path: ['session', 'redisPassword'] },
  { env: 'AUTH_LOCAL_USERS_FILE', path: ['auth', 'localUsersFile'] },
  { env: 'OIDC_ISSUER_URL', path: ['auth', 'oidc', 'issuerUrl'] },
  { env: 'OIDC_CLIENT_ID', path: ['auth', 'oidc', 'clientId'] },
  { env: 'OIDC_CLIENT_SECRET', path: ['auth', 'oidc', 'clientSecret'] },
  { env: 'OIDC_SCOPES', path: ['auth', 'oidc', 'scopes'] },
  { env: 'OIDC_TEAM_CLAIM', path: ['auth', 'oidc', 'teamClaim'] },
  { env: 'OIDC_AUTH_PARAMS', path: ['auth', 'oidc', 'authParams'] },
  { env: 'RATE_LIMIT_USER_LIMIT', path: ['rateLimit', 'user', 'limit'] },
  { env: 'RATE_LIMIT_USER_WINDOW_SECONDS', path: ['rateLimit', 'user', 'windowSeconds'] },
  { env: 'RATE_LIMIT_LOGIN_LIMIT', path: ['rateLimit', 'login', 'limit'] },
  { env: 'RATE_LIMIT_LOGIN_WINDOW_SECONDS', path: ['rateLimit', 'login', 'windowSeconds'] },
  {
    env: 'RATE_LIMIT_REDIS_FAILURE',
    path: ['rateLimit', 'redisFailure'],
    parse: (s) => s.toLowerCase(),
  },
  { env: 'GATHER_UPSTREAM_RATE_LIMIT', path: ['rateLimit', 'upstreamPerSecond'] },
  { env: 'USAGE_RETENTION_DAYS', path: ['usage', 'retentionDays'] },
  { env: 'METRICS_PORT', path: ['metrics', 'port'] },
  { env: 'ADMIN_TOKEN', path: ['metrics', 'adminToken'] },
  { env: 'OIDC_SESSION_CHECK_SECONDS', path: ['auth', 'oidcSessionCheckSeconds'] },
  { env: 'LOG_LEVEL', path: ['log', 'level'] },
  { env: 'OTEL_EXPORTER_OTLP_ENDPOINT', path: ['tracing', 'otlpEndpoint'] },
  { env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', path: ['tracing', 'otlpTracesEndpoint'] },
  { env: 'OTEL_SERVICE_NAME', path: ['tracing', 'serviceName'] },
  { env: 'OTEL_TRACES_SAMPLER', path: ['tracing', 'sampler'], parse: (s) => s.toLowerCase() },
  { env: 'OTEL_TRACES_SAMPLER_ARG', path: ['tracing', 'samplerArg'] },
];

/** The variable that sets a configuration path, for messages; the dotted path otherwise. */
export function settingName(path: readonly PropertyKey[]): string {
  const dotted = path.map(String).join('.');
  // A list's entry (REDIS_SENTINELS' second address) is named by its list's variable.
  const match = ENV_SETTINGS.find(
    (s) => dotted === s.path.join('.') || dotted.startsWith(`${s.path.join('.')}.`),
  );
  return match ? `${match.env} (${dotted})` : dotted;
}
