# vpn-seller image: one image, four processes (docker-compose.yml picks one per service):
#   node dist/api/main.js (default) | node dist/workers/main.js | node dist/bot/main.js | node dist/infra/db/migrate.js
# The VPN node agent is not deployed with this image; see infra/deploy/install-node.sh.
# No `# syntax=` line: it would make BuildKit pull a frontend image; the daemon's built-in Dockerfile
# frontend already handles the cache mounts below. `--build-arg NODE_IMAGE=...` swaps the base (tests
# use a local stand-in, deploy/images/node.Dockerfile).

ARG NODE_IMAGE=node:20-bookworm-slim

# --- all dependencies (dev included), for the build --------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

# --- production dependencies only, for the runtime image ---------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# --- compile TypeScript to dist/ and prebuild the Temporal workflow bundle ---------------------------
FROM deps AS build
COPY . .
# tsc -> dist/**, then scripts/bundle-workflows.ts -> dist/workflow-bundle.js, so the worker never
# bundles at start (no webpack at runtime, and every replica runs byte-identical workflow code).
RUN npm run build \
 && test -f dist/workflow-bundle.js \
 && test -f dist/api/main.js && test -f dist/workers/main.js && test -f dist/bot/main.js \
 && test -f dist/infra/db/migrate.js && test -f dist/infra/db/seed.js

# --- runtime -----------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
# ca-certificates: Temporal's native client (Rust) uses the system trust store for TLS (Temporal Cloud).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system app \
 && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
# Code and modules stay owned by root: the app user can read them, not change them.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json ./
# The only writable place (DATA_DIR default .data); production keeps its state in PostgreSQL and Temporal.
RUN mkdir -p /app/.data && chown app:app /app/.data
USER app
EXPOSE 8080
# No HEALTHCHECK here: it would apply to the worker and the bot too. docker-compose.yml checks the API.
CMD ["node", "dist/api/main.js"]
