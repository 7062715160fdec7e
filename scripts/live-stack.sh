#!/usr/bin/env bash
# The live test stack: real Prometheus, Alertmanager, exporters, Redis, MariaDB and
# PostgreSQL (each a primary and a replica) and a restic repository, all from Debian
# packages, all on 127.0.0.1 on non-default ports, all under one temp dir.
#
#   scripts/live-stack.sh up                 install what is missing, start everything
#   scripts/live-stack.sh down               stop what `up` started (by recorded pid)
#   scripts/live-stack.sh status             every service: running or not, pid, port
#   scripts/live-stack.sh stop-service NAME  fault helpers for the live tests
#   scripts/live-stack.sh start-service NAME
#   scripts/live-stack.sh kill-service NAME  (SIGKILL, no clean shutdown)
#   scripts/live-stack.sh backup-age SECONDS [SERVICE]   last backup SECONDS ago
#   scripts/live-stack.sh mysql primary|replica SQL
#   scripts/live-stack.sh slave-status       the MariaDB replica's SHOW SLAVE STATUS
#   scripts/live-stack.sh psql primary|replica SQL
#   scripts/live-stack.sh redis primary|replica ARGS...
#   scripts/live-stack.sh services           the service names
#
# Everything lives in ${WATCHDECK_LIVE_DIR:-/tmp/watchdeck-live}. Needs root for the
# package install and to run PostgreSQL and MariaDB as their own users. Nothing is started
# through systemd; `down` stops only the processes whose pids `up` recorded.
set -euo pipefail

DIR="${WATCHDECK_LIVE_DIR:-/tmp/watchdeck-live}"
RUN="$DIR/run"
PIDS="$DIR/pids"
LOGS="$DIR/logs"
PGBIN="${WATCHDECK_PGBIN:-}"
HOST=127.0.0.1
# Test-only credentials: the stack listens on loopback only and lives for one test run.
DB_PASSWORD="watchdeck-live"

# name:port, in start order (a replica after its primary, an exporter after its server).
SERVICES=(
  alertmanager:19093
  pushgateway:19091
  node-exporter:19100
  redis-primary:16379
  redis-replica:16380
  redis-exporter-primary:19121
  redis-exporter-replica:19122
  mariadb-primary:13306
  mariadb-replica:13307
  mysqld-exporter-primary:19104
  mysqld-exporter-replica:19105
  pg-primary:15432
  pg-replica:15433
  postgres-exporter-primary:19187
  postgres-exporter-replica:19188
  prometheus:19090
  backup-job:0
)

PACKAGES=(
  prometheus prometheus-alertmanager prometheus-node-exporter prometheus-pushgateway
  prometheus-redis-exporter prometheus-mysqld-exporter prometheus-postgres-exporter
  redis-server redis-tools mariadb-server mariadb-client postgresql postgresql-client
  restic curl util-linux
)

die() {
  echo "live-stack: error: $*" >&2
  exit 1
}
say() { echo "live-stack: $*"; }

port_of() {
  local s
  for s in "${SERVICES[@]}"; do
    if [[ ${s%%:*} == "$1" ]]; then
      echo "${s##*:}"
      return 0
    fi
  done
  die "unknown service '$1' (known: $(service_names | tr '\n' ' '))"
}

service_names() {
  local s
  for s in "${SERVICES[@]}"; do echo "${s%%:*}"; done
}

pid_of() {
  local f="$PIDS/$1.pid"
  [[ -s $f ]] && cat "$f"
}

running() {
  local pid
  pid="$(pid_of "$1")" || return 1
  kill -0 "$pid" 2>/dev/null
}

port_open() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# Wait until `check ARGS...` succeeds, or fail naming the service and its log.
wait_for() {
  local name="$1" seconds="$2"
  shift 2
  local i
  for ((i = 0; i < seconds * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! running "$name"; then
      tail -n 20 "$LOGS/$name.log" >&2 || true
      die "$name exited during start (log: $LOGS/$name.log)"
    fi
    sleep 0.2
  done
  tail -n 20 "$LOGS/$name.log" >&2 || true
  die "$name did not become ready in ${seconds}s (log: $LOGS/$name.log)"
}

# Start a long-running process in its own session (so it outlives this script and the
# test that called it) and record its pid. `setsid` and `setpriv` both exec, so $! is the
# service's own pid, which is what `down` will signal.
launch() {
  local name="$1"
  shift
  if running "$name"; then
    say "$name already running (pid $(pid_of "$name"))"
    return 0
  fi
  local port
  port="$(port_of "$name")"
  if [[ $port != 0 ]] && port_open "$port"; then
    die "port $port (for $name) is already in use by a process this script did not start"
  fi
  setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
  echo "$!" >"$PIDS/$name.pid"
}

as_user() {
  local user="$1"
  shift
  setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
}

pgbin() {
  if [[ -n $PGBIN ]]; then
    echo "$PGBIN"
    return
  fi
  local d
  d="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
  [[ -n $d ]] || die "no PostgreSQL server found under /usr/lib/postgresql"
  echo "$d"
}

# --- install ------------------------------------------------------------------------------

install_packages() {
  local missing=()
  local p
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  [[ $(id -u) == 0 ]] || die "packages missing (${missing[*]}); run as root to install them"
  say "installing ${missing[*]}"
  # Package scripts must not start the services through systemd/init: this script starts
  # them itself, on its own ports. policy-rc.d returning 101 forbids it.
  local policy=/usr/sbin/policy-rc.d created_policy=""
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  local rc=0
  {
    apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  } >"${TMPDIR:-/tmp}/live-stack-apt.log" 2>&1 || rc=$?
  if [[ -n $created_policy ]]; then rm -f "$policy"; fi
  if ((rc != 0)); then
    tail -n 30 "${TMPDIR:-/tmp}/live-stack-apt.log" >&2
    die "apt-get install failed (full log: ${TMPDIR:-/tmp}/live-stack-apt.log)"
  fi
  # Debian's postinst may start services despite policy-rc.d on some setups; anything left
  # on the default ports is not ours and would confuse nobody here, so it is only reported.
  return 0
}

# --- configuration files -----------------------------------------------------------------

write_prometheus_config() {
  mkdir -p "$DIR/prometheus"
  cat >"$DIR/prometheus/prometheus.yml" <<EOF
# Generated by scripts/live-stack.sh. Every target carries env="live"; node/role/cluster
# say where it sits (role: primary or replica).
global:
  scrape_interval: 2s
  scrape_timeout: 2s
  evaluation_interval: 2s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["$HOST:19093"]
rule_files:
  - $DIR/prometheus/alerts.yml
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["$HOST:19100"]
        labels: { env: live, node: live-host, role: host, cluster: live }
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ["$HOST:19091"]
        labels: { env: live, node: live-host, role: pushgateway, cluster: live }
  - job_name: redis
    static_configs:
      - targets: ["$HOST:19121"]
        labels: { env: live, node: redis1, role: primary, cluster: redis-live, service: redis }
      - targets: ["$HOST:19122"]
        labels: { env: live, node: redis2, role: replica, cluster: redis-live, service: redis, primary: redis1 }
  - job_name: mysqld
    static_configs:
      - targets: ["$HOST:19104"]
        labels: { env: live, node: db1, role: primary, cluster: mariadb-live, service: mariadb }
      - targets: ["$HOST:19105"]
        labels: { env: live, node: db2, role: replica, cluster: mariadb-live, service: mariadb, primary: db1 }
  - job_name: postgres
    static_configs:
      - targets: ["$HOST:19187"]
        labels: { env: live, node: pg1, role: primary, cluster: pg-live, service: postgres }
      - targets: ["$HOST:19188"]
        labels: { env: live, node: pg2, role: replica, cluster: pg-live, service: postgres, primary: pg1 }
EOF
  cat >"$DIR/prometheus/alerts.yml" <<'EOF'
groups:
  - name: live-stack
    rules:
      # Always firing, so Alertmanager always has an alert to silence (severity "none":
      # listed by watchdeck, never an incident).
      - alert: LiveStackWatchdog
        expr: vector(1)
        labels: { severity: none, env: live }
        annotations: { summary: "The live stack's alerting pipeline works" }
      - alert: ExporterDown
        expr: up == 0
        for: 30s
        labels: { severity: warning }
        annotations: { summary: "{{ $labels.job }} exporter on {{ $labels.node }} is down" }
      - alert: MySQLReplicationStopped
        expr: mysql_slave_status_slave_sql_running == 0 or mysql_slave_status_slave_io_running == 0
        for: 30s
        labels: { severity: warning }
        annotations: { summary: "MariaDB replication on {{ $labels.node }} has stopped" }
      - alert: BackupTooOld
        expr: time() - backup_last_success_timestamp_seconds > 3600
        for: 0s
        labels: { severity: warning }
        annotations: { summary: "{{ $labels.service }} backup is older than an hour" }
EOF
}

write_alertmanager_config() {
  mkdir -p "$DIR/alertmanager"
  cat >"$DIR/alertmanager/alertmanager.yml" <<'EOF'
# Generated by scripts/live-stack.sh: alerts go nowhere; the stack is for watchdeck to read.
route:
  receiver: "null"
  group_by: [alertname]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 4h
receivers:
  - name: "null"
EOF
}

# Backup metrics as a backup job would leave them for node_exporter's textfile collector.
# Written through a temp file and rename, as the collector documentation asks.
write_backup_metrics() {
  local age="${1:-60}" only="${2:-}"
  local now svc tmp
  now="$(date +%s)"
  mkdir -p "$DIR/textfile"
  tmp="$DIR/textfile/.backup.prom.$$"
  {
    echo "# HELP backup_last_success_timestamp_seconds Unix time of the last successful backup."
    echo "# TYPE backup_last_success_timestamp_seconds gauge"
    for svc in mariadb postgres; do
      local a=60
      if [[ -z $only || $only == "$svc" ]]; then a="$age"; fi
      echo "backup_last_success_timestamp_seconds{service=\"$svc\"} $((now - a))"
    done
    echo "# HELP backup_last_size_bytes Size of the last successful backup."
    echo "# TYPE backup_last_size_bytes gauge"
    echo "backup_last_size_bytes{service=\"mariadb\"} 52428800"
    echo "backup_last_size_bytes{service=\"postgres\"} 31457280"
    echo "# HELP backup_last_duration_seconds Duration of the last successful backup."
    echo "# TYPE backup_last_duration_seconds gauge"
    echo "backup_last_duration_seconds{service=\"mariadb\"} 42"
    echo "backup_last_duration_seconds{service=\"postgres\"} 17"
  } >"$tmp"
  mv -f "$tmp" "$DIR/textfile/backup.prom"
}

push_redis_backup() {
  local now
  now="$(date +%s)"
  printf '# TYPE backup_last_success_timestamp_seconds gauge\nbackup_last_success_timestamp_seconds{service="redis"} %s\n# TYPE backup_last_size_bytes gauge\nbackup_last_size_bytes{service="redis"} 1048576\n' "$((now - 120))" |
    curl -fsS --data-binary @- "http://$HOST:19091/metrics/job/backup/instance/redis" >/dev/null
}

# --- initialisation of data directories ------------------------------------------------------

init_mariadb() {
  local role="$1" id="$2"
  local data="$DIR/mariadb-$role"
  [[ -d $data/mysql ]] && return 0
  mkdir -p "$data"
  chown mysql:mysql "$data"
  mariadb-install-db --user=mysql --datadir="$data" --auth-root-authentication-method=socket \
    --skip-test-db >"$LOGS/mariadb-$role-install.log" 2>&1 ||
    die "mariadb-install-db for $role failed (log: $LOGS/mariadb-$role-install.log)"
  cat >"$DIR/mariadb-$role.cnf" <<EOF
[mariadbd]
datadir=$data
port=$(port_of "mariadb-$role")
bind-address=$HOST
socket=$RUN/mariadb-$role.sock
pid-file=$RUN/mariadb-$role.pid
user=mysql
server-id=$id
log-bin=$data/binlog
binlog-format=ROW
gtid-strict-mode=1
log-slave-updates=1
skip-name-resolve=1
innodb-buffer-pool-size=32M
innodb-log-file-size=16M
performance-schema=0
EOF
}

init_postgres_primary() {
  local data="$DIR/pg-primary"
  [[ -f $data/PG_VERSION ]] && return 0
  mkdir -p "$data"
  chown postgres:postgres "$data"
  chmod 700 "$data"
  as_user postgres "$(pgbin)/initdb" -D "$data" -U postgres --auth=trust \
    >"$LOGS/pg-primary-initdb.log" 2>&1 ||
    die "initdb failed (log: $LOGS/pg-primary-initdb.log)"
  cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '$HOST'
port = 15432
unix_socket_directories = '$RUN'
wal_level = replica
max_wal_senders = 5
hot_standby = on
shared_buffers = 32MB
fsync = off
EOF
  # Loopback only, test-only: trust the local users.
  echo "host replication all $HOST/32 trust" >>"$data/pg_hba.conf"
}

init_postgres_replica() {
  local data="$DIR/pg-replica"
  [[ -f $data/PG_VERSION ]] && return 0
  mkdir -p "$data"
  chown postgres:postgres "$data"
  chmod 700 "$data"
  # -R writes standby.signal and primary_conninfo; application_name is the replica's node
  # name, so the primary's pg_stat_replication names it.
  as_user postgres "$(pgbin)/pg_basebackup" -h "$HOST" -p 15432 -U postgres -D "$data" \
    -X stream -R -d "application_name=pg2" >"$LOGS/pg-replica-basebackup.log" 2>&1 ||
    die "pg_basebackup failed (log: $LOGS/pg-replica-basebackup.log)"
  cat >>"$data/postgresql.conf" <<EOF
port = 15433
EOF
}

write_exporter_files() {
  local role
  for role in primary replica; do
    cat >"$DIR/mysqld-exporter-$role.cnf" <<EOF
[client]
user=exporter
password=$DB_PASSWORD
host=$HOST
port=$(port_of "mariadb-$role")
EOF
    chmod 600 "$DIR/mysqld-exporter-$role.cnf"
  done
  # postgres_exporter 0.11 reports neither whether it speaks to a replica nor the replica's
  # lag in seconds; this is the query its own documentation ships for that.
  cat >"$DIR/postgres-queries.yaml" <<'EOF'
pg_replication:
  query: "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 ELSE GREATEST(0, EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))) END AS lag, CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END AS is_replica"
  master: true
  metrics:
    - lag:
        usage: "GAUGE"
        description: "Replication lag behind primary in seconds"
    - is_replica:
        usage: "GAUGE"
        description: "Indicates if the server is a replica"
EOF
}

# --- starting each service ------------------------------------------------------------------

start_service() {
  local name="$1"
  port_of "$name" >/dev/null
  case "$name" in
    backup-job)
      # A stand-in for the backup jobs: every 10 s it re-writes the textfile metrics and
      # re-pushes the redis one, `backup-age` seconds old (60 unless a test set it), so a
      # stack left up keeps fresh backups as a real one would.
      launch backup-job bash "$0" backup-loop
      wait_for backup-job 30 test -s "$DIR/textfile/backup.prom"
      ;;
    prometheus)
      launch prometheus prometheus --config.file="$DIR/prometheus/prometheus.yml" \
        --storage.tsdb.path="$DIR/prometheus/data" --storage.tsdb.retention.time=1d \
        --web.listen-address="$HOST:19090" --web.enable-lifecycle
      wait_for prometheus 60 curl -fsS -o /dev/null "http://$HOST:19090/-/ready"
      ;;
    alertmanager)
      launch alertmanager prometheus-alertmanager \
        --config.file="$DIR/alertmanager/alertmanager.yml" \
        --storage.path="$DIR/alertmanager/data" --web.listen-address="$HOST:19093" \
        --cluster.listen-address=""
      wait_for alertmanager 60 curl -fsS -o /dev/null "http://$HOST:19093/-/ready"
      ;;
    pushgateway)
      launch pushgateway prometheus-pushgateway --web.listen-address="$HOST:19091"
      wait_for pushgateway 60 curl -fsS -o /dev/null "http://$HOST:19091/-/ready"
      ;;
    node-exporter)
      launch node-exporter prometheus-node-exporter --web.listen-address="$HOST:19100" \
        --collector.textfile.directory="$DIR/textfile"
      wait_for node-exporter 60 curl -fsS -o /dev/null "http://$HOST:19100/metrics"
      ;;
    redis-primary | redis-replica)
      local role="${name#redis-}" port extra=()
      port="$(port_of "$name")"
      mkdir -p "$DIR/$name"
      if [[ $role == replica ]]; then extra=(--replicaof "$HOST" 16379); fi
      launch "$name" redis-server --bind "$HOST" --port "$port" --dir "$DIR/$name" \
        --daemonize no --save "" --appendonly no --protected-mode no "${extra[@]}"
      wait_for "$name" 30 redis-cli -h "$HOST" -p "$port" ping
      ;;
    redis-exporter-primary | redis-exporter-replica)
      local role="${name#redis-exporter-}"
      launch "$name" prometheus-redis-exporter \
        --redis.addr="redis://$HOST:$(port_of "redis-$role")" \
        --web.listen-address="$HOST:$(port_of "$name")"
      wait_for "$name" 30 curl -fsS -o /dev/null "http://$HOST:$(port_of "$name")/metrics"
      ;;
    mariadb-primary | mariadb-replica)
      launch "$name" mariadbd --defaults-file="$DIR/$name.cnf"
      wait_for "$name" 60 mariadb --socket="$RUN/$name.sock" -e "SELECT 1" -s
      ;;
    mysqld-exporter-primary | mysqld-exporter-replica)
      local role="${name#mysqld-exporter-}"
      launch "$name" prometheus-mysqld-exporter --config.my-cnf="$DIR/$name.cnf" \
        --collect.slave_status --web.listen-address="$HOST:$(port_of "$name")"
      wait_for "$name" 30 curl -fsS -o /dev/null "http://$HOST:$(port_of "$name")/metrics"
      ;;
    pg-primary | pg-replica)
      launch "$name" setpriv --reuid=postgres --regid=postgres --init-groups -- \
        "$(pgbin)/postgres" -D "$DIR/$name"
      wait_for "$name" 60 "$(pgbin)/pg_isready" -q -h "$HOST" -p "$(port_of "$name")"
      ;;
    postgres-exporter-primary | postgres-exporter-replica)
      local role="${name#postgres-exporter-}"
      launch "$name" env \
        DATA_SOURCE_NAME="postgresql://postgres@$HOST:$(port_of "pg-$role")/postgres?sslmode=disable" \
        prometheus-postgres-exporter --web.listen-address="$HOST:$(port_of "$name")" \
        --extend.query-path="$DIR/postgres-queries.yaml"
      wait_for "$name" 30 curl -fsS -o /dev/null "http://$HOST:$(port_of "$name")/metrics"
      ;;
  esac
}

stop_service() {
  local name="$1" signal="${2:-TERM}"
  port_of "$name" >/dev/null
  if ! running "$name"; then
    rm -f "$PIDS/$name.pid"
    return 0
  fi
  local pid
  pid="$(pid_of "$name")"
  # PostgreSQL's TERM waits for clients to leave ("smart"); INT is its fast shutdown.
  if [[ $signal == TERM && $name == pg-* ]]; then signal=INT; fi
  kill -s "$signal" "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDS/$name.pid"
      return 0
    fi
    sleep 0.1
  done
  say "$name (pid $pid) ignored SIG$signal for 30 s; sending KILL"
  kill -s KILL "$pid" 2>/dev/null || true
  rm -f "$PIDS/$name.pid"
}

sql_primary() { mariadb --socket="$RUN/mariadb-primary.sock" -N -s -e "$1"; }
sql_replica() { mariadb --socket="$RUN/mariadb-replica.sock" -N -s -e "$1"; }

setup_mariadb_replication() {
  sql_primary "CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
    GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
    CREATE USER IF NOT EXISTS 'exporter'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD' WITH MAX_USER_CONNECTIONS 3;
    GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO 'exporter'@'127.0.0.1';
    CREATE DATABASE IF NOT EXISTS live;
    CREATE TABLE IF NOT EXISTS live.writes (id INT AUTO_INCREMENT PRIMARY KEY, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6));"
  if [[ -z "$(sql_replica "SHOW SLAVE STATUS")" ]]; then
    # GTID from the very start: both servers were installed empty, so the replica replays
    # the primary's whole binary log (users, database) and then follows it.
    sql_replica "CHANGE MASTER TO MASTER_HOST='$HOST', MASTER_PORT=13306, MASTER_USER='repl',
      MASTER_PASSWORD='$DB_PASSWORD', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
      START SLAVE;"
  fi
  local i
  for ((i = 0; i < 150; i++)); do
    if [[ "$(sql_replica "SELECT COUNT(*) FROM mysql.user WHERE user='exporter'")" == 1 ]]; then
      return 0
    fi
    sleep 0.2
  done
  die "MariaDB replica did not replicate the primary in 30 s: $(sql_replica "SHOW SLAVE STATUS\G" | grep -E 'Running|Error' | tr -s ' ' | tr '\n' ';')"
}

# --- restic ---------------------------------------------------------------------------------

restic_catalog() {
  export RESTIC_REPOSITORY="$DIR/restic" RESTIC_PASSWORD_FILE="$DIR/restic.password"
  if [[ ! -f $DIR/restic/config ]]; then
    echo "watchdeck-live" >"$RESTIC_PASSWORD_FILE"
    chmod 600 "$RESTIC_PASSWORD_FILE"
    restic init -q >"$LOGS/restic.log" 2>&1 || die "restic init failed (log: $LOGS/restic.log)"
    mkdir -p "$DIR/backup-src"
    local now offset when
    now="$(date +%s)"
    # Back-dated snapshots that cover the live policy's retention (hourly for 6 h, daily
    # for days 1-5): one every 30 min, then every 12 h, so every slot holds one however the
    # slot windows fall, for a while after `up`.
    for offset in 0 1800 3600 5400 7200 9000 10800 12600 14400 16200 18000 19800 21600 23400 \
      79200 122400 165600 208800 252000 295200 338400 381600 424800 468000; do
      when="$(date -u -d "@$((now - offset))" '+%Y-%m-%d %H:%M:%S')"
      echo "dump at $when" >"$DIR/backup-src/mariadb.sql"
      TZ=UTC restic backup -q --host live-host --tag mariadb --time "$when" "$DIR/backup-src" \
        >>"$LOGS/restic.log" 2>&1 || die "restic backup failed (log: $LOGS/restic.log)"
    done
  fi
  restic snapshots --json >"$DIR/restic-snapshots.json.tmp" 2>>"$LOGS/restic.log" ||
    die "restic snapshots failed (log: $LOGS/restic.log)"
  mv -f "$DIR/restic-snapshots.json.tmp" "$DIR/restic-snapshots.json"
}

# --- commands -------------------------------------------------------------------------------

cmd_up() {
  local started
  started="$(date +%s)"
  local all_up=1 name
  for name in $(service_names); do
    if ! running "$name"; then all_up=""; fi
  done
  if [[ -n $all_up ]]; then
    say "already up (dir $DIR); 'status' lists the services"
    return 0
  fi
  [[ $(id -u) == 0 ]] || die "run as root (PostgreSQL and MariaDB run as their own users)"
  local any_up=""
  for name in $(service_names); do
    if running "$name"; then any_up=1; fi
  done
  if [[ -z $any_up && -d $DIR ]]; then
    # Nothing of ours runs: start afresh, so back-dated snapshots and backup ages are
    # relative to now and no fault injected into an earlier stack is left behind. Only a
    # directory this script made is removed.
    if [[ -e $DIR/.watchdeck-live ]]; then
      rm -rf "$DIR"
    elif [[ -n "$(ls -A "$DIR")" ]]; then
      die "$DIR is not empty and not a live-stack directory; set WATCHDECK_LIVE_DIR elsewhere"
    fi
  elif [[ -n $any_up ]]; then
    say "partly up: starting what is not running"
  fi
  install_packages
  mkdir -p "$DIR" "$RUN" "$PIDS" "$LOGS"
  touch "$DIR/.watchdeck-live"
  chmod 755 "$DIR"
  chown postgres:postgres "$RUN"
  chmod 1777 "$RUN"
  write_prometheus_config
  write_alertmanager_config
  write_exporter_files
  init_mariadb primary 1
  init_mariadb replica 2
  for name in alertmanager pushgateway node-exporter redis-primary redis-replica \
    redis-exporter-primary redis-exporter-replica mariadb-primary mariadb-replica; do
    start_service "$name"
  done
  setup_mariadb_replication
  start_service mysqld-exporter-primary
  start_service mysqld-exporter-replica
  init_postgres_primary
  start_service pg-primary
  init_postgres_replica
  for name in pg-replica postgres-exporter-primary postgres-exporter-replica prometheus \
    backup-job; do
    start_service "$name"
  done
  restic_catalog
  say "up in $(($(date +%s) - started)) s (dir $DIR)"
  if [[ $DIR != /tmp/watchdeck-live ]]; then
    sed "s#/tmp/watchdeck-live#$DIR#g" "$(dirname "$0")/../config/live-stack.toml" >"$DIR/live-stack.toml"
    say "config for this dir: $DIR/live-stack.toml"
  fi
}

cmd_down() {
  local names=() name
  mapfile -t names < <(service_names | tac)
  for name in "${names[@]}"; do
    if [[ -f $PIDS/$name.pid ]]; then
      if running "$name"; then say "stopping $name (pid $(pid_of "$name"))"; fi
      stop_service "$name"
    fi
  done
  say "down (data kept in $DIR until the next up, which starts afresh)"
}

cmd_status() {
  local name rc=0
  for name in $(service_names); do
    if running "$name"; then
      printf '%-27s running  pid %-8s port %s\n' "$name" "$(pid_of "$name")" "$(port_of "$name" | sed 's/^0$/-/')"
    else
      printf '%-27s stopped\n' "$name"
      rc=3
    fi
  done
  return "$rc"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    services) service_names ;;
    stop-service)
      [[ $# == 1 ]] || die "usage: stop-service NAME"
      stop_service "$1"
      ;;
    kill-service)
      [[ $# == 1 ]] || die "usage: kill-service NAME"
      stop_service "$1" KILL
      ;;
    start-service)
      [[ $# == 1 ]] || die "usage: start-service NAME"
      mkdir -p "$PIDS" "$LOGS"
      start_service "$1"
      ;;
    backup-age)
      [[ $# -ge 1 && $1 =~ ^[0-9]+$ ]] || die "usage: backup-age SECONDS [mariadb|postgres]"
      # The backup job keeps this age from now on; written at once too, not at its next run.
      echo "$1 ${2:-}" >"$DIR/backup-age"
      write_backup_metrics "$1" "${2:-}"
      ;;
    backup-loop)
      while :; do
        local age="" only=""
        if [[ -s $DIR/backup-age ]]; then read -r age only <"$DIR/backup-age" || true; fi
        write_backup_metrics "${age:-60}" "$only"
        push_redis_backup || true
        sleep 10
      done
      ;;
    mysql)
      [[ $# == 2 && ($1 == primary || $1 == replica) ]] || die "usage: mysql primary|replica SQL"
      mariadb --socket="$RUN/mariadb-$1.sock" -N -s -e "$2"
      ;;
    slave-status)
      mariadb --socket="$RUN/mariadb-replica.sock" -e 'SHOW SLAVE STATUS\G'
      ;;
    psql)
      [[ $# == 2 && ($1 == primary || $1 == replica) ]] || die "usage: psql primary|replica SQL"
      psql -h "$HOST" -p "$(port_of "pg-$1")" -U postgres -d postgres -At -c "$2"
      ;;
    redis)
      [[ $# -ge 2 && ($1 == primary || $1 == replica) ]] || die "usage: redis primary|replica ARGS..."
      local role="$1"
      shift
      redis-cli -h "$HOST" -p "$(port_of "redis-$role")" "$@"
      ;;
    *)
      sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
      exit 2
      ;;
  esac
}

main "$@"
