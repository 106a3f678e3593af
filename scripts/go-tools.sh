#!/usr/bin/env bash
# Builds the Go tools the tests run, from the Go module proxy, into the venv:
#   sloth (github.com/slok/sloth) - the SLO rule generator the platform's SLO rules are checked against
#               (harness/conformance.py); its example specs are read from the same module in the module cache.
#   prometheus, promtool3 (github.com/prometheus/prometheus, cmd/prometheus and cmd/promtool) - Prometheus at
#               the cluster's release (k8s/images.py), with only the Kubernetes discovery among the optional
#               plugins: every agent (its real discovery against the simulated cluster), the AMP stand-in
#               (harness/stack.py) and the promtool of every rule test (the platform alerts' cases also run
#               on Debian's promtool 2.42: 3's range windows exclude their start, 2's include it).
#   kube-apiserver, kube-controller-manager, kube-scheduler, etcd (scripts/kube-parts: k8s.io/kubernetes and
#               the etcd server it requires) and the kwok controller (sigs.k8s.io/kwok) - the simulated cluster
#               of harness/cluster.py; kwok's stage definitions are read from its module in the module cache.
#   kubectl (scripts/kube-parts, the same release) - the learner's path (docs/learn/) runs it against the
#               sandbox's simulated cluster; built with the others, it adds about 37 CPU-seconds (its own
#               packages: kustomize, cli-runtime; the client packages it shares are compiled once).
#   kube-state-metrics (k8s.io/kube-state-metrics/v2) - at the cluster's release (k8s/images.py), reading the
#               simulated cluster as its own service account (tests/cluster, `make cost`).
# Everything lives under .venv (binaries, module cache, build cache): `make distclean` removes it, and a second
# run finds the module and the build cache and only relinks. GOTOOLCHAIN=local: never download a toolchain.
# Stripped (-s -w) and -trimpath, as the upstream release builds: smaller binaries, faster links.
set -euo pipefail

# The pins. sloth's and kwok's are here (harness/sloth.py and harness/cluster.py read the versions back from
# the binaries); kube-apiserver's and etcd's are scripts/kube-parts/go.mod's requirements (and go.sum).
SLOTH_MODULE=github.com/slok/sloth
SLOTH_VERSION=v0.16.0
KWOK_MODULE=sigs.k8s.io/kwok
KWOK_VERSION=v0.8.0

repository="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repository/.venv"
go="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
if [ ! -x "$go" ]; then
  echo "error: Go not found (PATH or /usr/local/go/bin/go; GO=/path/to/go overrides): it builds sloth" >&2
  exit 1
fi

export GOBIN="$venv/bin" GOMODCACHE="$venv/go/mod" GOCACHE="$venv/go/cache" GOPATH="$venv/go"
# -modcacherw: the module cache is read-only by default, which `rm -rf` (make distclean) cannot remove.
export GOTOOLCHAIN=local GOFLAGS=-modcacherw CGO_ENABLED=0
mkdir -p "$GOBIN"
# The simulated cluster's parts and Prometheus: no debug information compiled (the link strips it anyway,
# -w), about a tenth less compile time (kwok, cold: 173 CPU-seconds instead of 192).
NO_DWARF=-gcflags=all=-dwarf=false
echo "building sloth $SLOTH_VERSION with $("$go" version)"
# As upstream's release build (scripts/build/bin/build-raw.sh): the version stamped in, so `sloth version`
# and the sloth_version label say which release generated the rules.
"$go" install -trimpath -ldflags "-s -w -X $SLOTH_MODULE/internal/info.Version=$SLOTH_VERSION" \
  "$SLOTH_MODULE/cmd/sloth@$SLOTH_VERSION"
echo "$GOBIN/sloth: $("$GOBIN/sloth" version 2>/dev/null)"

# kwok has no replace directives: `go install` works (its release is in its source, pkg/consts.Version).
echo "building kwok $KWOK_VERSION"
"$go" install -trimpath $NO_DWARF -ldflags "-s -w" "$KWOK_MODULE/cmd/kwok@$KWOK_VERSION"
echo "$GOBIN/kwok: $("$GOBIN/kwok" --version 2>/dev/null | head -1)"

# kube-apiserver, kube-controller-manager, kube-scheduler and etcd from the wrapper module
# (scripts/kube-parts/go.mod says why), one `go install` so the packages they share compile once. The version
# is stamped in as upstream's hack/lib/version.sh does, so /version answers v1.35.x as a real cluster does.
kube_parts="$repository/scripts/kube-parts"
kubernetes_version="$(cd "$kube_parts" && "$go" list -m -f '{{.Version}}' k8s.io/kubernetes)"
etcd_version="$(cd "$kube_parts" && "$go" list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
minor="$(echo "$kubernetes_version" | cut -d. -f2)"
version_flags=""
for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_flags+=" -X $package.gitVersion=$kubernetes_version -X $package.gitMajor=1 -X $package.gitMinor=$minor"
  version_flags+=" -X $package.gitTreeState=clean"
done
echo "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $kubernetes_version and etcd $etcd_version"
(cd "$kube_parts" && "$go" install -mod=readonly -buildvcs=false -trimpath $NO_DWARF -ldflags "-s -w$version_flags" \
  ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler ./cmd/kubectl ./cmd/etcd)
echo "$GOBIN/kubectl: $("$GOBIN/kubectl" version --client 2>/dev/null | head -1)"
for command in kube-apiserver kube-controller-manager kube-scheduler; do
  echo "$GOBIN/$command: $("$GOBIN/$command" --version 2>/dev/null)"
done
echo "$GOBIN/etcd: $("$GOBIN/etcd" --version 2>/dev/null | head -1)"

# Prometheus and its promtool at the release the cluster runs: k8s/images.py's PROMETHEUS_IMAGE tag (the one
# pin), as its Go module version (tag v3.X.Y = module v0.3XX.Y). Its go.mod has a replace directive (to a
# published module), so `go install` refuses it: both are built inside the downloaded module (GOWORK=off: the
# module ships a go.work naming folders its zip lacks). The build tags `remove_all_sd,enable_kubernetes_sd`
# keep only the Kubernetes discovery among the optional plugins (plugins/plugin_kubernetes.go's constraint;
# file and HTTP discovery are always in, plugins/minimum.go): the cloud providers' SDKs and most of the build
# time stay out. The version is stamped as upstream's .promu.yml does. The web UI's assets are not built (the
# API is all the tests use).
PROMETHEUS_MODULE=github.com/prometheus/prometheus
prometheus_release="$(sed -n 's|^PROMETHEUS_IMAGE = "quay.io/prometheus/prometheus:v\([0-9.]*\)".*|\1|p' \
  "$repository/k8s/images.py")"
if [ -z "$prometheus_release" ]; then
  echo "error: k8s/images.py: PROMETHEUS_IMAGE is not quay.io/prometheus/prometheus:vX.Y.Z" >&2
  exit 1
fi
IFS=. read -r major minor patch <<< "$prometheus_release"
prometheus_module_version="v0.$((major * 100 + minor)).$patch"
echo "building prometheus and promtool $prometheus_release ($PROMETHEUS_MODULE $prometheus_module_version)"
module_dir="$("$go" mod download -json "$PROMETHEUS_MODULE@$prometheus_module_version" \
  | sed -n 's|^\t"Dir": "\(.*\)",$|\1|p')"
version_ldflags="-X github.com/prometheus/common/version.Version=$prometheus_release \
  -X github.com/prometheus/common/version.Branch=HEAD"
for command in prometheus promtool; do
  output="$GOBIN/$command"
  [ "$command" = promtool ] && output="$GOBIN/promtool3"  # Debian's promtool (2.42) keeps the plain name
  (cd "$module_dir" && GOWORK=off "$go" build -mod=readonly -buildvcs=false -trimpath $NO_DWARF \
    -tags remove_all_sd,enable_kubernetes_sd -ldflags "-s -w $version_ldflags" -o "$output" "./cmd/$command")
done
echo "$GOBIN/prometheus: $("$GOBIN/prometheus" --version 2>/dev/null | head -1)"
echo "$GOBIN/promtool3: $("$GOBIN/promtool3" --version 2>/dev/null | head -1)"

# kube-state-metrics at the release the cluster runs: k8s/images.py's KUBE_STATE_METRICS_IMAGE tag (the one
# pin). Its go.mod has no replace directives, so `go install` builds it; the version is stamped as upstream's
# Makefile does (`kube-state-metrics version` names the release).
ksm_module=k8s.io/kube-state-metrics/v2
ksm_version="$(sed -n 's|^KUBE_STATE_METRICS_IMAGE = "registry.k8s.io/kube-state-metrics/kube-state-metrics:\(v[0-9.]*\)".*|\1|p' \
  "$repository/k8s/images.py")"
if [ -z "$ksm_version" ]; then
  echo "error: k8s/images.py: KUBE_STATE_METRICS_IMAGE is not registry.k8s.io/kube-state-metrics/kube-state-metrics:vX.Y.Z" >&2
  exit 1
fi
ksm_go_mod="$("$go" mod download -json "$ksm_module@$ksm_version" | sed -n 's|^\t"GoMod": "\(.*\)",$|\1|p')"
ksm_client_go="$(sed -n 's|^\tk8s.io/client-go \(v[0-9.]*\)$|\1|p' "$ksm_go_mod")"
echo "building kube-state-metrics $ksm_version (client-go $ksm_client_go)"
"$go" install -trimpath $NO_DWARF -ldflags "-s -w -X github.com/prometheus/common/version.Version=$ksm_version \
  -X github.com/prometheus/common/version.Branch=HEAD -X $ksm_module/pkg/app.ClientGoVersion=$ksm_client_go" \
  "$ksm_module@$ksm_version"
echo "$GOBIN/kube-state-metrics: $("$GOBIN/kube-state-metrics" version 2>/dev/null | head -1)"
