# Gather BFF image. The base is pinned to the exact Node release the tests run on (.nvmrc names
# its major; package.json's devDependency "node" the release): a rebuild never picks up another.
# Pin it by digest too (node:24.21.0-bookworm-slim@sha256:...) where the registry can be asked.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# Build stage: compile with the dev dependencies, then drop them.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
# The demo (simulated Gather, demo user) never ships in the production image.
RUN npm run build \
 && rm -rf dist/demo \
 && npm prune --omit=dev

# Runtime stage: production dependencies, compiled code and the YAML settings, nothing else.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    APP_ENV=production
WORKDIR /app
# Owned by root and only readable by the service user: the process cannot rewrite its own code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
USER node
EXPOSE 3000
# Slim images have no curl; Node's global fetch asks the liveness route on the public port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1's only process and receives SIGTERM for a graceful shutdown. An 8 MB
# young generation keeps the process under 200 MB resident under load; without allocation-site
# pretenuring, V8 never starts allocating a request's objects straight in the old generation
# (docs/benchmarks.md, "Memory"). `npm start` (through `exec`) and the bench run this same command.
CMD ["node", "--max-semi-space-size=8", "--no-allocation-site-pretenuring", "dist/main.js"]
