# k8s-flow-exporter agent image. Node 24.21.0 on Debian bookworm in both stages: the same
# Node line as the project-local toolchain (.tools/), so what is tested is what ships.

FROM node:24.21.0-bookworm AS build
# BPF object (clang), its skeleton (bpftool) and the N-API addon linked against libbpf.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      clang llvm libbpf-dev bpftool linux-libc-dev libelf-dev zlib1g-dev pkg-config make g++ python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# npm install, not npm ci: the lock lacks other platforms' optional binaries (@swc/core), which npm ci rejects.
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY scripts/ scripts/
COPY bpf/ bpf/
COPY native/ native/
COPY src/ src/
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:24.21.0-bookworm-slim
# libbpf1, libelf1, zlib1g: the addon's shared libraries; iproute2: the capture adapter runs `ip`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 libelf1 zlib1g iproute2 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# package.json marks the project root, where the addon loader looks for native/build/.
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/dist/ dist/
# The skeleton embeds the BPF object, so the .node file is the whole native part.
COPY --from=build /src/native/build/Release/flow_capture.node native/build/Release/
# Root: Kubernetes grants the added capabilities (BPF, PERFMON, NET_ADMIN) to the effective set
# of UID 0 only; the chart drops every other capability and keeps the root filesystem read-only.
USER 0
EXPOSE 8081 9464
ENTRYPOINT ["node", "dist/main.js"]
