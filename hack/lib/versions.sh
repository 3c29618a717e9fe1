# Pinned versions of everything hack/ builds from the Go module proxy, and of the Node.js Brewery runs on.
# Sourced by hack/build-tools, hack/cluster and hack/with-node. Change a version here and the cache key
# changes with it.

# Node.js 24, the active LTS (supported until April 2028). When the machine's Node is older, `npm run
# setup` installs this release from the npm registry's node-<platform>-<arch> package (Node's own
# linux binary and headers) and hack/with-node puts it first on PATH.
NODE_VERSION=24.22.3

KUBERNETES_VERSION=v1.36.3
# The etcd version controller-runtime's envtest pairs with Kubernetes 1.36.
ETCD_VERSION=v3.6.8
HELM_VERSION=v3.21.4
# Prometheus 3.x publishes its Go module as v0.3xx.y; this one is Prometheus 3.16.
PROMETHEUS_MODULE_VERSION=v0.316.0
# Only the service discoveries we use (static and Kubernetes): the cloud ones triple the build.
PROMETHEUS_TAGS="remove_all_sd enable_kubernetes_sd"
# The S3-compatible object server: Versity's S3 gateway (Apache-2.0) over its posix backend, with its
# built-in IAM accounts (users.json in an --iam-dir) for several identities and per-bucket owners. It
# checks SigV4 signatures, takes multipart uploads and pages listings past 1,000 keys.
# MEASURED_COMMENT
VERSITYGW_VERSION=v1.8.0
# Kueue, the Kubernetes project's job queueing: its manager for `hack/cluster up --with kueue`; its CRDs
# are applied from this module's source in the Go module cache.
KUEUE_VERSION=v0.17.0

BREWERY_CACHE="${BREWERY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brewery}"
TOOLS_DIR="$BREWERY_CACHE/tools"
NODE_DIR="$TOOLS_DIR/node-v$NODE_VERSION"
