#!/usr/bin/env bash
# install-node.sh: turns a fresh Debian/Ubuntu server into a vpn-seller VPN node.
#
#   Xray-core (VLESS + Reality)  -> xray.service       (config: /usr/local/etc/xray/config.json)
#   the node agent (HTTP API)    -> vpn-agent.service  (env:    /etc/vpn-node/agent.env)
#
# It is idempotent: the Reality keys, the short id and the agent token are generated once and kept in
# /etc/vpn-node/, so running it again (to upgrade Xray or the agent, or to change a setting) keeps the
# node's identity; services are restarted only when something they use changed.
# --dry-run prints every action and writes, downloads and starts nothing.
# --no-systemd (machines or containers without systemd) writes a supervisor script instead of units and
# starts it in the background; the container or init system runs it at boot (see --help).
# At the end it prints the admin API call that registers the node.
#
# Example:
#   sudo infra/deploy/install-node.sh --host 203.0.113.10 --name nl-ams-1 \
#        --location Amsterdam --country NL --api-url https://vpn.example.com
#
# Run with --help for every option. Options can also come from the environment (names in --help).

set -euo pipefail
umask 022

readonly DEFAULT_XRAY_VERSION=v26.3.27 # release tag; keep in step with infra/xray/binary.ts (module v1.260327.0)
readonly DEFAULT_SNI=www.microsoft.com
readonly DEFAULT_PORT=443
readonly DEFAULT_AGENT_PORT=8444 # infra/agent/config.ts DEFAULT_AGENT_PORT
readonly DEFAULT_CAPACITY=200
# infra/xray/server-config.ts DEFAULT_XRAY_API; NODE_XRAY_API moves it (two nodes on one host network).
readonly XRAY_API_LISTEN=${NODE_XRAY_API:-127.0.0.1:10085}
readonly INBOUND_TAG=vless-reality       # infra/xray/server-config.ts DEFAULT_INBOUND_TAG

# Target layout (absolute paths on the node; --root DIR prefixes them).
readonly STATE_DIR=/etc/vpn-node
readonly NODE_STATE=$STATE_DIR/node.env
readonly REALITY_STATE=$STATE_DIR/reality.env
readonly AGENT_ENV=$STATE_DIR/agent.env
readonly TLS_DIR=$STATE_DIR/tls
readonly XRAY_BIN_PATH=/usr/local/bin/xray
readonly XRAY_ASSET_DIR=/usr/local/share/xray
readonly XRAY_CONFIG_DIR=/usr/local/etc/xray
readonly XRAY_CONFIG_PATH=$XRAY_CONFIG_DIR/config.json
readonly NODE_RUNTIME_DIR=/opt/vpn-node/node
readonly AGENT_HOME=/opt/vpn-agent
readonly AGENT_DATA_DIR=/var/lib/vpn-agent
readonly UNIT_DIR=/etc/systemd/system
readonly XRAY_USER=xray
readonly AGENT_USER=vpn-agent

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR

usage() {
  cat <<'EOF'
Usage: install-node.sh --host HOST --location TEXT --country CC [options]

Node identity (saved in /etc/vpn-node/node.env; a re-run without them keeps the saved values):
  --host HOST             public IP or DNS name clients connect to              [NODE_HOST] (required)
  --name NAME             node name in the admin API                            [NODE_NAME] (default: short hostname)
  --port PORT             VLESS + Reality port                                  [NODE_PORT] (default: 443)
  --sni NAME              Reality server name clients present                   [REALITY_SNI] (default: www.microsoft.com)
  --target HOST:PORT      TLS 1.3 site whose handshake Reality borrows          [REALITY_TARGET] (default: SNI:443)
  --location TEXT         human-readable location, e.g. Amsterdam               [NODE_LOCATION] (required)
  --country CC            ISO 3166-1 alpha-2 country code, e.g. NL              [NODE_COUNTRY] (required)
  --capacity N            maximum active subscriptions on this node             [NODE_CAPACITY] (default: 200)

Agent:
  --agent-port PORT       agent HTTP(S) port                                    [AGENT_PORT] (default: 8444)
  --agent-token TOKEN     bearer token (>= 16 chars); generated once if absent  [AGENT_TOKEN]
  --agent-url URL         URL the API uses to reach the agent                   [AGENT_URL] (default: https://HOST:AGENT_PORT)
  --agent-source PATH     agent code: a .tar.gz/.tgz or a git checkout          [AGENT_SOURCE] (default: this repository)
  --agent-tls-cert FILE   serve the agent over HTTPS with this (CA-issued) certificate... [AGENT_TLS_CERT]
  --agent-tls-key FILE    ...and this key                                       [AGENT_TLS_KEY]
                          Default without them: HTTPS with a self-signed certificate for HOST, made
                          once; its SHA-256 fingerprint goes into the registration (agent_cert_sha256)
                          and the API pins it.
  --agent-tls-self-signed the default (kept for older scripts)
  --agent-plain-http      no TLS: the agent listens on 127.0.0.1 only, for an API that reaches it on
                          loopback (same host or an SSH tunnel); needs --agent-url http://127.0.0.1:PORT
  --agent-allow-from CIDR if ufw is active, open AGENT_PORT to this source only  [AGENT_ALLOW_FROM]

Xray:
  --xray-version TAG      Xray-core release tag                                 [XRAY_VERSION] (default: v26.3.27)
  --xray-method METHOD    release (download the official release zip; production) or
                          go (go install github.com/xtls/xray-core/main@<module version>; needs Go)
                                                                                [XRAY_METHOD] (default: release)
  --xray-zip FILE         use this already-downloaded release zip (offline install)
  --xray-bin FILE         use this xray binary as is

Other:
  --node-version VERSION  Node.js 20 release to install, e.g. v20.19.5          [NODE_VERSION] (default: latest v20)
  --node-dist DIR         use this unpacked Node.js 20 distribution (bin/node, bin/npm; offline install)
                                                                                [NODE_DIST]
  --allow-private-destinations
                          let clients reach private and loopback addresses through the node (labs and
                          tests only: a production node must not open its own network to users)
                                                                                [NODE_ALLOW_PRIVATE=1]
  --no-systemd            no systemd (containers, minimal VMs): write /usr/local/sbin/vpn-node-run, which
                          runs Xray and the agent and restarts either if it exits, and start it in the
                          background (logs in /var/log/vpn-node/). Make your init (or the container's
                          command) run it at boot.                              [NODE_NO_SYSTEMD=1]
  --api-url URL           the API's public URL, used in the printed registration call [API_URL]
  --rotate-keys           generate new Reality keys and short id (then PATCH the node in the API)
  --rotate-agent-token    generate a new agent token (then PATCH the node in the API)
  --root DIR              stage every file under DIR instead of / ; installs no packages, creates no
                          users and touches no services (for tests and image builds)
  --dry-run               print every action without doing it (nothing is downloaded or written)
  -h, --help              this text
EOF
}

# ---------------------------------------------------------------------------------------------------
# Output helpers

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
  printf 'install-node.sh: %s\n' "$*" >&2
  exit 1
}

quote_cmd() {
  local out='' arg
  for arg in "$@"; do out+="$(printf '%q' "$arg") "; done
  printf '%s' "${out% }"
}

# run CMD...: runs it, or in dry-run mode prints it. Never pass secrets as arguments.
run() {
  if ((DRY_RUN)); then
    printf '[dry-run] %s\n' "$(quote_cmd "$@")"
  else
    "$@"
  fi
}

# Things --root (staging) mode skips: packages, users, ownership, services, firewall.
system_run() {
  if [[ -n $ROOT ]]; then
    printf '[root mode] skipped: %s\n' "$(quote_cmd "$@")"
  else
    run "$@"
  fi
}

# p PATH: where PATH lives on this machine (under --root when staging).
p() { printf '%s%s' "$ROOT" "$1"; }

# mask TEXT SECRET...: TEXT with every secret replaced, for dry-run output.
mask() {
  local text=$1 secret
  shift
  for secret in "$@"; do
    [[ -n $secret ]] && text=${text//"$secret"/<redacted>}
  done
  printf '%s' "$text"
}

ensure_dir() { # ensure_dir PATH MODE OWNER:GROUP
  local dir=$1 mode=$2 owner=$3
  if [[ -d $(p "$dir") ]]; then
    if ((!DRY_RUN)); then
      chmod "$mode" "$(p "$dir")"
      [[ -n $ROOT ]] || chown "$owner" "$dir"
    fi
    return 0
  fi
  run mkdir -p "$(p "$dir")"
  run chmod "$mode" "$(p "$dir")"
  [[ -n $ROOT ]] || run chown "$owner" "$dir"
}

# write_file PATH MODE OWNER:GROUP [SECRET...] < CONTENT
# Writes atomically (and only when the content differs). Sets FILE_CHANGED=1 if the file changed (or
# would, in dry-run mode), else 0. Always call it as a plain command so `set -e` stays in force.
write_file() {
  local dest=$1 mode=$2 owner=$3 target content current tmp
  shift 3
  target=$(p "$dest")
  content=$(cat)
  FILE_CHANGED=0
  if [[ -f $target && -r $target ]]; then
    current=$(<"$target")
    if [[ $current == "$content" ]]; then
      if ((!DRY_RUN)); then
        chmod "$mode" "$target"
        [[ -n $ROOT ]] || chown "$owner" "$target"
      fi
      note "unchanged: $dest"
      return 0
    fi
  fi
  FILE_CHANGED=1
  if ((DRY_RUN)); then
    printf '[dry-run] write %s (mode %s, owner %s):\n' "$target" "$mode" "$owner"
    mask "$content" "$@" | sed 's/^/[dry-run]   | /'
    printf '\n'
    return 0
  fi
  mkdir -p "$(dirname "$target")"
  tmp=$(mktemp "$target.XXXXXX") # mode 0600 until the chmod below
  printf '%s\n' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  [[ -n $ROOT ]] || chown "$owner" "$tmp"
  mv -f "$tmp" "$target"
  note "wrote: $dest"
}

# read_kv FILE KEY: the value of KEY=... in FILE (a file we wrote), or nothing.
read_kv() {
  local file
  file=$(p "$1")
  [[ -r $file ]] || return 0
  sed -n "s/^$2=//p" "$file" | tail -n 1
}

json_str() { # a JSON string literal; inputs are validated to have no control characters
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# ---------------------------------------------------------------------------------------------------
# Options: command line > environment > /etc/vpn-node/node.env (previous run) > defaults

DRY_RUN=0
ROOT=
ROTATE_KEYS=0
ROTATE_TOKEN=0
TLS_SELF_SIGNED=0
PLAIN_HTTP=0
XRAY_ZIP=
XRAY_BIN_SRC=
NO_SYSTEMD=${NODE_NO_SYSTEMD:-0}
ALLOW_PRIVATE=${NODE_ALLOW_PRIVATE:-0}
NODE_DIST=${NODE_DIST:-}
NODE_NAME=${NODE_NAME:-}
NODE_HOST=${NODE_HOST:-}
NODE_PORT=${NODE_PORT:-}
REALITY_SNI=${REALITY_SNI:-}
REALITY_TARGET=${REALITY_TARGET:-}
NODE_LOCATION=${NODE_LOCATION:-}
NODE_COUNTRY=${NODE_COUNTRY:-}
NODE_CAPACITY=${NODE_CAPACITY:-}
AGENT_PORT=${AGENT_PORT:-}
AGENT_TOKEN=${AGENT_TOKEN:-}
AGENT_URL=${AGENT_URL:-}
AGENT_SOURCE=${AGENT_SOURCE:-}
AGENT_TLS_CERT=${AGENT_TLS_CERT:-}
AGENT_TLS_KEY=${AGENT_TLS_KEY:-}
AGENT_ALLOW_FROM=${AGENT_ALLOW_FROM:-}
XRAY_VERSION=${XRAY_VERSION:-}
XRAY_METHOD=${XRAY_METHOD:-}
NODE_VERSION=${NODE_VERSION:-}
API_URL=${API_URL:-}

parse_args() {
  local opt val
  while (($#)); do
    opt=$1
    val=
    case $opt in
      --*=*)
        val=${opt#*=}
        opt=${opt%%=*}
        ;;
      --dry-run | --rotate-keys | --rotate-agent-token | --agent-tls-self-signed | --agent-plain-http | --no-systemd | --allow-private-destinations | -h | --help) ;;
      --host | --name | --port | --sni | --target | --location | --country | --capacity | --agent-port | \
        --agent-token | --agent-url | --agent-source | --agent-tls-cert | --agent-tls-key | --agent-allow-from | \
        --xray-version | --xray-method | --xray-zip | --xray-bin | --node-version | --node-dist | --api-url | --root)
        (($# >= 2)) || die "$opt needs a value"
        val=$2
        shift
        ;;
      --*) die "unknown option: $opt (see --help)" ;;
      *) die "unexpected argument: $opt (see --help)" ;;
    esac
    shift
    case $opt in
      --host) NODE_HOST=$val ;;
      --name) NODE_NAME=$val ;;
      --port) NODE_PORT=$val ;;
      --sni) REALITY_SNI=$val ;;
      --target) REALITY_TARGET=$val ;;
      --location) NODE_LOCATION=$val ;;
      --country) NODE_COUNTRY=$val ;;
      --capacity) NODE_CAPACITY=$val ;;
      --agent-port) AGENT_PORT=$val ;;
      --agent-token) AGENT_TOKEN=$val ;;
      --agent-url) AGENT_URL=$val ;;
      --agent-source) AGENT_SOURCE=$val ;;
      --agent-tls-cert) AGENT_TLS_CERT=$val ;;
      --agent-tls-key) AGENT_TLS_KEY=$val ;;
      --agent-tls-self-signed) TLS_SELF_SIGNED=1 ;;
      --agent-plain-http) PLAIN_HTTP=1 ;;
      --agent-allow-from) AGENT_ALLOW_FROM=$val ;;
      --xray-version) XRAY_VERSION=$val ;;
      --xray-method) XRAY_METHOD=$val ;;
      --xray-zip) XRAY_ZIP=$val ;;
      --xray-bin) XRAY_BIN_SRC=$val ;;
      --node-version) NODE_VERSION=$val ;;
      --node-dist) NODE_DIST=$val ;;
      --no-systemd) NO_SYSTEMD=1 ;;
      --allow-private-destinations) ALLOW_PRIVATE=1 ;;
      --api-url) API_URL=$val ;;
      --rotate-keys) ROTATE_KEYS=1 ;;
      --rotate-agent-token) ROTATE_TOKEN=1 ;;
      --root) ROOT=$val ;;
      --dry-run) DRY_RUN=1 ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) die "unknown option: $opt (see --help)" ;;
    esac
  done
}

no_control_chars() { # no_control_chars NAME VALUE
  [[ $2 != *[[:cntrl:]]* ]] || die "$1 must not contain control characters"
}

is_port() { [[ $1 =~ ^[0-9]{1,5}$ ]] && (($1 >= 1 && $1 <= 65535)); }

resolve_settings() {
  if [[ -n $ROOT ]]; then
    [[ $ROOT == /* ]] || ROOT=$(pwd)/$ROOT
    ROOT=${ROOT%/}
    [[ -n $ROOT ]] || die "--root must not be /"
  fi
  # Saved choices of a previous run fill what was not given now.
  : "${NODE_NAME:=$(read_kv "$NODE_STATE" NODE_NAME)}"
  : "${NODE_HOST:=$(read_kv "$NODE_STATE" NODE_HOST)}"
  : "${NODE_PORT:=$(read_kv "$NODE_STATE" NODE_PORT)}"
  : "${REALITY_SNI:=$(read_kv "$NODE_STATE" REALITY_SNI)}"
  : "${REALITY_TARGET:=$(read_kv "$NODE_STATE" REALITY_TARGET)}"
  : "${NODE_LOCATION:=$(read_kv "$NODE_STATE" NODE_LOCATION)}"
  : "${NODE_COUNTRY:=$(read_kv "$NODE_STATE" NODE_COUNTRY)}"
  : "${NODE_CAPACITY:=$(read_kv "$NODE_STATE" NODE_CAPACITY)}"
  : "${AGENT_PORT:=$(read_kv "$NODE_STATE" AGENT_PORT)}"
  : "${AGENT_URL:=$(read_kv "$NODE_STATE" AGENT_URL)}"
  : "${XRAY_VERSION:=$(read_kv "$NODE_STATE" XRAY_VERSION)}"

  : "${NODE_NAME:=$(hostname -s 2>/dev/null || echo vpn-node)}"
  : "${NODE_PORT:=$DEFAULT_PORT}"
  : "${REALITY_SNI:=$DEFAULT_SNI}"
  : "${REALITY_TARGET:=$REALITY_SNI:443}"
  : "${NODE_CAPACITY:=$DEFAULT_CAPACITY}"
  : "${AGENT_PORT:=$DEFAULT_AGENT_PORT}"
  : "${XRAY_VERSION:=$DEFAULT_XRAY_VERSION}"
  : "${XRAY_METHOD:=release}"

  [[ -n $NODE_HOST ]] || die "--host is required (the public IP or DNS name clients connect to)"
  [[ -n $NODE_LOCATION ]] || die "--location is required (e.g. --location Amsterdam)"
  [[ -n $NODE_COUNTRY ]] || die "--country is required (e.g. --country NL)"
  NODE_COUNTRY=${NODE_COUNTRY^^}

  [[ $NODE_NAME =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || die "--name must be 1-64 letters, digits, '.', '_' or '-'"
  [[ $NODE_HOST =~ ^[A-Za-z0-9.-]+$ || $NODE_HOST =~ ^[0-9A-Fa-f:]+$ ]] ||
    die "--host must be an IP address or a DNS name, got '$NODE_HOST'"
  is_port "$NODE_PORT" || die "--port must be 1-65535"
  is_port "$AGENT_PORT" || die "--agent-port must be 1-65535"
  ((NODE_PORT != AGENT_PORT)) || die "--port and --agent-port must differ"
  [[ $REALITY_SNI =~ ^[A-Za-z0-9.-]+$ ]] || die "--sni must be a DNS name"
  [[ $REALITY_TARGET =~ ^[A-Za-z0-9.-]+:[0-9]{1,5}$ ]] || die "--target must look like host:port"
  [[ $NODE_COUNTRY =~ ^[A-Z]{2}$ ]] || die "--country must be a two-letter code such as NL"
  [[ $NODE_CAPACITY =~ ^[1-9][0-9]{0,6}$ ]] || die "--capacity must be a positive integer"
  no_control_chars --location "$NODE_LOCATION"
  ((${#NODE_LOCATION} <= 64)) || die "--location is longer than 64 characters"
  [[ $XRAY_VERSION =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--xray-version must be a release tag such as $DEFAULT_XRAY_VERSION"
  [[ $XRAY_METHOD == release || $XRAY_METHOD == go ]] || die "--xray-method must be release or go"
  [[ -z $NODE_VERSION || $NODE_VERSION =~ ^v?20\.[0-9]+\.[0-9]+$ ]] || die "--node-version must be a Node.js 20 version such as v20.19.5"
  [[ -z $NODE_VERSION || $NODE_VERSION == v* ]] || NODE_VERSION=v$NODE_VERSION
  if [[ -n $AGENT_TOKEN ]]; then
    ((${#AGENT_TOKEN} >= 16)) || die "--agent-token must be at least 16 characters"
    [[ $AGENT_TOKEN =~ ^[A-Za-z0-9._~+/=-]+$ ]] || die "--agent-token may use letters, digits and ._~+/=- only"
  fi
  if [[ -n $AGENT_TLS_CERT || -n $AGENT_TLS_KEY ]]; then
    [[ -n $AGENT_TLS_CERT && -n $AGENT_TLS_KEY ]] || die "--agent-tls-cert and --agent-tls-key go together"
    ((!TLS_SELF_SIGNED)) || die "--agent-tls-self-signed conflicts with --agent-tls-cert"
    ((!PLAIN_HTTP)) || die "--agent-plain-http conflicts with --agent-tls-cert"
    [[ -r $AGENT_TLS_CERT ]] || die "cannot read $AGENT_TLS_CERT"
    [[ -r $AGENT_TLS_KEY ]] || die "cannot read $AGENT_TLS_KEY"
  fi
  [[ -z $XRAY_ZIP || -r $XRAY_ZIP ]] || die "cannot read --xray-zip $XRAY_ZIP"
  [[ -z $XRAY_BIN_SRC || -x $XRAY_BIN_SRC ]] || die "--xray-bin $XRAY_BIN_SRC is not an executable file"
  [[ -z $AGENT_ALLOW_FROM || $AGENT_ALLOW_FROM =~ ^[0-9A-Fa-f.:/]+$ ]] || die "--agent-allow-from must be an IP or CIDR"

  ((!(PLAIN_HTTP && TLS_SELF_SIGNED))) || die "--agent-plain-http conflicts with --agent-tls-self-signed"
  # HTTPS unless asked for plain http (then loopback only): the API refuses http:// to any other host.
  AGENT_TLS=1
  AGENT_BIND=0.0.0.0
  if ((PLAIN_HTTP)); then
    AGENT_TLS=0
    AGENT_BIND=127.0.0.1
  fi
  local url_host=$NODE_HOST scheme=http
  [[ $NODE_HOST == *:* ]] && url_host="[$NODE_HOST]"
  ((AGENT_TLS)) && scheme=https
  local derived="$scheme://$url_host:$AGENT_PORT"
  # A URL derived by a previous run follows the current host, port and scheme; an explicit one is kept.
  if [[ -z $AGENT_URL || $AGENT_URL == "$(read_kv "$NODE_STATE" AGENT_URL_DERIVED)" ]]; then AGENT_URL=$derived; fi
  [[ $AGENT_URL =~ ^https?://[^[:space:]\'\"]+$ ]] || die "--agent-url must be an http(s) URL"
  if [[ $AGENT_URL == http://* && ! $AGENT_URL =~ ^http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?(/.*)?$ ]]; then
    die "--agent-url http:// works only on loopback (the API refuses it otherwise); use https or --agent-url http://127.0.0.1:$AGENT_PORT"
  fi
  AGENT_URL_DERIVED=$derived
  if [[ -n $API_URL ]]; then
    [[ $API_URL =~ ^https?://[^[:space:]\'\"]+$ ]] || die "--api-url must be an http(s) URL"
    API_URL=${API_URL%/}
  fi
}

# ---------------------------------------------------------------------------------------------------
# Steps

preflight() {
  if ((DRY_RUN)); then
    say "dry run: nothing will be downloaded, written, installed or started"
  fi
  [[ -z $ROOT ]] || say "staging into $ROOT (no packages, users, ownership or services)"
  if [[ -z $ROOT ]] && ((!DRY_RUN)) && ((EUID != 0)); then
    die "run as root (sudo), or use --dry-run / --root DIR"
  fi
  if [[ -r /etc/os-release ]]; then
    local id id_like
    id=$(sed -n 's/^ID=//p' /etc/os-release | tr -d '"')
    id_like=$(sed -n 's/^ID_LIKE=//p' /etc/os-release | tr -d '"')
    case " $id $id_like " in
      *" debian "* | *" ubuntu "*) ;;
      *) [[ -n $ROOT ]] || ((DRY_RUN)) || die "this installer supports Debian and Ubuntu (found '$id')" ;;
    esac
  fi
  if ! command -v systemctl >/dev/null 2>&1 && [[ -z $ROOT ]] && ((!DRY_RUN)) && ((!NO_SYSTEMD)); then
    die "systemd is required (or use --no-systemd)"
  fi
  [[ -z $NODE_DIST || -x $NODE_DIST/bin/node ]] || die "--node-dist $NODE_DIST has no bin/node"
  case $(uname -m) in
    x86_64 | amd64)
      XRAY_ASSET=Xray-linux-64.zip
      NODE_ARCH=x64
      ;;
    aarch64 | arm64)
      XRAY_ASSET=Xray-linux-arm64-v8a.zip
      NODE_ARCH=arm64
      ;;
    *) die "unsupported CPU architecture $(uname -m)" ;;
  esac
  if [[ -z $ROOT ]] && ((!DRY_RUN)); then
    exec 9>/run/vpn-node-install.lock
    flock -n 9 || die "another install-node.sh is running"
  fi
}

install_packages() {
  say "system packages"
  local pkg missing=()
  for pkg in ca-certificates curl unzip openssl xz-utils tar; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    note "already installed"
    return 0
  fi
  system_run env DEBIAN_FRONTEND=noninteractive apt-get update -q
  system_run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

ensure_user() { # ensure_user NAME HOME
  if id -u "$1" >/dev/null 2>&1; then
    note "user $1 exists"
    return 0
  fi
  system_run useradd --system --user-group --no-create-home --home-dir "$2" --shell /usr/sbin/nologin "$1"
}

ensure_users() {
  say "service users"
  ensure_user "$XRAY_USER" /nonexistent
  ensure_user "$AGENT_USER" "$AGENT_DATA_DIR"
}

# v26.3.27 -> v1.260327.0 (Xray's Go module versions encode the release date).
xray_module_version() {
  local v=${1#v} y m d
  IFS=. read -r y m d <<<"$v"
  printf 'v1.%02d%02d%02d.0' "$((10#$y))" "$((10#$m))" "$((10#$d))"
}

installed_xray_version() { # prints e.g. 26.3.27, or nothing
  local bin
  bin=$(p "$XRAY_BIN_PATH")
  [[ -x $bin ]] || return 0
  "$bin" version 2>/dev/null | sed -n 's/^Xray \([^ ]*\).*/\1/p' | head -n 1
}

install_xray_binary() { # install_xray_binary FILE: put FILE at XRAY_BIN_PATH (atomic)
  run install -d -m 0755 "$(p "$(dirname "$XRAY_BIN_PATH")")"
  run install -m 0755 "$1" "$(p "$XRAY_BIN_PATH").new"
  run mv -f "$(p "$XRAY_BIN_PATH").new" "$(p "$XRAY_BIN_PATH")"
  ((DRY_RUN)) || note "installed $XRAY_BIN_PATH ($(installed_xray_version))"
  XRAY_CHANGED=1
}

install_xray() {
  say "Xray $XRAY_VERSION"
  local have
  have=$(installed_xray_version)
  if [[ -n $XRAY_BIN_SRC ]]; then
    if [[ -x $(p "$XRAY_BIN_PATH") ]] && cmp -s "$XRAY_BIN_SRC" "$(p "$XRAY_BIN_PATH")"; then
      note "already installed from $XRAY_BIN_SRC"
    else
      install_xray_binary "$XRAY_BIN_SRC"
    fi
    return 0
  fi
  if [[ $have == "${XRAY_VERSION#v}" ]]; then
    note "Xray $have already installed at $XRAY_BIN_PATH"
    return 0
  fi
  [[ -z $have ]] || note "upgrading Xray $have -> ${XRAY_VERSION#v}"

  if [[ $XRAY_METHOD == go && -z $XRAY_ZIP ]]; then
    local module_version gobin
    module_version=$(xray_module_version "$XRAY_VERSION")
    if ((DRY_RUN)); then
      printf '[dry-run] %s\n' "GOBIN=/tmp/vpn-node-install.XXXXXX CGO_ENABLED=0 go install github.com/xtls/xray-core/main@$module_version"
      install_xray_binary /tmp/vpn-node-install.XXXXXX/main
      return 0
    fi
    command -v go >/dev/null 2>&1 || die "--xray-method go needs Go on PATH (or use the default release download)"
    gobin=$(mktemp -d)
    TMP_DIRS+=("$gobin")
    GOBIN=$gobin CGO_ENABLED=0 go install "github.com/xtls/xray-core/main@$module_version"
    install_xray_binary "$gobin/main"
    return 0
  fi

  local zip=$XRAY_ZIP url base tmp
  base="https://github.com/XTLS/Xray-core/releases/download/$XRAY_VERSION"
  url="$base/$XRAY_ASSET"
  if ((DRY_RUN)); then
    if [[ -n $zip ]]; then
      printf '[dry-run] use release archive %s\n' "$zip"
    else
      printf '[dry-run] download %s and %s.dgst, check its SHA2-256\n' "$url" "$url"
    fi
    printf '[dry-run] unzip xray, geoip.dat, geosite.dat\n'
    install_xray_binary /tmp/vpn-node-install.XXXXXX/xray
    run install -d -m 0755 "$(p "$XRAY_ASSET_DIR")"
    return 0
  fi
  tmp=$(mktemp -d)
  TMP_DIRS+=("$tmp")
  if [[ -z $zip ]]; then
    zip="$tmp/$XRAY_ASSET"
    note "downloading $url"
    curl -fsSL --retry 3 -o "$zip" "$url"
    curl -fsSL --retry 3 -o "$zip.dgst" "$url.dgst"
    local want got
    want=$(sed -n 's/^SHA2-256= *//p' "$zip.dgst" | head -n 1)
    got=$(sha256sum "$zip" | cut -d' ' -f1)
    [[ -n $want && $want == "$got" ]] || die "checksum mismatch for $XRAY_ASSET (want '$want', got '$got')"
    note "SHA2-256 verified"
  fi
  unzip -o -q "$zip" -d "$tmp/x"
  [[ -x $tmp/x/xray ]] || chmod 0755 "$tmp/x/xray"
  install_xray_binary "$tmp/x/xray"
  install -d -m 0755 "$(p "$XRAY_ASSET_DIR")"
  local dat
  for dat in geoip.dat geosite.dat; do
    [[ -f $tmp/x/$dat ]] && install -m 0644 "$tmp/x/$dat" "$(p "$XRAY_ASSET_DIR/$dat")"
  done
  return 0
}

# xray x25519 prints "PrivateKey:/Password (PublicKey):" (newer) or "Private key:/Public key:" (older).
parse_x25519() { # parse_x25519 OUTPUT -> sets GEN_PRIVATE GEN_PUBLIC
  GEN_PRIVATE=$(sed -nE 's/^[[:space:]]*private[[:space:]]*key[[:space:]]*:[[:space:]]*([^[:space:]]+).*$/\1/Ip' <<<"$1" | head -n 1)
  GEN_PUBLIC=$(sed -nE 's/^[[:space:]]*(public[[:space:]]*key|password([[:space:]]*\([^)]*\))?)[[:space:]]*:[[:space:]]*([^[:space:]]+).*$/\3/Ip' <<<"$1" | head -n 1)
  [[ -n $GEN_PRIVATE && -n $GEN_PUBLIC ]] || die "cannot parse the output of 'xray x25519'"
}

ensure_state_dir() {
  ensure_dir "$STATE_DIR" 0750 "root:$AGENT_USER"
}

ensure_reality_keys() {
  say "Reality keys"
  REALITY_PRIVATE_KEY=$(read_kv "$REALITY_STATE" REALITY_PRIVATE_KEY)
  REALITY_PUBLIC_KEY=$(read_kv "$REALITY_STATE" REALITY_PUBLIC_KEY)
  REALITY_SHORT_ID=$(read_kv "$REALITY_STATE" REALITY_SHORT_ID)
  if ((!ROTATE_KEYS)) && [[ -n $REALITY_PRIVATE_KEY && -n $REALITY_PUBLIC_KEY && -n $REALITY_SHORT_ID ]]; then
    note "reusing the keys in $REALITY_STATE"
    return 0
  fi
  ((ROTATE_KEYS)) && note "rotating: clients need new links, PATCH the node's reality.public_key and short_id"
  if ((DRY_RUN)); then
    printf '[dry-run] %s x25519   (generate the Reality key pair)\n' "$XRAY_BIN_PATH"
    printf '[dry-run] openssl rand -hex 8   (generate the short id)\n'
    REALITY_PRIVATE_KEY=DRY-RUN-REALITY-PRIVATE-KEY
    REALITY_PUBLIC_KEY=DRY-RUN-REALITY-PUBLIC-KEY
    REALITY_SHORT_ID=0000000000000000
  else
    parse_x25519 "$("$(p "$XRAY_BIN_PATH")" x25519)"
    REALITY_PRIVATE_KEY=$GEN_PRIVATE
    REALITY_PUBLIC_KEY=$GEN_PUBLIC
    REALITY_SHORT_ID=$(openssl rand -hex 8)
  fi
  write_file "$REALITY_STATE" 0600 root:root "$REALITY_PRIVATE_KEY" <<EOF
# Reality identity of this node, generated once by install-node.sh. Keep it secret; back it up.
REALITY_PRIVATE_KEY=$REALITY_PRIVATE_KEY
REALITY_PUBLIC_KEY=$REALITY_PUBLIC_KEY
REALITY_SHORT_ID=$REALITY_SHORT_ID
EOF
}

ensure_agent_token() {
  say "agent token"
  local saved
  saved=$(read_kv "$AGENT_ENV" AGENT_TOKEN)
  if [[ -n $AGENT_TOKEN ]]; then
    if [[ $AGENT_TOKEN == "$saved" ]]; then note "unchanged"; else note "using the token given"; fi
  elif [[ -n $saved ]] && ((!ROTATE_TOKEN)); then
    AGENT_TOKEN=$saved
    note "reusing the token in $AGENT_ENV"
  elif ((DRY_RUN)); then
    printf '[dry-run] openssl rand -hex 32   (generate the agent token)\n'
    AGENT_TOKEN=DRY-RUN-AGENT-TOKEN-0000000000000000
  else
    AGENT_TOKEN=$(openssl rand -hex 32)
    note "generated a new token"
  fi
}

xray_config_json() {
  local blocked='"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7", "fe80::/10"'
  cat <<EOF
{
  "log": { "loglevel": "warning" },
  "api": {
    "tag": "api",
    "listen": "$XRAY_API_LISTEN",
    "services": ["HandlerService", "StatsService", "LoggerService"]
  },
  "stats": {},
  "policy": {
    "levels": { "0": { "statsUserUplink": true, "statsUserDownlink": true } },
    "system": { "statsInboundUplink": true, "statsInboundDownlink": true }
  },
  "inbounds": [
    {
      "tag": "$INBOUND_TAG",
      "listen": "0.0.0.0",
      "port": $NODE_PORT,
      "protocol": "vless",
      "settings": { "clients": [], "decryption": "none" },
      "streamSettings": {
        "network": "raw",
        "security": "reality",
        "realitySettings": {
          "show": false,
          "target": "$REALITY_TARGET",
          "xver": 0,
          "serverNames": ["$REALITY_SNI"],
          "privateKey": "$REALITY_PRIVATE_KEY",
          "shortIds": ["$REALITY_SHORT_ID"]
        }
      },
      "sniffing": { "enabled": true, "destOverride": ["http", "tls", "quic"], "routeOnly": true }
    }
  ],
  "outbounds": [
    { "tag": "direct", "protocol": "freedom" },
    { "tag": "block", "protocol": "blackhole" }
  ],
  "routing": {
    "domainStrategy": "IPIfNonMatch",
    "rules": [
      { "type": "field", "inboundTag": ["api"], "outboundTag": "api" },
      $(if ((ALLOW_PRIVATE)); then printf '{ "type": "field", "ip": ["0.0.0.0/8"], "outboundTag": "block" }'; else printf '{ "type": "field", "ip": [%s], "outboundTag": "block" }' "$blocked"; fi)
    ]
  }
}
EOF
}

write_xray_config() {
  say "Xray config"
  # 0755 so the agent can see XRAY_CONFIG exists; the file itself (private key) is root:xray 0640.
  ensure_dir "$XRAY_CONFIG_DIR" 0755 root:root
  write_file "$XRAY_CONFIG_PATH" 0640 "root:$XRAY_USER" "$REALITY_PRIVATE_KEY" < <(xray_config_json)
  if ((FILE_CHANGED)); then XRAY_CHANGED=1; fi
  if ((!DRY_RUN)) && [[ -x $(p "$XRAY_BIN_PATH") ]]; then
    XRAY_LOCATION_ASSET=$(p "$XRAY_ASSET_DIR") "$(p "$XRAY_BIN_PATH")" run -test -config "$(p "$XRAY_CONFIG_PATH")" >/dev/null ||
      die "xray rejected $XRAY_CONFIG_PATH (run: xray run -test -config $XRAY_CONFIG_PATH)"
    note "xray run -test: ok"
  fi
}

node_major() { "$1" -v 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'; }

install_node_runtime() {
  say "Node.js 20"
  local ours=$NODE_RUNTIME_DIR/bin/node
  NODE_BIN=$ours
  if [[ -x $(p "$ours") ]] && [[ -z $NODE_VERSION || $("$(p "$ours")" -v) == "$NODE_VERSION" ]]; then
    note "$("$(p "$ours")" -v) at $NODE_RUNTIME_DIR"
    return 0
  fi
  if [[ -n $NODE_DIST ]]; then
    (($(node_major "$NODE_DIST/bin/node") >= 20)) || die "--node-dist $NODE_DIST is not Node.js 20 or newer"
    if [[ -n $ROOT ]]; then
      printf '[root mode] skipped: copy Node.js from %s\n' "$NODE_DIST"
      return 0
    fi
    run mkdir -p "$(dirname "$NODE_RUNTIME_DIR")"
    run rm -rf "$NODE_RUNTIME_DIR.new"
    run cp -a "$NODE_DIST/." "$NODE_RUNTIME_DIR.new"
    run rm -rf "$NODE_RUNTIME_DIR"
    run mv "$NODE_RUNTIME_DIR.new" "$NODE_RUNTIME_DIR"
    AGENT_CHANGED=1
    note "Node.js $("$NODE_DIST/bin/node" -v) copied from $NODE_DIST"
    return 0
  fi
  local system_node
  system_node=$(command -v node 2>/dev/null || true)
  if [[ -z $ROOT && -z $NODE_VERSION && -n $system_node && -x $(dirname "$system_node")/npm ]] &&
    (($(node_major "$system_node") >= 20)); then
    NODE_BIN=$(readlink -f "$system_node")
    note "using the system Node.js $("$system_node" -v) at $NODE_BIN"
    return 0
  fi
  local base=https://nodejs.org/dist/latest-v20.x
  [[ -z $NODE_VERSION ]] || base=https://nodejs.org/dist/$NODE_VERSION
  if [[ -n $ROOT ]]; then
    printf '[root mode] skipped: download Node.js from %s\n' "$base"
    return 0
  fi
  if ((DRY_RUN)); then
    printf '[dry-run] download %s/SHASUMS256.txt and node-v20.*-linux-%s.tar.xz, check its SHA-256\n' "$base" "$NODE_ARCH"
    printf '[dry-run] unpack it to %s\n' "$NODE_RUNTIME_DIR"
    return 0
  fi
  local tmp file
  tmp=$(mktemp -d)
  TMP_DIRS+=("$tmp")
  curl -fsSL --retry 3 -o "$tmp/SHASUMS256.txt" "$base/SHASUMS256.txt"
  file=$(grep -oE "node-v20\.[0-9]+\.[0-9]+-linux-$NODE_ARCH\.tar\.xz" "$tmp/SHASUMS256.txt" | head -n 1)
  [[ -n $file ]] || die "no Node.js 20 build for linux-$NODE_ARCH in $base/SHASUMS256.txt"
  note "downloading $base/$file"
  curl -fsSL --retry 3 -o "$tmp/$file" "$base/$file"
  (cd "$tmp" && grep " $file\$" SHASUMS256.txt | sha256sum -c --quiet -) || die "checksum mismatch for $file"
  mkdir -p "$tmp/node"
  tar -xJf "$tmp/$file" -C "$tmp/node" --strip-components=1
  mkdir -p "$(dirname "$NODE_RUNTIME_DIR")"
  rm -rf "$NODE_RUNTIME_DIR.old"
  [[ ! -e $NODE_RUNTIME_DIR ]] || mv "$NODE_RUNTIME_DIR" "$NODE_RUNTIME_DIR.old"
  mv "$tmp/node" "$NODE_RUNTIME_DIR"
  rm -rf "$NODE_RUNTIME_DIR.old"
  AGENT_CHANGED=1
  note "$("$ours" -v) installed"
}

# The agent code: a release directory per source content hash, /opt/vpn-agent/current -> the active one.
agent_source() {
  local src=$AGENT_SOURCE
  if [[ -z $src ]]; then
    src=$(cd "$SCRIPT_DIR/../.." && pwd)
    [[ -f $src/package.json ]] || die "--agent-source is required (no repository around $SCRIPT_DIR)"
  fi
  [[ -e $src ]] || die "--agent-source $src does not exist"
  printf '%s' "$src"
}

source_hash() { # a content hash of a tarball or of a checkout (without node_modules, .git, .env...)
  if [[ -f $1 ]]; then
    sha256sum "$1" | cut -c1-12
  else
    # A file edited while tar reads it only changes the hash; that is not worth failing for.
    (
      set +o pipefail
      tar -C "$1" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --warning=none \
        --exclude=./node_modules --exclude=./.git --exclude=./.data --exclude=./.env \
        --exclude=./coverage --exclude=./backups -cf - . 2>/dev/null | sha256sum | cut -c1-12
    )
  fi
}

# The command that starts the agent: compiled JS if the source has it, else TypeScript through tsx.
agent_entry() { # agent_entry DIR
  if [[ -f $1/dist/infra/agent/main.js ]]; then
    printf 'dist/infra/agent/main.js'
  elif [[ -f $1/infra/agent/main.ts ]]; then
    printf -- '--import tsx infra/agent/main.ts'
  else
    die "$1 has neither dist/infra/agent/main.js nor infra/agent/main.ts"
  fi
}

install_agent_code() {
  say "agent code"
  local src hash release staged entry_dir
  src=$(agent_source)
  if [[ -f $src ]]; then
    case $src in *.tar.gz | *.tgz) ;; *) die "--agent-source must be a .tar.gz/.tgz file or a directory" ;; esac
  fi
  hash=$(source_hash "$src")
  release=$AGENT_HOME/releases/$hash
  note "source $src (content $hash)"
  ensure_dir "$AGENT_HOME" 0755 root:root
  ensure_dir "$AGENT_HOME/releases" 0755 root:root
  if [[ -f $(p "$release")/.installed ]]; then
    note "release $hash already installed"
    entry_dir=$(p "$release")
  else
    staged=$(p "$release").tmp
    if ((DRY_RUN)); then
      if [[ -f $src ]]; then
        printf '[dry-run] unpack %s into %s\n' "$src" "$staged"
      else
        printf '[dry-run] copy %s (without node_modules, .git, .data, .env) into %s\n' "$src" "$staged"
      fi
      entry_dir=$src
      if [[ -f $src ]]; then entry_dir=; fi
    else
      rm -rf "$staged"
      mkdir -p "$staged"
      if [[ -f $src ]]; then
        tar -xzf "$src" -C "$staged"
        # npm pack / git archive --prefix put everything in one top-level directory.
        local top
        top=$(find "$staged" -mindepth 1 -maxdepth 1)
        if [[ ! -f $staged/package.json && $(wc -l <<<"$top") == 1 && -d $top ]]; then
          find "$top" -mindepth 1 -maxdepth 1 -exec mv -t "$staged" {} +
          rmdir "$top"
        fi
      else
        tar -C "$src" --exclude=./node_modules --exclude=./.git --exclude=./.data --exclude=./.env \
          --exclude=./coverage --exclude=./backups -cf - . | tar -C "$staged" -xf -
      fi
      [[ -f $staged/package.json && -f $staged/package-lock.json ]] || die "the agent source has no package.json/package-lock.json"
      entry_dir=$staged
    fi
    local npm_args=(ci --no-audit --no-fund)
    if [[ -n $entry_dir && -f $entry_dir/dist/infra/agent/main.js ]]; then npm_args+=(--omit=dev); fi
    if [[ -n $ROOT ]]; then
      printf '[root mode] skipped: npm %s\n' "${npm_args[*]}"
    elif ((DRY_RUN)); then
      printf '[dry-run] (cd %s && %s %s)\n' "$staged" "$(dirname "$NODE_BIN")/npm" "${npm_args[*]}"
    else
      (cd "$staged" && PATH="$(dirname "$NODE_BIN"):$PATH" "$(dirname "$NODE_BIN")/npm" "${npm_args[@]}")
    fi
    if [[ -n $entry_dir ]]; then entry_dir=$(agent_entry "$entry_dir"); fi
    run touch "$staged/.installed"
    run chmod -R go-w "$staged"
    run mv "$staged" "$(p "$release")"
    AGENT_CHANGED=1
  fi
  if [[ -d $entry_dir ]]; then
    AGENT_ENTRY=$(agent_entry "$entry_dir")
  else
    AGENT_ENTRY=${entry_dir:-dist/infra/agent/main.js} # a dry run of a tarball cannot look inside
  fi
  if [[ $(readlink "$(p "$AGENT_HOME/current")" 2>/dev/null || true) != "$release" ]]; then
    run ln -sfn "$release" "$(p "$AGENT_HOME/current")"
    AGENT_CHANGED=1
  else
    note "current -> $release"
  fi
  # Old releases: keep the three newest for a quick rollback (ln -sfn ... current).
  if ((!DRY_RUN)); then
    local old
    while IFS= read -r old; do
      if [[ -n $old && $old != "$(p "$release")" ]]; then rm -rf "$old"; fi
    done < <(find "$(p "$AGENT_HOME/releases")" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | tail -n +4 | cut -d' ' -f2-)
  fi
}

agent_tls() {
  AGENT_TLS_CERT_PATH=
  AGENT_TLS_KEY_PATH=
  ((AGENT_TLS)) || return 0
  say "agent TLS"
  ensure_dir "$TLS_DIR" 0750 "root:$AGENT_USER"
  AGENT_TLS_CERT_PATH=$TLS_DIR/agent.crt
  AGENT_TLS_KEY_PATH=$TLS_DIR/agent.key
  if [[ -n $AGENT_TLS_CERT ]]; then
    write_file "$AGENT_TLS_CERT_PATH" 0644 "root:$AGENT_USER" <"$AGENT_TLS_CERT"
    if ((FILE_CHANGED)); then AGENT_CHANGED=1; fi
    local key
    key=$(<"$AGENT_TLS_KEY")
    write_file "$AGENT_TLS_KEY_PATH" 0640 "root:$AGENT_USER" "$key" <<<"$key"
    if ((FILE_CHANGED)); then AGENT_CHANGED=1; fi
    return 0
  fi
  if [[ -f $(p "$AGENT_TLS_CERT_PATH") && -f $(p "$AGENT_TLS_KEY_PATH") ]]; then
    note "reusing $AGENT_TLS_CERT_PATH"
    return 0
  fi
  local san="DNS:$NODE_HOST"
  [[ $NODE_HOST =~ ^[0-9.]+$ || $NODE_HOST == *:* ]] && san="IP:$NODE_HOST"
  run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=$NODE_HOST" -addext "subjectAltName=$san" \
    -keyout "$(p "$AGENT_TLS_KEY_PATH")" -out "$(p "$AGENT_TLS_CERT_PATH")"
  run chmod 0640 "$(p "$AGENT_TLS_KEY_PATH")"
  run chmod 0644 "$(p "$AGENT_TLS_CERT_PATH")"
  [[ -n $ROOT ]] || run chown "root:$AGENT_USER" "$AGENT_TLS_KEY_PATH" "$AGENT_TLS_CERT_PATH"
  AGENT_CHANGED=1
  AGENT_CERT_GENERATED=1
}

# The fingerprint the API pins (agent_cert_sha256), for a self-signed certificate; a CA-issued one is
# checked against the system CAs instead (and may renew without a PATCH).
agent_cert_pin() {
  AGENT_CERT_SHA256=
  [[ -n $AGENT_TLS_CERT_PATH ]] || return 0
  local cert
  cert=$(p "$AGENT_TLS_CERT_PATH")
  [[ -z $AGENT_TLS_CERT ]] || cert=$AGENT_TLS_CERT # a dry run has not copied it yet
  if [[ ! -f $cert ]]; then
    # Dry run before the certificate exists: a placeholder of the right shape.
    if ((DRY_RUN)); then AGENT_CERT_SHA256=$(printf '00:%.0s' {1..31})00; fi
    return 0
  fi
  local subject issuer
  subject=$(openssl x509 -noout -subject -nameopt RFC2253 -in "$cert" | sed 's/^subject=//')
  issuer=$(openssl x509 -noout -issuer -nameopt RFC2253 -in "$cert" | sed 's/^issuer=//')
  [[ $subject == "$issuer" ]] || return 0
  AGENT_CERT_SHA256=$(openssl x509 -noout -fingerprint -sha256 -in "$cert" | sed 's/^.*=//' | tr 'a-f' 'A-F')
  note "agent certificate SHA-256 fingerprint (pinned by the API): $AGENT_CERT_SHA256"
}

write_agent_env() {
  say "agent environment"
  local tls=''
  if [[ -n $AGENT_TLS_CERT_PATH ]]; then
    tls=$'\n'"AGENT_TLS_CERT=$AGENT_TLS_CERT_PATH"$'\n'"AGENT_TLS_KEY=$AGENT_TLS_KEY_PATH"
  fi
  write_file "$AGENT_ENV" 0600 root:root "$AGENT_TOKEN" <<EOF
# vpn-agent.service environment, written by install-node.sh (re-run it to change). Contains a secret.
NODE_ENV=production
LOG_LEVEL=info
AGENT_HOST=$AGENT_BIND
AGENT_PORT=$AGENT_PORT
AGENT_TOKEN=$AGENT_TOKEN
AGENT_DATA_DIR=$AGENT_DATA_DIR
XRAY_API=$XRAY_API_LISTEN
XRAY_INBOUND_TAG=$INBOUND_TAG
XRAY_BIN=$XRAY_BIN_PATH
XRAY_CONFIG=$XRAY_CONFIG_PATH
AGENT_SPAWN_XRAY=0$tls
EOF
  if ((FILE_CHANGED)); then AGENT_CHANGED=1; fi
}

write_node_state() {
  write_file "$NODE_STATE" 0644 root:root <<EOF
# Choices of the last install-node.sh run; a re-run without options keeps them.
NODE_NAME=$NODE_NAME
NODE_HOST=$NODE_HOST
NODE_PORT=$NODE_PORT
REALITY_SNI=$REALITY_SNI
REALITY_TARGET=$REALITY_TARGET
NODE_LOCATION=$NODE_LOCATION
NODE_COUNTRY=$NODE_COUNTRY
NODE_CAPACITY=$NODE_CAPACITY
AGENT_PORT=$AGENT_PORT
AGENT_URL=$AGENT_URL
AGENT_URL_DERIVED=$AGENT_URL_DERIVED
XRAY_VERSION=$XRAY_VERSION
EOF
}

readonly RUNNER_PATH=/usr/local/sbin/vpn-node-run
readonly RUNNER_PID=/run/vpn-node-run.pid
readonly RUNNER_LOG_DIR=/var/log/vpn-node

# --no-systemd: one script runs both services in the foreground and restarts whichever exits, as the
# units below would (Restart=). The container's command, or the machine's init, runs it at boot.
write_runner() {
  say "supervisor script (no systemd)"
  ensure_dir "$AGENT_DATA_DIR" 0700 "$AGENT_USER:$AGENT_USER"
  ensure_dir "$RUNNER_LOG_DIR" 0755 root:root
  local node_bin=${NODE_BIN:-$NODE_RUNTIME_DIR/bin/node}
  write_file "$RUNNER_PATH" 0755 root:root <<EOF
#!/usr/bin/env bash
# Written by vpn-seller infra/deploy/install-node.sh --no-systemd. Runs Xray and the node agent, each
# restarted 2 s after it exits; SIGTERM stops both. Logs: $RUNNER_LOG_DIR/{xray,agent}.log
set -u
echo \$\$ >$RUNNER_PID
trap 'trap - TERM INT; kill 0; exit 0' TERM INT
keep_running() { # keep_running NAME COMMAND...
  local name=\$1 rc
  shift
  while true; do
    "\$@" >>"$RUNNER_LOG_DIR/\$name.log" 2>&1
    rc=\$?
    echo "\$(date -u +%FT%TZ) \$name exited with \$rc; restarting in 2 s" >>"$RUNNER_LOG_DIR/\$name.log"
    sleep 2
  done
}
agent() {
  local line
  while IFS= read -r line; do
    [[ -z \$line || \$line == '#'* ]] || export "\$line"
  done <$AGENT_ENV
  cd $AGENT_HOME/current || return 1
  # shellcheck disable=SC2086 # the entry may be "--import tsx infra/agent/main.ts"
  exec runuser -u $AGENT_USER -- $node_bin $AGENT_ENTRY
}
$XRAY_BIN_PATH run -test -config $XRAY_CONFIG_PATH >/dev/null || exit 23
keep_running xray runuser -u $XRAY_USER -- env XRAY_LOCATION_ASSET=$XRAY_ASSET_DIR $XRAY_BIN_PATH run -config $XRAY_CONFIG_PATH &
keep_running agent agent &
wait
EOF
  if ((FILE_CHANGED)); then
    XRAY_CHANGED=1
    AGENT_CHANGED=1
  fi
}

start_runner() {
  say "services (no systemd)"
  local pid=
  [[ -r $RUNNER_PID ]] && pid=$(<"$RUNNER_PID")
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    if ((!XRAY_CHANGED && !AGENT_CHANGED)); then
      note "vpn-node-run is running (pid $pid)"
      return 0
    fi
    run kill -TERM -- "-$pid"
    local i
    for i in $(seq 1 20); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
  fi
  if ((DRY_RUN)); then
    printf '[dry-run] setsid %s (in the background)\n' "$RUNNER_PATH"
    return 0
  fi
  setsid "$RUNNER_PATH" </dev/null >/dev/null 2>&1 &
  note "started $RUNNER_PATH (logs in $RUNNER_LOG_DIR)"
}

write_units() {
  if ((NO_SYSTEMD)); then
    write_runner
    return 0
  fi
  say "systemd units"
  write_file "$UNIT_DIR/xray.service" 0644 root:root <<EOF
# Written by vpn-seller infra/deploy/install-node.sh
[Unit]
Description=Xray (VLESS + Reality) for vpn-seller
Documentation=https://github.com/XTLS/Xray-core
After=network-online.target
Wants=network-online.target

[Service]
User=$XRAY_USER
Group=$XRAY_USER
Environment=XRAY_LOCATION_ASSET=$XRAY_ASSET_DIR
ExecStartPre=$XRAY_BIN_PATH run -test -config $XRAY_CONFIG_PATH
ExecStart=$XRAY_BIN_PATH run -config $XRAY_CONFIG_PATH
Restart=on-failure
RestartSec=2s
RestartPreventExitStatus=23
AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_ADMIN
CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_ADMIN
NoNewPrivileges=true
ProtectSystem=full
ProtectHome=true
PrivateTmp=true
LimitNOFILE=1048576
LimitNPROC=10000

[Install]
WantedBy=multi-user.target
EOF
  if ((FILE_CHANGED)); then
    XRAY_CHANGED=1
    UNITS_CHANGED=1
  fi
  local node_bin=${NODE_BIN:-$NODE_RUNTIME_DIR/bin/node}
  write_file "$UNIT_DIR/vpn-agent.service" 0644 root:root <<EOF
# Written by vpn-seller infra/deploy/install-node.sh
# The agent keeps its client list in $AGENT_DATA_DIR and re-applies it whenever Xray restarts.
[Unit]
Description=vpn-seller node agent
After=network-online.target xray.service
Wants=network-online.target

[Service]
User=$AGENT_USER
Group=$AGENT_USER
EnvironmentFile=$AGENT_ENV
WorkingDirectory=$AGENT_HOME/current
ExecStart=$node_bin $AGENT_ENTRY
Restart=always
RestartSec=2s
TimeoutStopSec=20s
StateDirectory=vpn-agent
StateDirectoryMode=0700
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true

[Install]
WantedBy=multi-user.target
EOF
  if ((FILE_CHANGED)); then
    AGENT_CHANGED=1
    UNITS_CHANGED=1
  fi
}

firewall() {
  say "firewall"
  if [[ -n $ROOT ]]; then
    note "skipped in --root mode"
    return 0
  fi
  if ((DRY_RUN)); then
    printf '[dry-run] if ufw is active: ufw allow %s/tcp\n' "$NODE_PORT"
    if [[ -n $AGENT_ALLOW_FROM ]]; then
      printf '[dry-run] if ufw is active: ufw allow from %s to any port %s proto tcp\n' "$AGENT_ALLOW_FROM" "$AGENT_PORT"
    fi
    return 0
  fi
  if command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q '^Status: active'; then
    ufw allow "$NODE_PORT/tcp" >/dev/null
    note "ufw: allowed $NODE_PORT/tcp"
    if [[ -n $AGENT_ALLOW_FROM ]]; then
      ufw allow from "$AGENT_ALLOW_FROM" to any port "$AGENT_PORT" proto tcp >/dev/null
      note "ufw: allowed $AGENT_PORT/tcp from $AGENT_ALLOW_FROM"
    fi
  else
    note "ufw is not active: nothing changed"
  fi
  [[ -n $AGENT_ALLOW_FROM ]] ||
    warn "the agent port $AGENT_PORT/tcp should be reachable from the API host only (--agent-allow-from or your provider's firewall)"
}

start_services() {
  if ((NO_SYSTEMD)); then
    [[ -z $ROOT ]] || return 0
    start_runner
    return 0
  fi
  say "services"
  if ((UNITS_CHANGED)); then system_run systemctl daemon-reload; fi
  system_run systemctl enable xray.service vpn-agent.service
  if ((XRAY_CHANGED)); then system_run systemctl restart xray.service; else system_run systemctl start xray.service; fi
  if ((AGENT_CHANGED)); then system_run systemctl restart vpn-agent.service; else system_run systemctl start vpn-agent.service; fi
}

verify() {
  if [[ -n $ROOT ]] || ((DRY_RUN)); then return 0; fi
  say "checking the agent"
  local scheme=http body='' i
  ((AGENT_TLS)) && scheme=https
  for i in $(seq 1 30); do
    # The token goes through stdin, not the command line.
    if body=$(printf 'header = "Authorization: Bearer %s"\n' "$AGENT_TOKEN" |
      curl -fsS -k -m 3 -K - "$scheme://127.0.0.1:$AGENT_PORT/health" 2>/dev/null); then
      note "agent /health: $body"
      return 0
    fi
    note "waiting for the agent ($i/30)"
    sleep 1
  done
  if ((NO_SYSTEMD)); then
    tail -n 30 "$RUNNER_LOG_DIR/xray.log" "$RUNNER_LOG_DIR/agent.log" >&2 || true
    die "the agent did not answer on port $AGENT_PORT; see $RUNNER_LOG_DIR/"
  fi
  systemctl --no-pager status xray.service vpn-agent.service || true
  die "the agent did not answer on port $AGENT_PORT; see: journalctl -u vpn-agent -u xray -n 100"
}

shell_single_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

print_registration() {
  local body api
  body=$(
    cat <<EOF
{
  "name": $(json_str "$NODE_NAME"),
  "host": $(json_str "$NODE_HOST"),
  "port": $NODE_PORT,
  "location": $(json_str "$NODE_LOCATION"),
  "country_code": $(json_str "$NODE_COUNTRY"),
  "capacity": $NODE_CAPACITY,
  "driver": "agent",
  "agent_url": $(json_str "$AGENT_URL"),
  "agent_token": $(json_str "$AGENT_TOKEN"),
  "agent_cert_sha256": $(if [[ -n $AGENT_CERT_SHA256 ]]; then json_str "$AGENT_CERT_SHA256"; else printf null; fi),
  "reality": {
    "public_key": $(json_str "$REALITY_PUBLIC_KEY"),
    "short_id": $(json_str "$REALITY_SHORT_ID"),
    "server_name": $(json_str "$REALITY_SNI")
  }
}
EOF
  )
  if [[ -n $API_URL ]]; then
    api=$(shell_single_quote "$API_URL/api/v1/admin/nodes")
  else
    # shellcheck disable=SC2016 # printed for the operator's shell to expand
    api='"$API_URL/api/v1/admin/nodes"'
  fi
  printf '\n'
  say "register the node (from a machine that can reach the API; ADMIN_TOKEN is in the API's .env)."
  note "The body holds the agent token: do not paste it into chats or tickets."
  ((DRY_RUN)) && note "Dry run: the keys and token below are placeholders; a real run prints the real ones."
  [[ -n $API_URL ]] || note "Set API_URL first, e.g.: export API_URL=https://vpn.example.com"
  if [[ -n $AGENT_CERT_SHA256 ]]; then
    note "The agent's self-signed certificate is pinned by agent_cert_sha256 (a new certificate needs a PATCH)."
    if ((AGENT_CERT_GENERATED)); then note "A new certificate was generated now: PATCH a registered node with this body."; fi
  fi
  printf '\n# --- BEGIN NODE REGISTRATION ---\n'
  printf 'curl -X POST %s \\\n' "$api"
  # shellcheck disable=SC2016 # $ADMIN_TOKEN is for the operator's shell to expand
  printf '  -H "Authorization: Bearer $ADMIN_TOKEN" \\\n'
  printf "  -H 'Content-Type: application/json' \\\\\n"
  printf '  -d %s\n' "$(shell_single_quote "$body")"
  printf '# --- END NODE REGISTRATION ---\n\n'
  note "Already registered? Send the same body with PATCH to /api/v1/admin/nodes/<id> instead."
}

cleanup() {
  local d
  for d in "${TMP_DIRS[@]}"; do rm -rf "$d"; done
}

main() {
  TMP_DIRS=()
  trap cleanup EXIT
  XRAY_CHANGED=0
  AGENT_CHANGED=0
  UNITS_CHANGED=0
  AGENT_CERT_GENERATED=0
  AGENT_CERT_SHA256=
  NODE_BIN=
  AGENT_ENTRY=
  parse_args "$@"
  resolve_settings
  preflight
  install_packages
  ensure_users
  install_xray
  ensure_state_dir
  ensure_reality_keys
  ensure_agent_token
  write_xray_config
  install_node_runtime
  install_agent_code
  agent_tls
  agent_cert_pin
  write_agent_env
  write_node_state
  write_units
  firewall
  start_services
  verify
  print_registration
  say "done"
}

main "$@"
