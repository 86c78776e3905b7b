#!/usr/bin/env bash
# The whole suite: lint + type check, then every test against real PostgreSQL, Temporal, Xray and sshd.
# Each service is started by the tests themselves (test/support/services.ts) and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lint (biome) and type check (tsc)"
npx biome check .
npx tsc --noEmit -p tsconfig.json

echo "== tools the tests run for real"
npx tsx infra/local/temporal-cli.ts >/dev/null
npx tsx infra/local/test-server.ts >/dev/null # the time-skipping server of the *.unit.test.ts layer
npx tsx scripts/ensure-xray.ts >/dev/null
command -v /usr/sbin/sshd >/dev/null || { echo "sshd missing: apt-get install openssh-server" >&2; exit 1; }

echo "== tests"
npx mocha 'test/**/*.test.ts' "$@"
