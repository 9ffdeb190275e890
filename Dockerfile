# One image definition for every adsync service (and the sandbox and the demo).
#   docker build --build-arg SERVICE=entity-sync -t adsync/entity-sync .
# Node 24 runs the TypeScript sources directly; the build stage type-checks them.
FROM node:24-bookworm-slim AS build
RUN npm install -g pnpm@10
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile && pnpm run build
# Production dependencies only. Workspace packages stay linked to their sources
# (outside node_modules), which is where Node's type stripping works.
RUN rm -rf node_modules packages/*/node_modules services/*/node_modules bench/node_modules scripts/node_modules \
 && pnpm install --frozen-lockfile --prod

FROM node:24-bookworm-slim AS runtime
ARG SERVICE=entity-sync
ENV NODE_ENV=production \
    ENTRY=services/${SERVICE}/src/main.ts
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
# ENTRY can be overridden: a CronJob runs services/<name>/src/cli.ts, the sandbox packages/sandbox/src/main.ts.
CMD ["sh", "-c", "exec node \"$ENTRY\""]
