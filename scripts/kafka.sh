#!/usr/bin/env bash
# Manage one local Apache Kafka 3.9 broker (KRaft, combined broker+controller)
# for tests and development. No Docker and no kafka.apache.org tarball: the
# jars come from Maven Central via `mvn`, cached outside the repo.
#
# Usage: scripts/kafka.sh fetch|start|stop [--wipe]|restart|status|wipe
#        scripts/kafka.sh topics <TopicCommand args>   (bootstrap server added)
#
# Env: KAFKA_VERSION, KAFKA_CACHE_DIR, KAFKA_DATA_DIR, KAFKA_PORT,
#      KAFKA_CONTROLLER_PORT, KAFKA_HEAP, KAFKA_START_TIMEOUT, KAFKA_STOP_TIMEOUT
set -euo pipefail

# 3.9.2 is the newest 3.9.x on Maven Central (3.9.1 also exists).
KAFKA_VERSION=${KAFKA_VERSION:-3.9.2}
CACHE_DIR=${KAFKA_CACHE_DIR:-$HOME/.cache/money-platform/kafka-3.9}
DATA_DIR=${KAFKA_DATA_DIR:-/tmp/money-platform-kafka}
PORT=${KAFKA_PORT:-19092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
# Modest heap: the test suite runs beside the broker on a 2-core machine.
HEAP=${KAFKA_HEAP:--Xms256m -Xmx768m}
START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}

LIB_DIR=$CACHE_DIR/lib-$KAFKA_VERSION # versioned so a bump never mixes jars
PID_FILE=$DATA_DIR/kafka.pid
LOG_DIR=$DATA_DIR/logs                # log4j output (server.log, kafka.out)
KRAFT_DIR=$DATA_DIR/kraft             # log.dirs: topic data + metadata log
MARKER=$DATA_DIR/.money-platform-kafka # wipe only deletes dirs we created
BROKERS=127.0.0.1:$PORT

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- fetch ----
fetch() {
  [[ -f $LIB_DIR/.complete ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (needed to fetch Kafka jars)"
  mkdir -p "$CACHE_DIR"
  local t0=$SECONDS work=$CACHE_DIR/fetch-$KAFKA_VERSION
  rm -rf "$work" && mkdir -p "$work"
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIB_DIR ..."
  # The kafka_2.13 pom lists the broker's runtime deps. kafka-tools adds the
  # CLI classes (TopicCommand...) minus connect-runtime (Jetty/Jersey, ~25 MB,
  # only used by the Connect plugin-path tool). Kafka 3.9 logs via slf4j 1.7;
  # its pom declares no backend, so add the reload4j binding the tarball ships.
  # zookeeper drags in logback, which would fight reload4j for slf4j: exclude.
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.money-platform</groupId><artifactId>kafka-runtime</artifactId>
  <version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version>
      <exclusions>
        <exclusion><groupId>ch.qos.logback</groupId><artifactId>*</artifactId></exclusion>
      </exclusions></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version>
      <exclusions>
        <exclusion><groupId>ch.qos.logback</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion>
        <exclusion><groupId>com.fasterxml.jackson.jaxrs</groupId><artifactId>*</artifactId></exclusion>
      </exclusions></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>
  </dependencies>
</project>
EOF
  mvn -q -B -Dstyle.color=never -f "$work/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$work/lib" >"$work/mvn.log" 2>&1 ||
    { tail -n 30 "$work/mvn.log" >&2; die "mvn failed to fetch Kafka $KAFKA_VERSION"; }
  write_log4j "$work/lib"
  touch "$work/lib/.complete"
  rm -rf "$LIB_DIR" && mv "$work/lib" "$LIB_DIR" && rm -rf "$work" # atomic-ish
  local jars=("$LIB_DIR"/*.jar)
  log "fetched ${#jars[@]} jars in $((SECONDS - t0))s"
}

# Broker logs go to $LOG_DIR/server.log (not stdout); tools only print warnings.
write_log4j() {
  cat >"$1/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=3
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
# Chatty per-request/state loggers: keep them quiet.
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.org.apache.kafka.storage.internals.log=WARN
EOF
  cat >"$1/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

# Run a Kafka CLI main class on the cached classpath.
run_tool() {
  java -Xmx256m -Dlog4j.configuration="file:$LIB_DIR/tools-log4j.properties" \
    -cp "$LIB_DIR/*" "$@"
}

# ---------------------------------------------------------------- state ----
running_pid() { # prints the pid if our broker is alive (guards pid reuse)
  [[ -f $PID_FILE ]] || return 1
  local pid; pid=$(<"$PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    ps -o args= -p "$pid" 2>/dev/null | grep -q 'kafka\.Kafka' &&
    echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_config() {
  cat >"$DATA_DIR/server.properties" <<EOF
# Generated by scripts/kafka.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KRAFT_DIR
# Single node: every internal topic must have RF 1 / ISR 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Tests want fast consumer-group joins and explicit topic creation.
group.initial.rebalance.delay.ms=0
num.partitions=3
auto.create.topics.enable=false
# Small segments/indexes keep disk and startup cheap for throwaway data.
log.segment.bytes=16777216
log.index.size.max.bytes=1048576
offsets.topic.segment.bytes=16777216
log.retention.hours=24
num.network.threads=2
num.io.threads=4
# After a SIGKILL the new broker must wait for the old registration's session
# to expire before it can register (default 9 s); shorten that wait.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
EOF
}

# ---------------------------------------------------------------- start ----
start() {
  local pid
  if pid=$(running_pid); then
    log "already running (pid $pid)"; echo "KAFKA_BROKERS=$BROKERS"; return 0
  fi
  rm -f "$PID_FILE"
  for p in "$PORT" "$CONTROLLER_PORT"; do
    port_open "$p" && die "port $p is already in use by another process"
  done
  fetch
  command -v java >/dev/null || die "java not found (Java 17 required)"

  mkdir -p "$DATA_DIR" "$LOG_DIR"
  touch "$MARKER"
  write_config
  if [[ ! -f $KRAFT_DIR/meta.properties ]]; then
    # Fresh data dir: KRaft refuses to start on unformatted storage.
    local cluster_id; cluster_id=$(run_tool kafka.tools.StorageTool random-uuid)
    run_tool kafka.tools.StorageTool format --ignore-formatted \
      -t "$cluster_id" -c "$DATA_DIR/server.properties" >/dev/null
    log "formatted $KRAFT_DIR (cluster id $cluster_id)"
  fi

  # Rotate the old log so the readiness grep only sees this run's lines.
  [[ -f $LOG_DIR/server.log ]] && mv "$LOG_DIR/server.log" "$LOG_DIR/server.log.prev"
  # Same GC flags as bin/kafka-run-class.sh; setsid so the broker survives
  # the caller's terminal/process group (e.g. a test runner's shell).
  # shellcheck disable=SC2086 # HEAP is intentionally word-split
  setsid java $HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true -Dkafka.logs.dir="$LOG_DIR" \
    -Dlog4j.configuration="file:$LIB_DIR/log4j.properties" \
    -cp "$LIB_DIR/*" kafka.Kafka "$DATA_DIR/server.properties" \
    >"$LOG_DIR/kafka.out" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"

  # Port open is not enough (the socket server binds before the broker has
  # caught up with the metadata log); wait for the "started" log line too.
  local deadline=$((SECONDS + START_TIMEOUT))
  until port_open "$PORT" && grep -qs 'Kafka Server started' "$LOG_DIR/server.log"; do
    kill -0 "$pid" 2>/dev/null || start_failed "$pid" "broker exited"
    ((SECONDS < deadline)) || start_failed "$pid" "not ready after ${START_TIMEOUT}s"
    sleep 0.5
  done
  log "started Kafka $KAFKA_VERSION (pid $pid, data $DATA_DIR)"
  echo "KAFKA_BROKERS=$BROKERS"
}

start_failed() {
  log "failed to start: $2; last log lines:"
  tail -n 40 "$LOG_DIR/server.log" "$LOG_DIR/kafka.out" >&2 2>/dev/null || true
  kill -9 "$1" 2>/dev/null || true
  rm -f "$PID_FILE"
  exit 1
}

# ----------------------------------------------------------------- stop ----
stop() {
  local pid
  if pid=$(running_pid); then
    kill -TERM "$pid"
    # SIGTERM triggers a clean shutdown (flushes logs, closes the raft log),
    # so a restart does not need log recovery. Bounded, then force it.
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      log "no exit after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    log "stopped (pid $pid)"
  else
    log "not running"
  fi
  rm -f "$PID_FILE"
}

wipe() {
  stop
  [[ -d $DATA_DIR ]] || return 0
  [[ -f $MARKER ]] || die "refusing to delete $DATA_DIR: not created by kafka.sh"
  rm -rf "$DATA_DIR"
  log "wiped $DATA_DIR"
}

status() {
  local pid
  if pid=$(running_pid); then
    echo "running (pid $pid, Kafka $KAFKA_VERSION, data $DATA_DIR)"
    echo "KAFKA_BROKERS=$BROKERS"
  else
    echo "not running"; return 3 # LSB "program is not running"
  fi
}

case ${1:-} in
  fetch) fetch ;;
  start) start ;;
  stop) if [[ ${2:-} == --wipe ]]; then wipe; else stop; fi ;;
  wipe) wipe ;;
  restart) stop; start ;;
  status) status ;;
  topics) shift; fetch
    run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BROKERS" "$@" ;;
  *) echo "usage: $0 fetch|start|stop [--wipe]|restart|status|wipe|topics <args>" >&2
     exit 2 ;;
esac
