#!/usr/bin/env bash
# The whole suite: lint + type check, then every test against real PostgreSQL, Temporal, Xray and sshd.
# Each service is started by the tests themselves (infra/local/services.ts) and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

# The wall time of this run goes to .data/last-test-wall.json, which `npm run bench` reports (P7).
started_ms=$(($(date +%s%N) / 1000000))
record_wall() {
  local code=$?
  mkdir -p .data
  local ms=$(($(date +%s%N) / 1000000 - started_ms))
  printf '{"wall_s":%d.%d,"exit_code":%d,"finished_at":"%s","commit":"%s"}\n' \
    $((ms / 1000)) $((ms % 1000 / 100)) "$code" "$(date -u +%FT%TZ)" \
    "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" >.data/last-test-wall.json
}
trap record_wall EXIT

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
