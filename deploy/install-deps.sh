#!/usr/bin/env bash
# Installs every package tracegate needs to build, test and benchmark, from Debian 12.
# Idempotent: when everything is present it returns at once without touching apt.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libyaml-cpp-dev zlib1g-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev protobuf-compiler
  wrk curl procps openssl
  python3 chromium fonts-dejavu-core
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
)
# The browser test runs on Node.js and npm; a machine that already has a node keeps it.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or install them) and retry" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
