#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run): install dependencies, build
# everything (Release, build/), run every test registered with ctest.
# Exits non-zero when anything fails, or when no test is registered at all.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

deploy/install-deps.sh
# The browser test's packages, exactly as locked (playwright-core drives the system Chromium).
if [ ! -d tests/browser/node_modules ] || [ tests/browser/package-lock.json -nt tests/browser/node_modules ]; then
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j2 --timeout 300 --no-tests=error
