#!/usr/bin/env bash
# npm run setup:native (and `npm run setup`, which calls it) — provisions @tensorflow/tfjs-node without its install script, which downloads
# libtensorflow from a host we cannot reach. Instead it takes TensorFlow's C API from the tensorflow-cpu
# wheel on PyPI and builds the package's binding from its own sources with node-gyp.
#
# Everything lands in a cache outside the repo, one folder per pinned combination:
#   ${BREWERY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brewery}/native/<key>/node_modules/@tensorflow/tfjs-node
# and native/current points at the combination in use; trainer/backend/native.ts loads it from there.
# Idempotent: a provisioned, loadable combination is left alone. Needs python3 with pip, g++, make.
set -euo pipefail

# Pinned versions. tfjs-node 4.22 is written against libtensorflow 2.9's C API; the C API it uses is
# stable and every symbol it calls is exported by the 2.12.1 wheel's libtensorflow_cc.so.2 (checked
# below with nm). 2.12 is the oldest tensorflow-cpu PyPI still serves for this Python ABI range.
TFJS_NODE_VERSION=4.22.0
TF_WHEEL_VERSION=2.12.1
TF_WHEEL_PYTHON=3.11
TF_WHEEL_PLATFORM=manylinux2014_x86_64
# Symbols the binding needs that must come from the wheel's libraries (a sample of its calls).
REQUIRED_SYMBOLS=(TF_Version TFE_NewContext TFE_Execute TFE_NewOp TFE_TensorHandleResolve TF_LoadSessionFromSavedModel)

CACHE_ROOT="${BREWERY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brewery}/native"
KEY="tfjs-node-${TFJS_NODE_VERSION}_tensorflow-cpu-${TF_WHEEL_VERSION}_node-abi-$(node -p 'process.versions.modules')"
DIR="$CACHE_ROOT/$KEY"
PKG="$DIR/node_modules/@tensorflow/tfjs-node"
WHEELS="$CACHE_ROOT/wheels"

say() { printf 'setup:native: %s\n' "$*" >&2; }
die() {
  say "FAILED: $*"
  exit 1
}

verify() {
  # Loads the package and runs one op on the tensorflow backend. tfjs-node 4.22 calls util helpers
  # that Node 23 removed; the trainer hands it trainer/backend/tfjs-node-util.ts, this check the same.
  (cd "$DIR" && node -e "
    const util = require('util');
    util.isNullOrUndefined = (value) => value === null || value === undefined;
    util.isArray = Array.isArray;
    const tf = require('@tensorflow/tfjs-node');
    const b = tf.backend();
    if (tf.getBackend() !== 'tensorflow') throw new Error('backend is ' + tf.getBackend());
    const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync();
    if (y[0] !== 3) throw new Error('matMul gave ' + y[0]);
    console.log('tensorflow backend works: libtensorflow ' + b.binding.TF_Version);
  " 2>&1 | grep -v -e '^=\+$' -e 'Hi, looks like' -e '^$')
}

# Warm: one load-and-compute check (a couple of seconds), no rebuild.
if [[ -f "$DIR/.complete" ]] && works=$(verify 2>&1 | tail -1); then
  ln -sfn "$KEY" "$CACHE_ROOT/current"
  say "already provisioned: $DIR; $works"
  exit 0
fi

command -v g++ >/dev/null && command -v make >/dev/null || die "g++ and make are needed (apt-get install -y g++ make)"
PIP=()
for py in python3 /usr/bin/python3; do
  if "$py" -m pip --version >/dev/null 2>&1; then PIP=("$py" -m pip) && break; fi
done
((${#PIP[@]})) || die "python3 with pip is needed to download the tensorflow-cpu wheel"
# npm's own folder, not `npm prefix -g`: under the Node.js hack/with-node provides that is Node's folder.
NODE_GYP="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js"
[[ -f "$NODE_GYP" ]] || die "node-gyp, which ships with npm, was not found at $NODE_GYP"
NODEDIR="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
[[ -f "$NODEDIR/include/node/node_api.h" ]] || die "Node's headers are not in $NODEDIR/include/node (node-gyp would download them, which is blocked)"

start=$SECONDS
rm -rf "$DIR"
mkdir -p "$DIR" "$WHEELS"

say "1/5 downloading tensorflow-cpu==$TF_WHEEL_VERSION (only its shared libraries and C headers are used)"
wheel=$(ls "$WHEELS"/tensorflow_cpu-"$TF_WHEEL_VERSION"-*.whl 2>/dev/null | head -1 || true)
if [[ -z "$wheel" ]]; then
  "${PIP[@]}" download --no-deps --no-cache-dir --only-binary=:all: --python-version "$TF_WHEEL_PYTHON" \
    --platform "$TF_WHEEL_PLATFORM" -d "$WHEELS" "tensorflow-cpu==$TF_WHEEL_VERSION" >&2 ||
    die "pip could not download tensorflow-cpu==$TF_WHEEL_VERSION from PyPI"
  wheel=$(ls "$WHEELS"/tensorflow_cpu-"$TF_WHEEL_VERSION"-*.whl | head -1)
fi

say "2/5 installing @tensorflow/tfjs-node@$TFJS_NODE_VERSION with --ignore-scripts"
echo '{ "private": true, "description": "brewery setup:native cache" }' >"$DIR/package.json"
(cd "$DIR" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
  "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" >&2) || die "npm could not install @tensorflow/tfjs-node@$TFJS_NODE_VERSION"

say "3/5 finding the libraries that export TensorFlow's C API"
scratch="$DIR/wheel"
unzip -q -o "$wheel" 'tensorflow/lib*.so*' 'tensorflow/include/tensorflow/c/*' \
  'tensorflow/include/tensorflow/core/platform/*' 'tensorflow/include/tensorflow/tsl/*' -d "$scratch" ||
  die "the wheel $wheel has no tensorflow/lib*.so* or C headers"
capi=""
for lib in "$scratch"/tensorflow/lib*.so*; do
  exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//')
  missing=0
  for sym in "${REQUIRED_SYMBOLS[@]}"; do grep -qx "$sym" <<<"$exported" || missing=1; done
  if ((missing == 0)); then capi="$lib" && break; fi
done
[[ -n "$capi" ]] || die "no shared library in the wheel exports all of ${REQUIRED_SYMBOLS[*]}"
framework="$scratch/tensorflow/libtensorflow_framework.so.2"
[[ -f "$framework" ]] || die "the wheel has no libtensorflow_framework.so.2"
say "   C API in $(basename "$capi"), runtime in $(basename "$framework")"

# binding.gyp links -ltensorflow -ltensorflow_framework from deps/lib and sets rpath to that folder.
mkdir -p "$PKG/deps/lib" "$PKG/deps/include"
mv "$capi" "$framework" "$PKG/deps/lib/"
ln -sfn "$(basename "$capi")" "$PKG/deps/lib/libtensorflow.so"
ln -sfn libtensorflow_framework.so.2 "$PKG/deps/lib/libtensorflow_framework.so"
cp -r "$scratch/tensorflow/include/tensorflow" "$PKG/deps/include/"
rm -rf "$scratch"

napi=$(node -p "
  const wanted = require('$PKG/package.json').binary.napi_versions;
  Math.max(...wanted.filter((v) => v <= Number(process.versions.napi)))")
say "4/5 building the binding (N-API $napi) with node-gyp against $NODEDIR"
(cd "$PKG" && node "$NODE_GYP" rebuild --nodedir="$NODEDIR" --module_name=tfjs_binding \
  --module_path="$PKG/lib/napi-v$napi" --napi_build_version="$napi" >"$DIR/build.log" 2>&1) ||
  die "node-gyp failed; the last lines of $DIR/build.log: $(tail -5 "$DIR/build.log")"

say "5/5 checking that it loads and computes"
verify >&2 || die "the binding built but does not load or compute (see above)"
printf 'tfjs-node %s\ntensorflow-cpu %s\nbuilt %s in %ss\n' "$TFJS_NODE_VERSION" "$TF_WHEEL_VERSION" \
  "$(date -u +%FT%TZ)" "$((SECONDS - start))" >"$DIR/.complete"
ln -sfn "$KEY" "$CACHE_ROOT/current"
say "done in $((SECONDS - start))s: $DIR ($(du -sh "$DIR" | cut -f1)); wheel kept in $WHEELS ($(du -sh "$WHEELS" | cut -f1))"
