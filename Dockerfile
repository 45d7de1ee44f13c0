# One multi-stage image definition for every service: build with --build-arg SERVICE=<gateway|catalog|users|orders|billing>.
# Services run TypeScript through tsx (no separate compile step), as a non-root user.
FROM node:20.20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/platform/package.json packages/platform/
COPY packages/database/package.json packages/database/
COPY packages/events/package.json packages/events/
COPY packages/runtime/package.json packages/runtime/
COPY packages/testkit/package.json packages/testkit/
COPY gateway/package.json gateway/
COPY subgraphs/catalog/package.json subgraphs/catalog/
COPY subgraphs/users/package.json subgraphs/users/
COPY subgraphs/orders/package.json subgraphs/orders/
COPY subgraphs/billing/package.json subgraphs/billing/
# `npm install` honours the lockfile; npm 11 rejects its own lockfile in `npm ci` (other platforms' optional binaries).
RUN npm install --no-audit --no-fund

FROM deps AS build
COPY . .
RUN node scripts/generate.mjs && npx tsx gateway/src/compose-supergraph.ts --check

FROM node:20.20-bookworm-slim AS runtime
ARG SERVICE
ENV NODE_ENV=production SERVICE=${SERVICE}
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
# /health is on the service's management port (PORT_FOR_HEALTH: its <SERVICE>_MANAGEMENT_PORT), never the public one.
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT_FOR_HEALTH||9400)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["sh", "-c", "if [ \"$SERVICE\" = gateway ]; then exec node --import tsx gateway/src/main.ts; else exec node --import tsx subgraphs/$SERVICE/src/main.ts; fi"]
