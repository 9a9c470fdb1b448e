import { z } from 'zod';

/** A quota: calls forwarded to Gather per period; 0 lets none through. YAML only, no coercion. */
const quota = z.number().int().min(0);

/** The periods one quota rule may set; another name is a mistake, not something to ignore. */
const periodsSchema = z.strictObject({ day: quota.optional(), month: quota.optional() });
export type QuotaPeriods = z.infer<typeof periodsSchema>;

/**
 * `quotas:` in config/<APP_ENV>.yaml (docs/configuration.md, "Quotas"): defaults for every user
 * and every team, overrides per user id and per team, and the day of the month months start on.
 */
export const quotasSchema = z
  .strictObject({
    user: periodsSchema.default({}),
    team: periodsSchema.default({}),
    users: z.record(z.string().min(1), periodsSchema).default({}),
    teams: z.record(z.string().min(1), periodsSchema).default({}),
    /** 1 to 28, so every month has that day. */
    monthStartDay: z.number().int().min(1).max(28).default(1),
  })
  .prefault({});
export type QuotasConfig = z.infer<typeof quotasSchema>;
