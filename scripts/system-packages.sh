#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the tests run for real, when they are missing:
#   postgresql  - the web app's tests run against a real Postgres on 127.0.0.1
#   prometheus-node-exporter, prometheus-postgres-exporter
#               - the real exporters the metrics tests and the sandbox scrape (Prometheus itself, agent and
#                 receiver, is the cluster's release, built by `make go-tools`)
#   prometheus  - its promtool 2.42: the platform alerts' cases run on it besides the cluster's release's
#   jq          - the Grafana HTTP API upload (docs/architecture/grafana.md) (scripts/dashboard-api-body.jq), run by the dashboard tests
#   prometheus-alertmanager (amtool, and the binary the sandbox runs)
#               - unpacked into $AMTOOL_ROOT, never installed: its postinst would enable and start an
#                 Alertmanager service. The rules tests run $AMTOOL_ROOT/usr/bin/amtool (AMTOOL_BIN overrides);
#                 `make local` and `make e2e` run $AMTOOL_ROOT/usr/bin/prometheus-alertmanager on 127.0.0.1.
#                 Debian's build reads its default notification templates from a fixed path,
#                 $ALERTMANAGER_TEMPLATES, which only the installed package would fill: they are copied there
#                 from the unpacked package (two plain files; no service, no user, nothing enabled).
#                 amtool is linked into the venv's bin: on PATH in `make` recipes and an activated venv.
set -euo pipefail

packages=(postgresql prometheus prometheus-node-exporter prometheus-postgres-exporter jq)
repository="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Inside the venv: `make distclean` removes it, and unpacking needs no root.
AMTOOL_ROOT="${AMTOOL_ROOT:-$repository/.venv/opt/prometheus-alertmanager}"
amtool="$AMTOOL_ROOT/usr/bin/amtool"
ALERTMANAGER_TEMPLATES=/usr/share/prometheus/alertmanager

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
need_amtool=true
if [ -x "$amtool" ] && "$amtool" --version >/dev/null 2>&1; then need_amtool=false; fi
need_templates=true
if [ -f "$ALERTMANAGER_TEMPLATES/default.tmpl" ]; then need_templates=false; fi
# `.venv/bin/amtool`, once the venv and the unpacked amtool exist (`make deps` creates the venv).
link_amtool() {
  if [ -d "$repository/.venv/bin" ] && [ -x "$amtool" ]; then ln -sfn "$amtool" "$repository/.venv/bin/amtool"; fi
}
if [ ${#missing[@]} -eq 0 ] && [ "$need_amtool" = false ] && [ "$need_templates" = false ]; then
  link_amtool
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  [ "$need_amtool" = true ] && missing+=("prometheus-alertmanager (its amtool, unpacked into $AMTOOL_ROOT)")
  echo "error: missing system packages: ${missing[*]}. Install them with your package manager." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
updated=false
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  updated=true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$need_amtool" = true ]; then
  echo "unpacking amtool (prometheus-alertmanager) into $AMTOOL_ROOT"
  download="$(mktemp -d)"
  trap 'rm -rf "$download"' EXIT
  chmod 755 "$download"  # apt's _apt user writes here when run as root
  # `apt-get download` needs current package lists (a fresh CI image has none): update once, then retry.
  if ! (cd "$download" && apt-get download -qq prometheus-alertmanager 2>/dev/null); then
    [ "$updated" = true ] || $sudo apt-get update -qq
    (cd "$download" && apt-get download -qq prometheus-alertmanager)
  fi
  rm -rf "$AMTOOL_ROOT"
  mkdir -p "$AMTOOL_ROOT"
  dpkg-deb -x "$download"/prometheus-alertmanager_*.deb "$AMTOOL_ROOT"
  "$amtool" --version >/dev/null
fi

if [ ! -f "$ALERTMANAGER_TEMPLATES/default.tmpl" ]; then
  echo "copying Alertmanager's default templates into $ALERTMANAGER_TEMPLATES (the unpacked binary reads them there)"
  $sudo mkdir -p "$ALERTMANAGER_TEMPLATES"
  $sudo cp "$AMTOOL_ROOT"/usr/share/prometheus/alertmanager/*.tmpl "$ALERTMANAGER_TEMPLATES/"
fi

link_amtool
