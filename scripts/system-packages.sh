#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the tests run for real, when they are missing:
#   postgresql  - the web app's tests run against a real Postgres on 127.0.0.1
#   prometheus, prometheus-node-exporter, prometheus-postgres-exporter
#               - the metrics tests run the generated agent config in a real Prometheus (agent and
#                 remote-write receiver) against real exporters; promtool comes with prometheus
set -euo pipefail

packages=(postgresql prometheus prometheus-node-exporter prometheus-postgres-exporter)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing system packages: ${missing[*]}. Install them with your package manager." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
