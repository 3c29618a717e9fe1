#!/usr/bin/env bash
# npm run setup:codec (and npm run setup) — builds Brewery's image codec, a small Node-API addon over
# the system's libjpeg-turbo (trainer/data/native/codec.c: JPEG decode and encode as OpenCV does them,
# and the loops of the bilinear resize), into the cache outside the repo:
#   ${BREWERY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brewery}/native/codec-<source hash>/brewery_codec.node
# and points native/codec-current at it; trainer/data/native-codec.ts loads it from there (or from
# $BREWERY_CODEC_ADDON). Without it the same code runs on sharp and JavaScript: same pixels, slower.
# Needs a C compiler and libjpeg-turbo's headers (Debian: gcc, libjpeg62-turbo-dev). Idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source="$here/../../trainer/data/native/codec.c"
CACHE_ROOT="${BREWERY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brewery}/native"
say() { printf 'setup:codec: %s\n' "$*" >&2; }

NODEDIR="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
[[ -f "$NODEDIR/include/node/node_api.h" ]] || { say "FAILED: Node's headers are not in $NODEDIR/include/node"; exit 1; }
CC="${CC:-cc}"
command -v "$CC" >/dev/null || { say "FAILED: no C compiler ($CC)"; exit 1; }
[[ -f /usr/include/jpeglib.h ]] || { say "FAILED: libjpeg-turbo's headers are missing (apt-get install libjpeg62-turbo-dev)"; exit 1; }

key="codec-$( (cat "$source"; "$CC" --version | head -1; uname -m) | sha256sum | cut -c1-16)"
dir="$CACHE_ROOT/$key"
addon="$dir/brewery_codec.node"
check() { node -e "const j = require(process.argv[1]); if (typeof j.decode !== 'function') process.exit(1); console.log('libjpeg-turbo ' + j.libjpegTurboVersion)" "$addon"; }

if [[ -f "$addon" ]] && check >/dev/null 2>&1; then
  ln -sfn "$key" "$CACHE_ROOT/codec-current"
  say "already built: $addon ($(check))"
  exit 0
fi
mkdir -p "$dir"
# Node-API addons link against nothing of Node's: its symbols resolve when Node loads the addon.
"$CC" -O3 -fPIC -shared -Wall -Wextra -Wno-unused-parameter -I"$NODEDIR/include/node" \
  -o "$addon.tmp" "$source" -ljpeg
mv "$addon.tmp" "$addon"
check >/dev/null || { say "FAILED: the built addon does not load"; exit 1; }
ln -sfn "$key" "$CACHE_ROOT/codec-current"
say "built $addon ($(check))"
