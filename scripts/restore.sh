#!/usr/bin/env bash
# restore.sh: restores a scripts/backup.sh dump (pg_dump custom format) into a database, replacing what is
# there: pg_restore --clean --if-exists, in one transaction (all or nothing).
#
#   DATABASE_URL=postgresql://vpn:...@127.0.0.1:5432/vpn scripts/restore.sh --yes backups/vpn-20261122T100000Z.dump
#   scripts/restore.sh --yes --db temporal backups/temporal-20261122T100000Z.dump
#
# Options / environment:
#   --yes         required: confirms that the target database's current contents are replaced
#                 (without it, an interactive terminal is asked to type the database name)
#   --db NAME     restore into database NAME on DATABASE_URL's server instead of DATABASE_URL's own
#                 (for Temporal's `temporal` and `temporal_visibility` dumps)
#   DATABASE_URL  the target server and default database; read from ./.env when not in the environment
# Stop every writer first (docker compose stop worker api bot temporal); docs/operations.md has the steps.

set -euo pipefail

die() {
  printf 'restore.sh: %s\n' "$*" >&2
  exit 1
}

usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; }

YES=0
TARGET_DB=
FILE=
while (($#)); do
  case $1 in
    --yes) YES=1 ;;
    --db)
      (($# >= 2)) || die "--db needs a value"
      TARGET_DB=$2
      shift
      ;;
    --db=*) TARGET_DB=${1#*=} ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *)
      [[ -z $FILE ]] || die "one dump file at a time"
      FILE=$1
      ;;
  esac
  shift
done
[[ -n $FILE ]] || die "which dump? usage: restore.sh --yes [--db NAME] FILE"
[[ -r $FILE ]] || die "cannot read $FILE"

if [[ -z ${DATABASE_URL:-} && -r .env ]]; then
  DATABASE_URL=$(sed -n 's/^DATABASE_URL=//p' .env | tail -n 1)
fi
[[ -n ${DATABASE_URL:-} ]] || die "DATABASE_URL is not set (export it, or set it in .env)"
command -v pg_restore >/dev/null 2>&1 || die "pg_restore is not installed (apt-get install postgresql-client-15)"

[[ $DATABASE_URL =~ ^(postgres(ql)?://)([^:@/]*)(:([^@]*))?@([^/?]+)/([^?]+)(\?.*)?$ ]] ||
  die "DATABASE_URL must look like postgresql://user:password@host:port/database"
scheme=${BASH_REMATCH[1]}
user=${BASH_REMATCH[3]}
password=${BASH_REMATCH[5]}
hostport=${BASH_REMATCH[6]}
db=${TARGET_DB:-${BASH_REMATCH[7]}}
params=${BASH_REMATCH[8]}
[[ $db =~ ^[A-Za-z0-9_.-]+$ ]] || die "unexpected database name '$db'"
if [[ -n $password ]]; then
  PGPASSWORD=$(printf '%b' "${password//%/\\x}")
  export PGPASSWORD
fi
target="$scheme$user@$hostport/$db$params"

pg_restore --list "$FILE" >/dev/null || die "$FILE is not a pg_dump custom-format file"

if ((!YES)); then
  if [[ -t 0 ]]; then
    printf 'This REPLACES the contents of database "%s" on %s with %s.\n' "$db" "$hostport" "$FILE"
    read -r -p "Type the database name to confirm: " answer
    [[ $answer == "$db" ]] || die "not confirmed; nothing changed"
  else
    die "refusing to overwrite database \"$db\" without --yes"
  fi
fi

printf 'restore.sh: restoring %s into %s on %s\n' "$FILE" "$db" "$hostport"
pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error --no-password \
  --dbname="$target" "$FILE"
printf 'restore.sh: done\n'
