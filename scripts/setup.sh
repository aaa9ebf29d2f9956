#!/usr/bin/env bash
# Install exactly what Lectern needs on a Debian 12 machine, as root.
# Idempotent and quiet: when everything is present it prints nothing.
#
#   scripts/setup.sh            build + test dependencies (apt and npm)
#   scripts/setup.sh --no-npm   skip the npm packages (browser and libwebrtc tests)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
want_npm=1
[ "${1:-}" = "--no-npm" ] && want_npm=0

# Build toolchain and libraries (DESIGN.md section 2, TOOLCHAIN.md).
pkgs=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libuv1-dev libnice-dev libsrtp2-dev libssl-dev libnats-dev
  libprotobuf-c-dev protobuf-c-compiler libyaml-dev libhttp-parser-dev
  libcmocka-dev libmaxminddb-dev libmaxmind-db-writer-perl libusrsctp-dev
  nats-server curl iproute2 procps valgrind openssl
  chromium
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-nice gstreamer1.0-tools python3-gst-1.0
  gir1.2-gst-plugins-bad-1.0 firefox-esr
)
# Node.js for the browser tests: Debian's nodejs + npm, unless a node with
# npm is already there (a NodeSource nodejs bundles npm and conflicts with
# Debian's npm package).
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
# promtool comes from prometheus; its recommends are large and unneeded.
norec_pkgs=(prometheus)

missing() {
  local p out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' \
      || out+=("$p")
  done
  echo "${out[@]:-}"
}

need=$(missing "${pkgs[@]}")
need_norec=$(missing "${norec_pkgs[@]}")
if [ -n "$need" ] || [ -n "$need_norec" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages ($need $need_norec); run as root" >&2
    exit 1
  fi
  echo "setup: installing:$need $need_norec" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  [ -z "$need" ] || apt-get install -y -qq $need >/dev/null
  # shellcheck disable=SC2086
  [ -z "$need_norec" ] || apt-get install -y -qq --no-install-recommends $need_norec >/dev/null
fi

# npm packages of the browser, libwebrtc and Terraform tests, pinned by tests/package-lock.json.
if [ "$want_npm" = 1 ] && [ -f "$here/tests/package-lock.json" ]; then
  stamp="$here/tests/node_modules/.lectern-lock"
  if ! cmp -s "$here/tests/package-lock.json" "$stamp" 2>/dev/null; then
    echo "setup: installing npm packages (tests/package-lock.json)" >&2
    (cd "$here/tests" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$here/tests/package-lock.json" "$stamp"
  fi
fi
