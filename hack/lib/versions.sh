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
# Chosen over SeaweedFS (`weed`, Apache-2.0, S3 gateway with identities in a JSON config) for its build,
# measured cold (empty GOCACHE and GOMODCACHE, one after the other, CGO_ENABLED=0) on a 2-core machine
# shared with other builds and tests:
#   versitygw v1.8.0: 860 s wall (41 s to download 330 MiB of modules, 819 s to compile), 235 s of CPU,
#     646 MiB peak RSS, a 43 MiB binary; load average 2 rising to 17.
#   SeaweedFS v0.0.0-20261109003541-7506e5f91cd6: 3,202 s wall (280 s to download 3.4 GiB of modules,
#     2,922 s to compile), 895 s of CPU, 2.1 GiB peak RSS, a 157 MiB binary; load average 13 to 24.
# versitygw also has the per-bucket owner we need for a second identity in its own admin CLI.
VERSITYGW_VERSION=v1.8.0
# Kueue, the Kubernetes project's job queueing: its manager for `hack/cluster up --with kueue`; its CRDs
# are applied from this module's source in the Go module cache.
KUEUE_VERSION=v0.17.0

BREWERY_CACHE="${BREWERY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brewery}"
TOOLS_DIR="$BREWERY_CACHE/tools"
NODE_DIR="$TOOLS_DIR/node-v$NODE_VERSION"
