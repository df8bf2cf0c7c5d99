#!/usr/bin/env bash
# The Debian packages the test suite needs beyond PyPI (run by `make test` first, and so by .ci/run):
# ffmpeg and GStreamer's RTSP server for the stream tests, Chromium and CJK fonts for the browser tests,
# poppler-utils for the report renders, mosquitto for the broker that goes down and comes back.
# All present: returns at once (dpkg -s only). Missing, as root: apt-get installs them. Missing, not root:
# says which and how to install them, and fails, so the suite never quietly skips what it cannot run.
# CLEARWAY_SYSTEM_PACKAGES replaces the list (space-separated; empty: check nothing, e.g. off Debian).
set -euo pipefail

default_packages="ffmpeg chromium fonts-wqy-microhei poppler-utils mosquitto
  gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav"
read -r -d '' -a packages <<<"${CLEARWAY_SYSTEM_PACKAGES-$default_packages}" || true
[ ${#packages[@]} -eq 0 ] && exit 0
apt_get="${CLEARWAY_APT_GET:-apt-get}"  # tests put a recorder here instead of the real one

if ! command -v dpkg >/dev/null 2>&1; then
  echo "system-packages: no dpkg here: install the equivalents of these Debian packages yourself:" >&2
  echo "  ${packages[*]}" >&2
  echo "then run with CLEARWAY_SYSTEM_PACKAGES= (empty) to skip this check." >&2
  exit 2
fi

dpkg -s "${packages[@]}" >/dev/null 2>&1 && exit 0  # the usual case: one call
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "system-packages: the test suite needs these Debian packages, which are not installed:" >&2
  echo "  ${missing[*]}" >&2
  echo "install them (then run make test again):" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 2
fi
echo "system-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"$apt_get" update -q
"$apt_get" install -y -q --no-install-recommends "${missing[@]}"
