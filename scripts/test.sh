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
rm -f .tmp/jest-*.json
status=0
# --forceExit: after a broker restart kafkajs can leave a socket open that keeps jest alive for minutes.
if (($# > 0)); then
  npm run --silent test:unit -- --json --outputFile=.tmp/jest-all.json --forceExit "$@" || status=$?
else
  # Tests that restart the broker run alone, after the others: a restart in
  # the middle of another file's start-up would fail that file for nothing.
  mapfile -t restarting < <(git ls-files '*.test.ts' | xargs grep -l 'restartTestBroker' || true)
  ignore=()
  for file in "${restarting[@]}"; do ignore+=(--testPathIgnorePatterns "$file"); done
  npm run --silent test:unit -- --json --outputFile=.tmp/jest-parallel.json --forceExit "${ignore[@]}" || status=$?
  if ((${#restarting[@]} > 0)); then
    echo "== tests that restart the broker, one at a time"
    npm run --silent test:unit -- --json --outputFile=.tmp/jest-serial.json --forceExit --runInBand --runTestsByPath "${restarting[@]}" || status=$?
  fi
fi
# One plain closing line with the counts, whatever the runner printed above it.
node -e '
  const fs = require("fs");
  const runs = fs.readdirSync(".tmp").filter((f) => /^jest-.*\.json$/.test(f)).map((f) => require(`./.tmp/${f}`));
  const sum = (key) => runs.reduce((n, r) => n + r[key], 0);
  console.log(`tests: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests") + sum("numTodoTests")} skipped`);
' || true
exit $status
