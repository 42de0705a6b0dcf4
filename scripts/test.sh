#!/usr/bin/env bash
# `npm test`: every check and every test, on real PostgreSQL and a real Kafka
# broker that this script brings up (and stops again). Extra arguments go to
# jest, e.g. `npm test -- services/ledger`.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== static checks"
npm run --silent lint
npm run --silent typecheck
# Generated code must match the protos it came from.
npx buf generate
git diff --exit-code --stat -- packages/proto/src/gen || { echo "packages/proto is stale: run npm run gen"; exit 1; }

echo "== PostgreSQL"
bash scripts/postgres.sh
echo "== Kafka"
started_kafka=0
if [[ -z ${KAFKA_BROKERS:-} ]]; then
  bash scripts/kafka.sh stop --wipe >/dev/null 2>&1 || true
  export KAFKA_BROKERS=$(bash scripts/kafka.sh start | sed -n 's/^KAFKA_BROKERS=//p')
  started_kafka=1
fi
trap '[[ $started_kafka == 1 ]] && bash scripts/kafka.sh stop --wipe >/dev/null 2>&1' EXIT
echo "KAFKA_BROKERS=$KAFKA_BROKERS"

echo "== tests"
mkdir -p .tmp
status=0
npm run --silent test:unit -- --json --outputFile=.tmp/jest-results.json "$@" || status=$?
# One plain closing line with the counts, whatever the runner printed above it.
node -e '
  const r = require("./.tmp/jest-results.json");
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status
