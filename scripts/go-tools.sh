#!/usr/bin/env bash
# Builds the Go tools the tests run, from the Go module proxy, into the venv:
#   sloth (github.com/slok/sloth) - the SLO rule generator the platform's SLO rules are checked against
#               (harness/conformance.py); its example specs are read from the same module in the module cache.
# Everything lives under .venv (binary, module cache, build cache): `make distclean` removes it, and a second
# run finds the module and the build cache and only relinks. GOTOOLCHAIN=local: never download a toolchain.
set -euo pipefail

# The one pin (harness/sloth.py reads the version back from the binary's build information).
SLOTH_MODULE=github.com/slok/sloth
SLOTH_VERSION=v0.16.0

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
