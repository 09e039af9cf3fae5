#!/usr/bin/env bash
# Installs the system packages golem-promise builds against, on Debian 12 (bookworm).
# Catch2 3 is only in bookworm-backports; we derive that suite's mirror from the apt
# sources the machine already has, so no host name is hard-coded here.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PKGS=(build-essential cmake ninja-build pkg-config git
      libsqlite3-dev sqlite3 libboost-dev libflatbuffers-dev flatbuffers-compiler
      nlohmann-json3-dev libcpp-httplib-dev
      python3-dev python3-venv python3-pip)

have_all() {
  for p in "${PKGS[@]}" catch2; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
  done
  # Catch2 must be version 3 (bookworm itself ships 2.x).
  dpkg-query -W -f='${Version}' catch2 | grep -q '^3' || return 1
}

if have_all; then
  echo "setup-system: all system packages present"
  exit 0
fi

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
bp_list=/etc/apt/sources.list.d/golem-promise-backports.list
if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # Take the first URI that serves the main suite, from either deb822 or one-line sources.
  mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
             | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
  if [ -z "$mirror" ]; then
    mirror=$(grep -hE "^deb [^ ]+ ${codename} " /etc/apt/sources.list 2>/dev/null \
               | awk '{print $2}' | head -n1 || true)
  fi
  if [ -z "$mirror" ]; then
    echo "setup-system: cannot find the Debian mirror in the apt sources" >&2
    exit 1
  fi
  echo "deb ${mirror} ${codename}-backports main" | $SUDO tee "$bp_list" >/dev/null
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PKGS[@]}"
$SUDO apt-get install -y -q --no-install-recommends -t "${codename}-backports" catch2
