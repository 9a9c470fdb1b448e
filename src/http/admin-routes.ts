import { Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a handler is given besides the request and response. */
export interface AdminCall {
  /** The pattern's capture groups, each percent-decoded (one path segment each). */
  readonly params: readonly string[];
  readonly requestId: string;
}

/**
 * One route of the metrics listener's admin surface (docs/architecture.md, "Admin routes"). The
 * listener checks the bearer token before any handler runs; a handler only answers.
 */
export interface AdminRoute {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  /** Matched against the whole path, without the query. */
  readonly pattern: RegExp;
  /**
   * Served without the bearer token. Only for what holds no data: the operators' page and its
   * files, whose every call back needs the token (docs/contract.md, "The operators' page").
   */
  readonly open?: boolean;
  handle(req: IncomingMessage, res: ServerResponse, call: AdminCall): Promise<void>;
}

/** Where a path leads: the routes of the first pattern it matches, or nothing. */
export type AdminMatch =
  | { readonly found: false }
  | {
      readonly found: true;
      readonly params: string[];
      readonly route: AdminRoute | undefined;
      readonly allow: string;
      /** Whether the pattern's routes are served without the bearer token. */
      readonly open: boolean;
    };

/**
 * The admin routes every module registers (each in its own provider, at module init), mounted
 * on the metrics listener. Global through ObservabilityModule, so a module adds a route without
 * importing it.
 */
@Injectable()
export class AdminRoutes {
  private readonly routes: AdminRoute[] = [];

  add(...routes: AdminRoute[]): void {
    this.routes.push(...routes);
  }

  get empty(): boolean {
    return this.routes.length === 0;
  }

  /**
   * The route for `method` at `path`. A path that matches but names an undecodable segment is
   * not found; one that matches with another method is found without a route (405, `allow`).
   */
  match(method: string | undefined, path: string): AdminMatch {
    const first = this.routes.find((r) => r.pattern.test(path));
    if (!first) return { found: false };
    let params: string[];
    try {
      params = (first.pattern.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
    } catch {
      return { found: false };
    }
    const same = this.routes.filter((r) => r.pattern.source === first.pattern.source);
    return {
      found: true,
      params,
      route: same.find((r) => r.method === method),
      allow: same.map((r) => r.method).join(', '),
      open: first.open === true,
    };
  }
}

/** A 200 JSON answer that no cache keeps. */
export function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}
