#!/usr/bin/env bash
# Builds the Go tools the tests run, from the Go module proxy, into the venv:
#   sloth (github.com/slok/sloth) - the SLO rule generator the platform's SLO rules are checked against
#               (harness/conformance.py); its example specs are read from the same module in the module cache.
#   promtool3 (github.com/prometheus/prometheus, cmd/promtool) - Prometheus 3's promtool: every platform
#               alert's cases run on it besides Debian's promtool 2.42 (3's range windows exclude their start,
#               which shifts `changes`, `max_over_time` and `for` by one sample).
#   kube-apiserver, etcd (scripts/kube-parts: k8s.io/kubernetes and the etcd server it requires) and the kwok
#               controller (sigs.k8s.io/kwok) - the simulated cluster of harness/cluster.py; kwok's stage
#               definitions are read from its module in the module cache.
#   prometheus (github.com/prometheus/prometheus, cmd/prometheus) - Prometheus at the cluster's release
#               (k8s/images.py), with only the Kubernetes discovery plugin: the agent's real discovery against
#               the simulated cluster (tests/cluster/test_agent_discovery.py).
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
# Prometheus 3.13.2's promtool (the version kubernetes-mixin's own tests run, its scripts/go.mod at the commit
# in tests/rules/kubernetes_mixin/mixin.yaml). Module versions are v0.3XX.Y for Prometheus 3.XX.Y.
PROMETHEUS_MODULE=github.com/prometheus/prometheus
PROMETHEUS_VERSION=v0.313.2

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

# promtool: `go install` refuses the Prometheus module (its go.mod has a replace directive), so it is built
# inside the downloaded module. GOWORK=off: the module ships a go.work naming folders its zip lacks.
# remove_all_sd leaves out the service-discovery plugins (Azure, GCE, ...) that unit tests never use, and
# most of the build time with them.
prometheus_dir="$("$go" mod download -json "$PROMETHEUS_MODULE@$PROMETHEUS_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
echo "building promtool $PROMETHEUS_VERSION (Prometheus 3) from $prometheus_dir"
(cd "$prometheus_dir" && GOWORK=off "$go" build -tags remove_all_sd -trimpath -ldflags "-s -w" \
  -o "$GOBIN/promtool3" ./cmd/promtool)
echo "$GOBIN/promtool3: built"

# kwok has no replace directives: `go install` works (its release is in its source, pkg/consts.Version).
echo "building kwok $KWOK_VERSION"
"$go" install -trimpath $NO_DWARF -ldflags "-s -w" "$KWOK_MODULE/cmd/kwok@$KWOK_VERSION"
echo "$GOBIN/kwok: $("$GOBIN/kwok" --version 2>/dev/null | head -1)"

# kube-apiserver and etcd from the wrapper module (scripts/kube-parts/go.mod says why), one `go install` so
# the packages they share compile once. The version is stamped in as upstream's hack/lib/version.sh does, so
# /version answers v1.35.x as a real cluster does.
kube_parts="$repository/scripts/kube-parts"
kubernetes_version="$(cd "$kube_parts" && "$go" list -m -f '{{.Version}}' k8s.io/kubernetes)"
etcd_version="$(cd "$kube_parts" && "$go" list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
minor="$(echo "$kubernetes_version" | cut -d. -f2)"
version_flags=""
for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_flags+=" -X $package.gitVersion=$kubernetes_version -X $package.gitMajor=1 -X $package.gitMinor=$minor"
  version_flags+=" -X $package.gitTreeState=clean"
done
echo "building kube-apiserver $kubernetes_version and etcd $etcd_version"
(cd "$kube_parts" && "$go" install -mod=readonly -buildvcs=false -trimpath $NO_DWARF -ldflags "-s -w$version_flags" ./cmd/kube-apiserver ./cmd/etcd)
echo "$GOBIN/kube-apiserver: $("$GOBIN/kube-apiserver" --version 2>/dev/null)"
echo "$GOBIN/etcd: $("$GOBIN/etcd" --version 2>/dev/null | head -1)"

# Prometheus at the release the cluster runs: k8s/images.py's PROMETHEUS_IMAGE tag (the one pin), as its Go
# module version (tag v3.X.Y = module v0.3XX.Y). Its go.mod has a replace directive (to a published
# module), so `go install` refuses it: it is built from a copy of the downloaded module (under .venv/go/src;
# the module cache is read-only to builds), with plugins/plugins.go replaced by scripts/prometheus/plugins.go
# (only the Kubernetes discovery among the optional plugins: that file says why), and the version stamped as
# upstream's .promu.yml does. The web UI's assets are not built (the API is all the tests use). (Unlike
# 3.13.2, 3.5.0 has no `remove_all_sd` build tag.)
prometheus_release="$(sed -n 's|^PROMETHEUS_IMAGE = "quay.io/prometheus/prometheus:v\([0-9.]*\)".*|\1|p' \
  "$repository/k8s/images.py")"
if [ -z "$prometheus_release" ]; then
  echo "error: k8s/images.py: PROMETHEUS_IMAGE is not quay.io/prometheus/prometheus:vX.Y.Z" >&2
  exit 1
fi
IFS=. read -r major minor patch <<< "$prometheus_release"
prometheus_module_version="v0.$((major * 100 + minor)).$patch"
echo "building prometheus $prometheus_release ($PROMETHEUS_MODULE $prometheus_module_version)"
module_dir="$("$go" mod download -json "$PROMETHEUS_MODULE@$prometheus_module_version" \
  | sed -n 's|^\t"Dir": "\(.*\)",$|\1|p')"
source_dir="$venv/go/src/prometheus@$prometheus_module_version"
rm -rf "$source_dir"
mkdir -p "$(dirname "$source_dir")"
cp -R "$module_dir" "$source_dir"
chmod -R u+w "$source_dir"
cp "$repository/scripts/prometheus/plugins.go" "$source_dir/plugins/plugins.go"
(cd "$source_dir" && "$go" build -mod=readonly -buildvcs=false -trimpath $NO_DWARF -o "$GOBIN/prometheus" \
  -ldflags "-s -w -X github.com/prometheus/common/version.Version=$prometheus_release \
    -X github.com/prometheus/common/version.Branch=HEAD" ./cmd/prometheus)
echo "$GOBIN/prometheus: $("$GOBIN/prometheus" --version 2>/dev/null | head -1)"

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
