#!/usr/bin/env bash
# Installs the system packages golem-promise builds against, on Debian 12 (bookworm).
# Catch2 3 is only in bookworm-backports; we derive that suite's mirror from the apt
# sources the machine already has, so no host name is hard-coded here.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PKGS=(build-essential cmake ninja-build pkg-config git
      libsqlite3-dev sqlite3 libboost-dev libflatbuffers-dev flatbuffers-compiler
      nlohmann-json3-dev libbrotli-dev zlib1g-dev   # brotli: linked in statically; zlib: the tests' client
      python3-dev python3-venv python3-pip
      clang-14 libclang-rt-14-dev   # fuzz/: libFuzzer with ASan + UBSan
      wrk nginx-light)   # bench/bench_http_wrk.py: wrk drives the endpoint, nginx is its baseline

have_all() {
  for p in "${PKGS[@]}" catch2; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
  done
  # Catch2 must be version 3 (bookworm itself ships 2.x).
  dpkg-query -W -f='${Version}' catch2 | grep -q '^3' || return 1
}

if [ -z "${GP_APT_DIR:-}" ] && have_all; then
  echo "setup-system: all system packages present"
  exit 0
fi

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
apt_dir=${GP_APT_DIR:-/etc/apt}   # tests point this at a copy
bp_file="$apt_dir/sources.list.d/golem-promise-backports.sources"

# The active apt source files (apt reads only these endings; *.disabled and the like are ignored).
source_files() {
  [ -f "$apt_dir/sources.list" ] && echo "$apt_dir/sources.list"
  for f in "$apt_dir"/sources.list.d/*.list "$apt_dir"/sources.list.d/*.sources; do
    [ -f "$f" ] && echo "$f"
  done
  return 0
}

# Prints "URI<TAB>SIGNED_BY" of the first active 'deb' source serving SUITE (exactly that suite
# name, not one of its -updates/-security siblings); prints nothing if there is none.
find_source() {
  local suite=$1 f
  while read -r f; do
    case "$f" in
      *.sources)
        # deb822: blank-line separated stanzas; a stanza may be switched off with Enabled: no.
        awk -v suite="$suite" '
          function flush() {
            if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " suite " ") && uri != "")
              { print uri "\t" signed; found = 1; exit }
            types = ""; suites = ""; uri = ""; signed = ""; enabled = ""
          }
          /^[ \t]*#/ { next }
          /^[ \t]*$/ { flush(); next }
          tolower($1) == "types:"     { $1 = ""; types = $0 }
          tolower($1) == "suites:"    { $1 = ""; suites = $0 }
          tolower($1) == "uris:"      { uri = $2 }
          tolower($1) == "signed-by:" { if ($2 ~ /^\//) signed = $2 }   # a path, not an inline key
          tolower($1) == "enabled:"   { enabled = tolower($2) }
          END { if (!found) flush() }' "$f" ;;
      *)
        # One-line: deb [opt=val ...] URI SUITE COMPONENT...
        awk -v suite="$suite" '
          /^[ \t]*deb[ \t]/ {
            line = $0; signed = ""
            if (match(line, /\[[^]]*\]/)) {
              opts = substr(line, RSTART + 1, RLENGTH - 2)
              line = substr(line, 1, RSTART - 1) substr(line, RSTART + RLENGTH)
              if (match(opts, /signed-by=[^ ]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
            }
            n = split(line, w, /[ \t]+/)
            if (n >= 3 && w[3] == suite) { print w[2] "\t" signed; exit }
          }' "$f" ;;
    esac
  done < <(source_files) | head -n1
}

if [ -z "$(find_source "${codename}-backports")" ]; then
  found=$(find_source "$codename")
  if [ -z "$found" ]; then
    echo "setup-system: no active apt source serves '$codename'; cannot derive its backports suite" >&2
    exit 1
  fi
  mirror=${found%%$'\t'*}
  signed=${found#*$'\t'}
  {
    echo "Types: deb"
    echo "URIs: $mirror"
    echo "Suites: ${codename}-backports"
    echo "Components: main"
    if [ -n "$signed" ]; then echo "Signed-By: $signed"; fi
  } | $SUDO tee "$bp_file" >/dev/null
  echo "setup-system: added ${codename}-backports from the mirror of '$codename' ($bp_file)"
fi
[ -n "${GP_APT_DIR:-}" ] && exit 0   # a test run stops before touching the real system

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PKGS[@]}"
$SUDO apt-get install -y -q --no-install-recommends -t "${codename}-backports" catch2
