# syntax=docker/dockerfile:1
# Brewery's images. One build context (this repository), three targets:
#   operator     the controller:  node dist/operator/main.js
#   trainer      the `caffe` command on CUDA 11.2 / cuDNN 8 with @tensorflow/tfjs-node-gpu
#   trainer-cpu  the `caffe` command on Debian slim: native TensorFlow on the CPU, wasm as its fallback
# docker build --target trainer-cpu -t brewery/trainer-cpu . ; see docs/images.md.

ARG NODE_IMAGE=node:24-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04
ARG TFJS_NODE_GPU_VERSION=4.22.0

# Node.js 24 itself: the Debian stages start from it, the CUDA stage copies it.
FROM ${NODE_IMAGE} AS node

# ---- build: compile the TypeScript (operator/ and trainer/ only) into dist/ ----
FROM node AS build
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

# ---- native-tf: native TensorFlow for the CPU, provisioned as `npm run setup` does on a workstation
#      (hack/native/setup.sh: TensorFlow's C API from the tensorflow-cpu wheel, tfjs-node's binding built
#      with node-gyp), kept without the build's intermediates and headers. The binding finds its libraries
#      through a relative RUNPATH, so the folder may move. ----
FROM node AS native-tf
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip g++ make unzip binutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY hack/native/setup.sh ./hack/native/
RUN BREWERY_CACHE=/tmp/cache bash hack/native/setup.sh \
 && mkdir -p /opt/brewery/native \
 && cp -a "$(readlink -f /tmp/cache/native/current)" /opt/brewery/native/current \
 && rm -rf /opt/brewery/native/current/wheel /opt/brewery/native/current/build.log \
      /opt/brewery/native/current/node_modules/@tensorflow/tfjs-node/build \
      /opt/brewery/native/current/node_modules/@tensorflow/tfjs-node/deps/include \
 && rm -rf /tmp/cache

# ---- prod-deps: production dependencies only, for the Debian-based images ----
FROM node AS prod-deps
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

# ---- trainer-cpu: `--backend=auto` loads native TensorFlow from $BREWERY_CACHE/native/current
#      (trainer/backend/native.ts) and falls back to wasm, saying why, when it cannot ----
FROM runtime AS trainer-cpu
ENV BREWERY_CACHE=/opt/brewery
COPY --from=native-tf /opt/brewery/native /opt/brewery/native
# Fonts for the text of `caffe plot` pictures.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fontconfig-config fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/caffe /usr/local/bin/caffe
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/trainer/cli/main.js"]
CMD ["help"]

# ---- cuda-node: the CUDA 11.2 / cuDNN 8 runtime (what tfjs-node-gpu 4.x's libtensorflow is built for)
#      with the same Node.js 24 binary and npm ----
FROM ${CUDA_IMAGE} AS cuda-node
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx

# ---- gpu-deps: production dependencies plus tfjs-node-gpu, installed on the CUDA base so its native
#      parts match that system; its install script downloads libtensorflow for the GPU ----
FROM cuda-node AS gpu-deps
ARG TFJS_NODE_GPU_VERSION
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm install --omit=dev --no-save --no-audit --no-fund "@tensorflow/tfjs-node-gpu@${TFJS_NODE_GPU_VERSION}" \
 && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' \) -delete \
 && npm cache clean --force

# ---- gpu-codec: the native image codec built against Ubuntu's libjpeg-turbo, for the CUDA image ----
FROM cuda-node AS gpu-codec
COPY --from=node /usr/local/include/node /usr/local/include/node
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev libjpeg-turbo8-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY hack/native/codec.sh ./hack/native/
COPY trainer/data/native ./trainer/data/native
RUN BREWERY_CACHE=/tmp/cache bash hack/native/codec.sh \
 && cp "$(readlink -f /tmp/cache/native/codec-current/brewery_codec.node)" /brewery_codec.node

# ---- trainer (GPU) ----
FROM cuda-node AS trainer
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini fontconfig-config fonts-dejavu-core \
      libjpeg-turbo8 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin brewery
WORKDIR /app
ENV NODE_ENV=production BREWERY_CODEC_ADDON=/app/native/brewery_codec.node
COPY --from=gpu-codec /brewery_codec.node ./native/brewery_codec.node
COPY package.json package-lock.json ./
COPY --from=gpu-deps /app/node_modules ./node_modules
COPY trainer/models ./trainer/models
COPY --from=build /app/dist ./dist
COPY --from=build /app/caffe /usr/local/bin/caffe
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/trainer/cli/main.js"]
CMD ["help"]
