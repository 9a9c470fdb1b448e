import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminRoutes, sendJson } from '../http/admin-routes';
import { BffError } from '../http/error-codes';
import { utcDate } from '../quota/quota-period';
import { datesBetween, UsageReport } from './usage-report';
import { USAGE_DIMENSIONS, type UsageDimension, type UsageRow } from './usage.store';

/** The longest range GET /admin/usage answers, in days. */
export const MAX_USAGE_DAYS = 92;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A `YYYY-MM-DD` that is a real date (not 2026-02-30). */
function isDate(value: string): boolean {
  return DATE.test(value) && utcDate(new Date(Date.parse(value))) === value;
}

/** What GET /admin/usage asks for, checked; a BAD_REQUEST otherwise. */
export function usageQuery(
  params: URLSearchParams,
  today: string,
): { by: UsageDimension; from: string; to: string } {
  const by = params.get('by');
  if (!USAGE_DIMENSIONS.includes(by as UsageDimension)) {
    throw new BffError('BAD_REQUEST', '`by` must be user, team or key');
  }
  const from = params.get('from') ?? today;
  const to = params.get('to') ?? today;
  if (!isDate(from) || !isDate(to)) {
    throw new BffError('BAD_REQUEST', '`from` and `to` must be dates (YYYY-MM-DD)');
  }
  if (from > to) throw new BffError('BAD_REQUEST', '`from` must not be after `to`');
  if (datesBetween(from, to).length > MAX_USAGE_DAYS) {
    throw new BffError('BAD_REQUEST', `At most ${MAX_USAGE_DAYS} days at once`);
  }
  return { by: by as UsageDimension, from, to };
}

/** CSV of `rows`; a name is quoted when it holds a comma, a quote or a line break. */
export function usageCsv(rows: readonly UsageRow[]): string {
  const cell = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = rows.map((r) => `${r.date},${cell(r.name)},${r.calls},${r.errors},${r.throttled}`);
  return ['date,name,calls,errors,throttled', ...lines].join('\r\n') + '\r\n';
}

/**
 * GET /admin/usage and GET /admin/keys on the metrics listener (docs/contract.md, Routes),
 * registered with its admin routes; the listener checks the bearer token first.
 */
@Injectable()
export class AdminUsageRoutes implements OnModuleInit {
  constructor(
    @Inject(UsageReport) private readonly report: UsageReport,
    @Optional() @Inject(AdminRoutes) private readonly routes: AdminRoutes | null,
  ) {}

  onModuleInit(): void {
    this.routes?.add(
      {
        method: 'GET',
        pattern: /^\/admin\/keys$/,
        handle: async (_req, res) => sendJson(res, { keys: await this.report.keyUsage() }),
      },
      {
        method: 'GET',
        pattern: /^\/admin\/usage$/,
        handle: (req, res) => this.usage(req, res),
      },
    );
  }

  private async usage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = new URL(req.url ?? '', 'http://admin').searchParams;
    const { by, from, to } = usageQuery(params, utcDate(new Date()));
    const rows = await this.report.rows(by, from, to);
    if (params.get('format') === 'csv' || /\btext\/csv\b/i.test(req.headers.accept ?? '')) {
      const body = usageCsv(rows);
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.setHeader('Cache-Control', 'no-store');
      res.end(body);
    } else sendJson(res, { by, from, to, rows });
  }
}
