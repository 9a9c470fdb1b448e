// The peer: the stack a team would write for the same job with the same packages, following
// their READMEs. A plain Nest app, express-session (its memory store), passport keeping the user
// in the session, a per-user counter and http-proxy-middleware on /api/gather. No request log,
// CSRF check, Origin check or security headers. The bench compares the BFF with it
// (docs/benchmarks.md, "The peer"). Configured by PORT, GATHER_BASE_URL, GATHER_API_KEY,
// SESSION_SECRET, PEER_USERNAME and PEER_PASSWORD.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import session from 'express-session';
import { createProxyMiddleware } from 'http-proxy-middleware';
import passport from 'passport';
import { AppModule } from './app.module';
import { perUserLimit, requireUser } from './per-user-limit';
import { findUser } from './users';

const { PORT, GATHER_BASE_URL, GATHER_API_KEY, SESSION_SECRET } = process.env;

passport.serializeUser<string>((user, done) => done(null, user.id));
passport.deserializeUser<string>((id, done) => done(null, findUser(id) ?? false));

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: false });
  app.use(session({ secret: SESSION_SECRET ?? '', resave: false, saveUninitialized: false }));
  app.use(passport.initialize());
  app.use(passport.session());
  app.use(
    '/api/gather',
    requireUser,
    perUserLimit,
    createProxyMiddleware({
      target: GATHER_BASE_URL,
      changeOrigin: true,
      on: {
        proxyReq: (proxyReq) => {
          // The browser's session cookie is ours, not Gather's; Gather wants the server's key.
          proxyReq.removeHeader('cookie');
          proxyReq.setHeader('x-api-key', GATHER_API_KEY ?? '');
        },
      },
    }),
  );
  await app.listen(Number(PORT), '127.0.0.1');
}

void bootstrap();
