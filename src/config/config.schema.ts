import { z } from 'zod';
import { forwardHeaderProblem } from './forward-headers';
import type { KeyRef } from './key-ref';
import { authParamsSchema } from './auth-params';
import { acceptableIssuer } from './issuer-url';
import { quotasSchema } from './quotas';

/** A key source as configuration names it; keys/ turns it into a loader. */
const keySourceSchema = z.discriminatedUnion('kind', [
  /** The value itself (GATHER_API_KEY, or a team's `{ env: VAR }` resolved at load). */
  z.object({ kind: z.literal('value'), name: z.string(), value: z.string() }),
  z.object({ kind: z.literal('file'), name: z.string(), path: z.string().min(1) }),
  /**
   * A secret-manager reference: `ref` as written (for messages), `secret` as key-sources.ts
   * parsed it, once; never written by hand, so only its presence is checked here.
   */
  z.object({
    kind: z.literal('ref'),
    name: z.string(),
    ref: z.string().min(1),
    secret: z.custom<KeyRef>((v) => typeof v === 'object' && v !== null),
  }),
]);
export type KeySourceConfig = z.infer<typeof keySourceSchema>;

const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const int = (min: number) => z.coerce.number().int().min(min);
const positive = int(1);

const allowRuleSchema = z.object({
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', '*'])),
  path: z.string().startsWith('/'),
});
export type AllowRule = z.infer<typeof allowRuleSchema>;

/** A browser header name an operator adds to those Gather receives; lower-cased, as Node gives them. */
const forwardHeaderSchema = z
  .string()
  .superRefine((name, ctx) => {
    const problem = forwardHeaderProblem(name);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((name) => name.toLowerCase());

/** `host:port` (an IPv6 host in brackets), as REDIS_SENTINELS and REDIS_CLUSTER_NODES list them. */
const hostPortSchema = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port')
  .transform((s) => {
    const at = s.lastIndexOf(':');
    return { host: s.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(s.slice(at + 1)) };
  })
  .refine((node) => node.port >= 1 && node.port <= 65535, 'port must be 1 to 65535');

const windowSchema = z.object({ limit: positive, windowSeconds: positive });

/** A stricter limit for some proxied routes, counted apart from the per-user limit. */
const routeLimitSchema = allowRuleSchema.extend(windowSchema.shape);
export type RouteLimitRule = z.infer<typeof routeLimitSchema>;

export const configSchema = z.object({
  appEnv: z.string().regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits or dashes'),
  server: z.object({
    port: int(0).max(65535),
    host: z.string().min(1),
    publicUrl: z.url({ protocol: /^https?$/ }),
    allowedOrigins: z.array(z.string()).default([]),
    /** Express `trust proxy`: a hop count or a list of addresses/CIDRs; `false` when unset. */
    trustProxy: z.union([z.literal(false), int(0), z.array(z.string().min(1))]).default(false),
    /** Longest drain after SIGTERM/SIGINT before what is left is cut. */
    shutdownGraceSeconds: int(0),
  }),
  gather: z.object({
    // `/api/gather/<path>` goes to `<baseUrl>/<path>`: a query or fragment would land mid-URL.
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .refine((url) => !/[?#]/.test(url), 'must have no query or fragment'),
    timeoutMs: positive,
    keyRefreshSeconds: positive,
    /** Longest pause of a key that Gather's Retry-After or RateLimit can cause (docs/capacity.md). */
    maxPauseSeconds: positive,
    apiKey: keySourceSchema,
    readonlyApiKey: keySourceSchema.optional(),
    teamKeys: z.record(z.string(), keySourceSchema).default({}),
    requireTeamKey: bool.default(false),
  }),
  /** HashiCorp Vault for `vault:` key references; set from the environment only (VAULT_*). */
  vault: z
    .object({
      addr: z.url({ protocol: /^https?$/ }).optional(),
      token: z.string().min(1).optional(),
      namespace: z.string().min(1).optional(),
      /** Kubernetes auth instead of a token when set. */
      k8sRole: z.string().min(1).optional(),
      k8sTokenFile: z
        .string()
        .min(1)
        .default('/var/run/secrets/kubernetes.io/serviceaccount/token'),
      k8sMount: z.string().min(1).default('kubernetes'),
    })
    .prefault({}),
  proxy: z.object({
    maxBodyBytes: positive,
    /** All request bodies held in memory at once, across requests and users. */
    maxBufferedBytes: positive,
    /** What one user's bodies may hold of it; unset: an eighth, and at least one whole body. */
    maxBufferedBytesPerUser: positive.optional(),
    allow: z.array(allowRuleSchema).min(1),
    /** Browser headers Gather receives besides the built-in allow-list (YAML only). */
    forwardHeaders: z.array(forwardHeaderSchema).default([]),
  }),
  session: z.object({
    secrets: z.array(z.string()).min(1),
    idleTimeoutSeconds: positive,
    absoluteTimeoutSeconds: positive,
    /** Sessions one user (principal) may hold; a new sign-in ends the oldest past it. */
    maxPerUser: positive,
    cookieSecure: bool,
    cookieSameSite: z.enum(['strict', 'lax']),
    /** Upper bound of the in-memory store; the least recently used session goes first. */
    memoryMaxSessions: positive,
    redisUrl: z.url({ protocol: /^rediss?$/ }).optional(),
    /** Redis Sentinel: the Sentinels to ask and the name of the master they watch. */
    redisSentinels: z.array(hostPortSchema).min(1).optional(),
    redisSentinelMaster: z.string().min(1).optional(),
    /** Redis Cluster: seed nodes; the client learns the rest of the cluster from them. */
    redisClusterNodes: z.array(hostPortSchema).min(1).optional(),
    /** For the data nodes (not the Sentinels); never logged. */
    redisPassword: z.string().min(1).optional(),
  }),
  auth: z.object({
    localUsersFile: z.string().min(1).optional(),
    /** How often, at most, a session's refresh token re-checks the provider (OIDC_SESSION_CHECK_SECONDS). */
    oidcSessionCheckSeconds: positive.default(300),
    oidc: z
      .object({
        issuerUrl: z
          .url({ protocol: /^https?$/ })
          .refine(acceptableIssuer, 'must be https (plain http only on localhost or 127.0.0.1)'),
        clientId: z.string().min(1),
        clientSecret: z.string().min(1),
        scopes: z
          .string()
          .refine((s) => s.split(/\s+/).includes('openid'), 'must include "openid"')
          .default('openid profile email'),
        teamClaim: z.string().min(1).optional(),
        /** Extra authorization-request parameters (OIDC_AUTH_PARAMS), in query-string form. */
        authParams: authParamsSchema.optional(),
        /** Lifetime of a login transaction (the time a user may take at the provider); YAML only. */
        transactionTtlSeconds: positive.max(3600).default(600),
      })
      .optional(),
  }),
  rateLimit: z.object({
    user: windowSchema,
    login: windowSchema,
    routes: z.array(routeLimitSchema).default([]),
    /** What a request gets while Redis does not answer: `closed` 503, `open` passes unlimited. */
    redisFailure: z.enum(['closed', 'open']).default('closed'),
    /** Upper bound of the in-memory counters; the least recently used go first. */
    memoryMaxKeys: positive.default(100000),
    /** Requests per second to Gather across all replicas; unset = no organisation budget. */
    upstreamPerSecond: positive.optional(),
  }),
  /** Daily and monthly quotas per user and team (docs/configuration.md, "Quotas"); YAML only. */
  quotas: quotasSchema,
  usage: z
    .object({
      /** Days the daily usage counts are kept (USAGE_RETENTION_DAYS). */
      retentionDays: positive.default(90),
    })
    .prefault({}),
  /** W3C trace context and span export (docs/contract.md, "Tracing"); OTEL_* only. */
  tracing: z
    .object({
      /** OTLP/HTTP base URL; spans go to `<otlpEndpoint>/v1/traces`. Unset: nothing exported. */
      otlpEndpoint: z.url({ protocol: /^https?$/ }).optional(),
      /** The spans' own URL, used as given; wins over `otlpEndpoint` (the SDK's rule). */
      otlpTracesEndpoint: z.url({ protocol: /^https?$/ }).optional(),
      /** `service.name` of the exported spans; `gather-bff` when unset. */
      serviceName: z.string().min(1).optional(),
      sampler: z
        .enum([
          'always_on',
          'always_off',
          'traceidratio',
          'parentbased_always_on',
          'parentbased_always_off',
          'parentbased_traceidratio',
        ])
        .default('parentbased_always_on'),
      /** The share of new traces sampled by the `traceidratio` samplers. */
      samplerArg: z.coerce.number().min(0).max(1).default(1),
    })
    .prefault({}),
  metrics: z.object({
    port: int(0).max(65535),
    /** Bearer token of the admin routes on the metrics listener; they are off without one. */
    adminToken: z.string().min(32, 'must be at least 32 characters').optional(),
  }),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  }),
});

export type AppConfig = z.infer<typeof configSchema>;
