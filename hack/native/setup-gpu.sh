#!/usr/bin/env bash
# npm run setup:gpu — provisions @tensorflow/tfjs-node-gpu for CUDA 12 from package registries alone: its
# binding built with node-gyp against the C API of PyPI's `tensorflow` wheel (a GPU build on Linux), and
# the CUDA runtime, cuBLAS, cuDNN and the rest from NVIDIA's nvidia-*-cu12 wheels on PyPI. The package's
# own install script would download libtensorflow 2.9.1 for CUDA 11.2 from a host we cannot reach, and
# CUDA 11.2 predates sm_90 (H100) and every newer GPU.
#
# Which versions: tfjs-node-gpu 4.22 is written against libtensorflow 2.9's C API (TF_* / TFE_*), which
# TensorFlow keeps stable; the newest tensorflow wheel, 2.20.0, still exports every symbol the binding
# calls from libtensorflow_cc.so.2 (checked below with nm), and is built for CUDA 12.5 and cuDNN 9.3. The
# nvidia-* versions are the lower bounds of that wheel's `and-cuda` extra (its METADATA), the releases it
# was built and tested with; `pip install tensorflow[and-cuda]` would allow newer ones within CUDA 12.
#
# Layout: libtensorflow_cc.so.2 and libtensorflow_framework.so.2 in the package's deps/lib (binding.gyp
# links them from there and sets the binding's rpath to it), and each nvidia wheel's nvidia/<name>/lib in
# deps/nvidia/<name>/lib: the wheel's libraries carry RUNPATH $ORIGIN/../nvidia/<name>/lib, which is where
# TensorFlow dlopens CUDA from, so no LD_LIBRARY_PATH is needed. Only the NVIDIA driver (libcuda.so.1)
# comes from the host. Without it TensorFlow runs every op on the CPU.
#
# Everything lands in a cache outside the repo:
#   ${BREWERY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brewery}/gpu/<key>/node_modules/@tensorflow/tfjs-node-gpu
# with gpu/current pointing at it (trainer/backend/native.ts looks there) and the wheels in gpu/wheels
# (2.3 GiB; the unpacked folder is 4.1 GiB). Idempotent. Needs python3 with pip, g++, make, unzip and nm.
set -euo pipefail

TFJS_NODE_GPU_VERSION=4.22.0
TF_WHEEL_VERSION=2.20.0
TF_WHEEL_PYTHON=3.11
NVIDIA_WHEELS=(
  nvidia-cublas-cu12==12.5.3.2
  nvidia-cuda-cupti-cu12==12.5.82
  nvidia-cuda-nvcc-cu12==12.5.82
  nvidia-cuda-nvrtc-cu12==12.5.82
  nvidia-cuda-runtime-cu12==12.5.82
  nvidia-cudnn-cu12==9.3.0.75
  nvidia-cufft-cu12==11.2.3.61
  nvidia-curand-cu12==10.3.6.82
  nvidia-cusolver-cu12==11.6.3.83
  nvidia-cusparse-cu12==12.5.1.3
  nvidia-nccl-cu12==2.25.1
  nvidia-nvjitlink-cu12==12.5.82
)
REQUIRED_SYMBOLS=(TF_Version TFE_NewContext TFE_Execute TFE_NewOp TFE_TensorHandleResolve TF_LoadSessionFromSavedModel)

CACHE_ROOT="${BREWERY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brewery}/gpu"
KEY="tfjs-node-gpu-${TFJS_NODE_GPU_VERSION}_tensorflow-${TF_WHEEL_VERSION}_cu12_node-abi-$(node -p 'process.versions.modules')"
DIR="$CACHE_ROOT/$KEY"
PKG="$DIR/node_modules/@tensorflow/tfjs-node-gpu"
WHEELS="$CACHE_ROOT/wheels"

say() { printf 'setup:gpu: %s\n' "$*" >&2; }
die() {
  say "FAILED: $*"
  exit 1
}

verify() {
  # Loads the package and runs one op (tfjs-node 4.22 calls util helpers Node 23 removed: shimmed here
  # as trainer/backend/tfjs-node-util.ts does for the trainer).
  (cd "$DIR" && node -e "
    const util = require('util');
    util.isNullOrUndefined = (value) => value === null || value === undefined;
    util.isArray = Array.isArray;
    const tf = require('@tensorflow/tfjs-node-gpu');
    if (tf.getBackend() !== 'tensorflow') throw new Error('backend is ' + tf.getBackend());
    const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync();
    if (y[0] !== 3) throw new Error('matMul gave ' + y[0]);
    console.log('tensorflow backend works: libtensorflow ' + tf.backend().binding.TF_Version);
  " 2>&1 | grep -v -e '^=\+$' -e 'Hi, looks like' -e '^$')
}

if [[ -f "$DIR/.complete" ]] && verify >/dev/null 2>&1; then
  ln -sfn "$KEY" "$CACHE_ROOT/current"
  say "already provisioned: $DIR ($(du -sh "$DIR" | cut -f1))"
  verify >&2
  exit 0
fi

for tool in g++ make unzip nm; do command -v "$tool" >/dev/null || die "$tool is needed (apt-get install -y g++ make unzip binutils)"; done
PIP=()
for py in python3 /usr/bin/python3; do
  if "$py" -m pip --version >/dev/null 2>&1; then PIP=("$py" -m pip) && break; fi
done
((${#PIP[@]})) || die "python3 with pip is needed to download the wheels"
NODE_GYP="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js"
[[ -f "$NODE_GYP" ]] || die "node-gyp, which ships with npm, was not found at $NODE_GYP"
NODEDIR="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
[[ -f "$NODEDIR/include/node/node_api.h" ]] || die "Node's headers are not in $NODEDIR/include/node (node-gyp would download them)"

start=$SECONDS
rm -rf "$DIR"
mkdir -p "$DIR" "$WHEELS"

say "1/6 downloading tensorflow==$TF_WHEEL_VERSION and ${#NVIDIA_WHEELS[@]} nvidia-*-cu12 wheels into $WHEELS (kept; pip skips what is there)"
# --platform: the wheels are tagged manylinux2014 / manylinux_2_17 (tensorflow) up to manylinux_2_27.
"${PIP[@]}" download --no-deps --only-binary=:all: --python-version "$TF_WHEEL_PYTHON" \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_27_x86_64 \
  --platform manylinux_2_28_x86_64 --find-links "$WHEELS" -d "$WHEELS" \
  "tensorflow==$TF_WHEEL_VERSION" "${NVIDIA_WHEELS[@]}" >&2 || die "pip could not download the wheels"
wheel=$(ls "$WHEELS"/tensorflow-"$TF_WHEEL_VERSION"-*.whl | head -1)

say "2/6 installing @tensorflow/tfjs-node-gpu@$TFJS_NODE_GPU_VERSION with --ignore-scripts"
echo '{ "private": true, "description": "brewery setup:gpu cache" }' >"$DIR/package.json"
(cd "$DIR" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
  "@tensorflow/tfjs-node-gpu@$TFJS_NODE_GPU_VERSION" >&2) || die "npm could not install @tensorflow/tfjs-node-gpu@$TFJS_NODE_GPU_VERSION"

say "3/6 finding the library that exports TensorFlow's C API"
scratch="$DIR/wheel"
unzip -q -o "$wheel" 'tensorflow/lib*.so*' 'tensorflow/include/tensorflow/c/*' \
  'tensorflow/include/tensorflow/core/platform/*' 'tensorflow/include/tsl/*' 'tensorflow/include/xla/tsl/*' \
  -d "$scratch" ||
  die "the wheel $wheel has no tensorflow/lib*.so* or C headers"
capi=""
for lib in "$scratch"/tensorflow/lib*.so*; do
  exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//')
  missing=0
  for sym in "${REQUIRED_SYMBOLS[@]}"; do grep -qx "$sym" <<<"$exported" || missing=1; done
  if ((missing == 0)); then capi="$lib" && break; fi
done
[[ -n "$capi" ]] || die "no shared library in $wheel exports all of ${REQUIRED_SYMBOLS[*]}"
framework="$scratch/tensorflow/libtensorflow_framework.so.2"
[[ -f "$framework" ]] || die "the wheel has no libtensorflow_framework.so.2"
say "   C API in $(basename "$capi"), runtime in $(basename "$framework")"
mkdir -p "$PKG/deps/lib" "$PKG/deps/include"
mv "$capi" "$framework" "$PKG/deps/lib/"
ln -sfn "$(basename "$capi")" "$PKG/deps/lib/libtensorflow.so"
ln -sfn libtensorflow_framework.so.2 "$PKG/deps/lib/libtensorflow_framework.so"
cp -r "$scratch"/tensorflow/include/{tensorflow,tsl,xla} "$PKG/deps/include/"
rm -rf "$scratch"

say "4/6 unpacking the CUDA 12 libraries into deps/nvidia/<name>/lib (libtensorflow's RUNPATH)"
for spec in "${NVIDIA_WHEELS[@]}"; do
  name="${spec%%==*}" version="${spec#*==}"
  file=$(ls "$WHEELS/${name//-/_}-$version"-*.whl 2>/dev/null | head -1)
  [[ -n "$file" ]] || die "no wheel for $spec in $WHEELS"
  # nvidia-cuda-nvcc-cu12 has no libraries, only ptxas and libdevice for XLA, which tfjs never runs.
  if unzip -Z1 "$file" | grep -q '^nvidia/[^/]*/lib/.*\.so'; then
    unzip -q -o "$file" 'nvidia/*/lib/*.so*' -d "$PKG/deps" || die "could not unpack $file"
  fi
done
# A library whose dependency lives in another wheel's folder (cuSPARSE needs nvJitLink) finds it through
# its own RUNPATH ($ORIGIN): link the dependency in beside it. libcuda.so.1 is the driver's, from the host.
for lib in "$PKG"/deps/nvidia/*/lib/*.so*; do
  [[ -L "$lib" ]] && continue
  while read -r needed; do
    provider=$(ls "$PKG"/deps/nvidia/*/lib/"$needed" 2>/dev/null | head -1)
    [[ -n "$provider" ]] || die "$(basename "$lib") needs $needed, which no nvidia wheel provides"
    ln -sfn "../../$(basename "$(dirname "$(dirname "$provider")")")/lib/$needed" "$(dirname "$lib")/$needed"
  done < <(LD_LIBRARY_PATH='' ldd "$lib" 2>/dev/null | awk '$3 == "found" && $1 != "libcuda.so.1" {print $1}')
done

napi=$(node -p "
  const wanted = require('$PKG/package.json').binary.napi_versions;
  Math.max(...wanted.filter((v) => v <= Number(process.versions.napi)))")
say "5/6 building the binding (N-API $napi) with node-gyp against $NODEDIR"
(cd "$PKG" && node "$NODE_GYP" rebuild --nodedir="$NODEDIR" --module_name=tfjs_binding \
  --module_path="$PKG/lib/napi-v$napi" --napi_build_version="$napi" >"$DIR/build.log" 2>&1) ||
  die "node-gyp failed; the last lines of $DIR/build.log: $(tail -5 "$DIR/build.log")"
rm -rf "$PKG/build/Release/obj.target"

say "6/6 checking that it loads and computes (on the CPU when there is no GPU)"
verify >&2 || die "the binding built but does not load or compute (see above)"
printf 'tfjs-node-gpu %s\ntensorflow %s\n%s\nbuilt %s in %ss\n' "$TFJS_NODE_GPU_VERSION" "$TF_WHEEL_VERSION" \
  "${NVIDIA_WHEELS[*]}" "$(date -u +%FT%TZ)" "$((SECONDS - start))" >"$DIR/.complete"
ln -sfn "$KEY" "$CACHE_ROOT/current"
say "done in $((SECONDS - start))s: $DIR ($(du -sh "$DIR" | cut -f1)); wheels kept in $WHEELS ($(du -sh "$WHEELS" | cut -f1))"
