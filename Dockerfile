# syntax=docker/dockerfile:1
# Brewery's images. One build context (this repository), three targets:
#   operator     the controller:  node dist/operator/main.js
#   trainer      the `caffe` command with @tensorflow/tfjs-node-gpu bound to PyPI's tensorflow wheel
#                and NVIDIA's CUDA 12 wheels (hack/native/setup-gpu.sh); on CPUs when there is no GPU
#   trainer-cpu  the `caffe` command on CPUs: tfjs-node bound to PyPI's tensorflow-cpu wheel
#                (hack/native/setup.sh), wasm as its fallback
# docker build --target trainer-cpu -t brewery/trainer-cpu . ; see docs/images.md.
# Every base is a build argument: hack/images builds them from Debian packages, without a registry.

ARG NODE_IMAGE=node:24-bookworm-slim

# Node.js 24 itself on Debian bookworm, with npm: every stage starts from it.
FROM ${NODE_IMAGE} AS node

# ---- build: compile the TypeScript (operator/ and trainer/ only) into dist/ ----
FROM node AS build
# Builds without internet or behind a TLS-inspecting proxy: a registry mirror (npm_config_registry,
# PIP_INDEX_URL) and a CA bundle the build mounts (NODE_EXTRA_CA_CERTS; hack/images passes the
# machine's) as build arguments. ARGs, not ENVs, so they never reach an image.
ARG NODE_EXTRA_CA_CERTS
ARG npm_config_registry
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY operator ./operator
COPY trainer ./trainer
# `caffe` on PATH: as a container's first process (a pod whose command is ["caffe", ...]) it hands
# over to tini, so SIGTERM reaches the trainer and zombies are reaped; otherwise it runs node itself.
RUN npx tsc -p tsconfig.json \
 && printf '%s\n' '#!/bin/sh' \
      'if [ "$$" = 1 ]; then exec /usr/bin/tini -- node /app/dist/trainer/cli/main.js "$@"; fi' \
      'exec node /app/dist/trainer/cli/main.js "$@"' > /app/caffe \
 && chmod 755 /app/caffe

# ---- codec: the native image codec (libjpeg-turbo as OpenCV uses it; trainer/data/native/codec.c),
#      which prep and the loader use when it is there ----
FROM node AS codec
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev libjpeg62-turbo-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY hack/native/codec.sh ./hack/native/
COPY trainer/data/native ./trainer/data/native
RUN BREWERY_CACHE=/tmp/cache bash hack/native/codec.sh \
 && cp "$(readlink -f /tmp/cache/native/codec-current/brewery_codec.node)" /brewery_codec.node

# ---- prod-deps: production dependencies only, for the Debian-based images ----
FROM node AS prod-deps
ARG NODE_EXTRA_CA_CERTS
ARG npm_config_registry
WORKDIR /app
COPY package.json package-lock.json ./
# Source maps and type declarations are never loaded at run time and are over half of node_modules.
RUN npm ci --omit=dev --no-audit --no-fund \
 && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' \) -delete \
 && npm cache clean --force

# ---- operator-deps: the production dependencies less those only the trainer loads (node_modules of
#      205 MiB down to 67 MiB before the S3 client went too; docs/images.md): no compute and no object-store
#      client, as the operator reads no bucket. The operator never imports them (the import rules in
#      .dependency-cruiser.cjs), and test/unit/packaging/dockerfile.test.ts runs this same uninstall and
#      resolves every import of operator/main.js without them. ----
FROM prod-deps AS operator-deps
RUN npm uninstall --no-save --omit=dev --no-audit --no-fund \
      @tensorflow/tfjs @tensorflow/tfjs-backend-cpu @tensorflow/tfjs-backend-wasm @tensorflow/tfjs-core \
      sharp vega vega-lite @aws-sdk/client-s3 @aws-sdk/lib-storage \
 && npm cache clean --force

# ---- runtime: what the trainer-cpu image builds on ----
FROM node AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini libjpeg62-turbo \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production BREWERY_CODEC_ADDON=/app/native/brewery_codec.node
COPY --from=codec /brewery_codec.node ./native/brewery_codec.node
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
# Prototxt files read at run time (built-in models), relative to package.json.
COPY trainer/models ./trainer/models
COPY --from=build /app/dist ./dist

# ---- operator: its own node_modules, and none of the trainer's codec or libjpeg-turbo. The built-in
#      models are there because it renders their prototxts into a job's ConfigMap. ----
FROM node AS operator
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY --from=operator-deps /app/node_modules ./node_modules
COPY trainer/models ./trainer/models
COPY --from=build /app/dist ./dist
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/operator/main.js"]

# ---- cpu-native: tfjs-node's binding built against the tensorflow-cpu wheel's C API
#      (hack/native/setup.sh, as `npm run setup:native`), so trainer-cpu runs on native TensorFlow rather
#      than wasm. hack/images lends it the machine's wheel cache at /opt/brewery/native/wheels. ----
FROM node AS cpu-native
ARG NODE_EXTRA_CA_CERTS
ARG npm_config_registry
ARG PIP_INDEX_URL
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip g++ make unzip binutils \
 && rm -rf /var/lib/apt/lists/*
COPY hack/native/setup.sh /src/setup.sh
RUN BREWERY_CACHE=/opt/brewery bash /src/setup.sh \
 && { mountpoint -q /opt/brewery/native/wheels || rm -rf /opt/brewery/native/wheels; } \
 && rm -rf /root/.npm /root/.cache

# ---- trainer-cpu ----
FROM runtime AS trainer-cpu
# Fonts for the text of `caffe plot` pictures.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fontconfig-config fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
COPY --from=cpu-native /opt/brewery/native /opt/brewery/native
COPY --from=build /app/caffe /usr/local/bin/caffe
# trainer/backend/native.ts finds the binding under $BREWERY_CACHE/native/current.
ENV BREWERY_CACHE=/opt/brewery
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/trainer/cli/main.js"]
CMD ["help"]

# ---- gpu-native: tfjs-node-gpu's binding built against the tensorflow wheel's C API, with the
#      nvidia-*-cu12 wheels' libraries beside it where libtensorflow's RUNPATH looks
#      (hack/native/setup-gpu.sh; the same script as `npm run setup:gpu`). Only pip's downloads, no
#      NVIDIA registry: the host's driver (libcuda, mounted by the NVIDIA container toolkit) is the
#      one part the image cannot carry. hack/images lends the build its wheel cache at
#      /opt/brewery/gpu/wheels, so they are downloaded once per machine. ----
FROM node AS gpu-native
ARG NODE_EXTRA_CA_CERTS
ARG npm_config_registry
ARG PIP_INDEX_URL
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip g++ make unzip binutils \
 && rm -rf /var/lib/apt/lists/*
COPY hack/native/setup-gpu.sh /src/setup-gpu.sh
# The wheels stay out of the image; when they are the machine's own (mounted), they are left alone.
RUN BREWERY_CACHE=/opt/brewery bash /src/setup-gpu.sh \
 && { mountpoint -q /opt/brewery/gpu/wheels || rm -rf /opt/brewery/gpu/wheels; } \
 && rm -rf /root/.npm /root/.cache

# ---- trainer (GPU): trainer-cpu's runtime plus the GPU binding. Without a GPU it trains on the CPU
#      through the same libtensorflow and says so in one log line. ----
FROM runtime AS trainer
RUN apt-get update \
 && apt-get install -y --no-install-recommends fontconfig-config fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
COPY --from=gpu-native /opt/brewery/gpu /opt/brewery/gpu
COPY --from=build /app/caffe /usr/local/bin/caffe
# trainer/backend/native.ts finds the binding under $BREWERY_CACHE/gpu/current. CUDA keeps the PTX it
# compiles for a GPU newer than the wheel's kernels (sm_90 and older) in CUDA_CACHE_PATH: mount a
# volume there (the root file system may be read-only) so that it is compiled once per node, not per pod.
ENV BREWERY_CACHE=/opt/brewery CUDA_CACHE_PATH=/var/cache/brewery/cuda CUDA_CACHE_MAXSIZE=4294967296 \
    NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
RUN mkdir -p /var/cache/brewery/cuda && chown 1000:1000 /var/cache/brewery/cuda
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/trainer/cli/main.js"]
CMD ["help"]
