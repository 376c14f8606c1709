# churn's image: Node 20 slim, churn installed from this checkout, `churn` as entrypoint.
#   docker build -t churn:0.1.0 .
#   docker run --rm churn:0.1.0 run --duration 10s        # the smoke scenario, built-in core
# In a cluster (deploy/kubernetes/), the pod mounts the node's CRI or containerd socket; those
# sockets are root's on most nodes, so the manifests run the container as uid 0 and drop every
# capability. Without a socket (the built-in core) it runs as the unprivileged user `node`.
# scripts/churn-image.ts builds an equivalent OCI archive without a registry (tests, scripts/kube.sh).

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs scripts/copy-assets.mjs scripts/
COPY src src
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY scenarios scenarios
RUN ln -s /app/dist/cli/main.js /usr/local/bin/churn && chmod 755 /app/dist/cli/main.js
USER node
WORKDIR /home/node
ENTRYPOINT ["churn"]
CMD ["--help"]
