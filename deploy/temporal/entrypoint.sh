#!/usr/bin/env bash
# Temporal server start-up, as temporalio/auto-setup did it, for PostgreSQL:
#   1. wait for PostgreSQL; create the `temporal` and `temporal_visibility` databases if missing;
#   2. set up their schemas (first start) and upgrade them to this server's version (every start:
#      temporal-sql-tool applies only the versioned steps not yet applied, so an image upgrade migrates);
#   3. start the server (embedded config, configured by the environment: DB, POSTGRES_SEEDS, DB_PORT,
#      POSTGRES_USER, POSTGRES_PWD, FRONTEND_GRPC_PORT...); register DEFAULT_NAMESPACE once it serves.
# SKIP_SCHEMA_SETUP=true skips 1-2 (schemas managed elsewhere).
set -euo pipefail
: "${POSTGRES_SEEDS:?POSTGRES_SEEDS is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${POSTGRES_PWD:?POSTGRES_PWD is required}"
: "${DB_PORT:=5432}"
: "${DBNAME:=temporal}"
: "${VISIBILITY_DBNAME:=temporal_visibility}"
: "${DEFAULT_NAMESPACE:=default}"
: "${DEFAULT_NAMESPACE_RETENTION:=72h}"
: "${FRONTEND_GRPC_PORT:=7233}"
schema=/etc/temporal/schema/postgresql/v12

# In a container network the server binds every interface and tells its peers the container's address.
if [ -z "${BIND_ON_IP:-}" ]; then
  BIND_ON_IP=0.0.0.0
  : "${TEMPORAL_BROADCAST_ADDRESS:=$(getent hosts "$(hostname)" | awk '{print $1; exit}')}"
fi
export BIND_ON_IP TEMPORAL_BROADCAST_ADDRESS

sql() {
  SQL_PASSWORD="$POSTGRES_PWD" temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" \
    -u "$POSTGRES_USER" --db "$1" "${@:2}"
}

setup_database() { # <database> <schema dir name>
  local out
  if ! out=$(sql "$1" create-database 2>&1) && ! grep -q 'already exists' <<<"$out"; then
    echo "$out" >&2
    return 1
  fi
  sql "$1" setup-schema -v 0.0 >/dev/null 2>&1 || sql "$1" setup-schema -v 0.0
  sql "$1" update-schema -d "$schema/$2/versioned"
}

if [ "${SKIP_SCHEMA_SETUP:-false}" != true ]; then
  for i in $(seq 1 60); do
    setup_database "$DBNAME" temporal && break
    [ "$i" = 60 ] && { echo "temporal: PostgreSQL at $POSTGRES_SEEDS:$DB_PORT not ready after 120 s" >&2; exit 1; }
    sleep 2
  done
  setup_database "$VISIBILITY_DBNAME" visibility
  echo "temporal: schemas of $DBNAME and $VISIBILITY_DBNAME are current"
fi

register_namespace() {
  local address=127.0.0.1:$FRONTEND_GRPC_PORT
  [ "$BIND_ON_IP" = 0.0.0.0 ] || address=$BIND_ON_IP:$FRONTEND_GRPC_PORT
  for _ in $(seq 1 120); do
    if temporal operator namespace describe --address "$address" -n "$DEFAULT_NAMESPACE" >/dev/null 2>&1; then
      return 0
    fi
    temporal operator namespace create --address "$address" -n "$DEFAULT_NAMESPACE" \
      --retention "$DEFAULT_NAMESPACE_RETENTION" >/dev/null 2>&1 \
      && echo "temporal: namespace $DEFAULT_NAMESPACE registered" && return 0
    sleep 1
  done
  echo "temporal: could not register namespace $DEFAULT_NAMESPACE" >&2
}
register_namespace &

exec temporal-server --allow-no-auth start
