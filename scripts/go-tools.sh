#!/usr/bin/env bash
# Builds the Go tools the tests run, from the Go module proxy, into the venv:
#   sloth (github.com/slok/sloth) - the SLO rule generator the platform's SLO rules are checked against
#               (harness/conformance.py); its example specs are read from the same module in the module cache.
#   promtool3 (github.com/prometheus/prometheus, cmd/promtool) - Prometheus 3's promtool, which runs
#               kubernetes-mixin's own test cases against our alerts (tests/rules/test_kubernetes_mixin.py):
#               the mixin writes them for Prometheus 3, whose range windows exclude their start (Debian's
#               promtool 2.42 includes it, which shifts `changes`, `max_over_time` and `for` by one sample).
# Everything lives under .venv (binary, module cache, build cache): `make distclean` removes it, and a second
# run finds the module and the build cache and only relinks. GOTOOLCHAIN=local: never download a toolchain.
set -euo pipefail

# The pins (harness/sloth.py reads sloth's version back from the binary's build information).
SLOTH_MODULE=github.com/slok/sloth
SLOTH_VERSION=v0.16.0
# Prometheus 3.13.2: the version kubernetes-mixin's own tests run (its scripts/go.mod, at the commit in
# tests/rules/kubernetes_mixin/mixin.yaml). Module versions are v0.3XX.Y for Prometheus 3.XX.Y.
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
