#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running demo, run as root. It installs the
# Debian packages the demo needs and the npm dependencies (Node 24 included), then runs
# `npm run demo`, which starts a private Docker engine and leaves the machine's own engine alone.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${EUID} -ne 0 ]]; then
  echo "demo.sh: run as root (sudo bash scripts/demo.sh): the demo starts its own Docker engine" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends docker.io busybox-static ca-certificates
if ! command -v npm >/dev/null; then
  apt-get install -y --no-install-recommends nodejs npm
fi

npm ci
npm run demo
