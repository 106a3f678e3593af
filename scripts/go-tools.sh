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
"$go" install -trimpath -ldflags "-s -w" "$KWOK_MODULE/cmd/kwok@$KWOK_VERSION"
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
(cd "$kube_parts" && "$go" install -mod=readonly -trimpath -ldflags "-s -w$version_flags" ./cmd/kube-apiserver ./cmd/etcd)
echo "$GOBIN/kube-apiserver: $("$GOBIN/kube-apiserver" --version 2>/dev/null)"
echo "$GOBIN/etcd: $("$GOBIN/etcd" --version 2>/dev/null | head -1)"
