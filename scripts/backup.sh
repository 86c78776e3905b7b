#!/usr/bin/env bash
# backup.sh: pg_dump (custom format) of the app database, and with --all of Temporal's two databases on
# the same server, into timestamped files; then deletes dumps older than the retention.
#
#   DATABASE_URL=postgresql://vpn:...@127.0.0.1:5432/vpn scripts/backup.sh [--all]
#   docker compose --profile tools run --rm backup          # the same, inside the compose network (--all)
#
# Options / environment:
#   --all              also dump `temporal` and `temporal_visibility` (Temporal's persistence in compose)
#   --dir DIR          where to write             [BACKUP_DIR, default ./backups]
#   --keep-days N      delete *.dump files older than N days there; 0 keeps everything
#                                                 [BACKUP_KEEP_DAYS, default 14]
#   DATABASE_URL       the app database; read from ./.env when not in the environment
# Files: DIR/<database>-<UTC timestamp>.dump, written as .partial and renamed once pg_restore can read it.
# The password never appears on a command line (it goes to pg_dump as PGPASSWORD).
# Restore with scripts/restore.sh.

set -euo pipefail
umask 077

die() {
  printf 'backup.sh: %s\n' "$*" >&2
  exit 1
}

usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; }

ALL=0
DIR=${BACKUP_DIR:-./backups}
KEEP_DAYS=${BACKUP_KEEP_DAYS:-14}
while (($#)); do
  case $1 in
    --all) ALL=1 ;;
    --dir)
      (($# >= 2)) || die "--dir needs a value"
      DIR=$2
      shift
      ;;
    --dir=*) DIR=${1#*=} ;;
    --keep-days)
      (($# >= 2)) || die "--keep-days needs a value"
      KEEP_DAYS=$2
      shift
      ;;
    --keep-days=*) KEEP_DAYS=${1#*=} ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
[[ $KEEP_DAYS =~ ^[0-9]+$ ]] || die "--keep-days must be a whole number of days"

# DATABASE_URL from ./.env when the environment lacks it (only that line is read; nothing is executed).
if [[ -z ${DATABASE_URL:-} && -r .env ]]; then
  DATABASE_URL=$(sed -n 's/^DATABASE_URL=//p' .env | tail -n 1)
fi
[[ -n ${DATABASE_URL:-} ]] || die "DATABASE_URL is not set (export it, or set it in .env)"
command -v pg_dump >/dev/null 2>&1 || die "pg_dump is not installed (apt-get install postgresql-client-15), or use: docker compose --profile tools run --rm backup"

# postgres[ql]://user[:password]@host[:port]/database[?params] -> PGPASSWORD + a URL without the password.
[[ $DATABASE_URL =~ ^(postgres(ql)?://)([^:@/]*)(:([^@]*))?@([^/?]+)/([^?]+)(\?.*)?$ ]] ||
  die "DATABASE_URL must look like postgresql://user:password@host:port/database"
scheme=${BASH_REMATCH[1]}
user=${BASH_REMATCH[3]}
password=${BASH_REMATCH[5]}
hostport=${BASH_REMATCH[6]}
app_db=${BASH_REMATCH[7]}
params=${BASH_REMATCH[8]}
if [[ -n $password ]]; then
  PGPASSWORD=$(printf '%b' "${password//%/\\x}") # percent-decoding
  export PGPASSWORD
fi
url_for() { printf '%s%s@%s/%s%s' "$scheme" "$user" "$hostport" "$1" "$params"; }

databases=("$app_db")
((ALL)) && databases+=(temporal temporal_visibility)

mkdir -p "$DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
for db in "${databases[@]}"; do
  [[ $db =~ ^[A-Za-z0-9_.-]+$ ]] || die "unexpected database name '$db'"
  out="$DIR/$db-$stamp.dump"
  printf 'backup.sh: dumping %s to %s\n' "$db" "$out"
  pg_dump --format=custom --compress=6 --no-password --dbname="$(url_for "$db")" --file="$out.partial"
  pg_restore --list "$out.partial" >/dev/null || die "the dump of $db is unreadable; kept as $out.partial"
  mv -f "$out.partial" "$out"
  printf 'backup.sh: %s (%s bytes)\n' "$out" "$(stat -c %s "$out")"
done

if ((KEEP_DAYS > 0)); then
  # Only our own file names; anything else in DIR is left alone.
  while IFS= read -r old; do
    printf 'backup.sh: removing %s (older than %s days)\n' "$old" "$KEEP_DAYS"
    rm -f -- "$old"
  done < <(find "$DIR" -maxdepth 1 -type f -name '*-????????T??????Z.dump' -mtime "+$((KEEP_DAYS - 1))")
fi
printf 'backup.sh: done\n'
