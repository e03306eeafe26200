#!/usr/bin/env bash
# Makes sure a headless Chromium is available for the web interface's end-to-end tests, from
# Debian's own package (never a browser download). Prints the browser's path on stdout and exits 0
# when one is there; otherwise prints one line saying why on stderr and exits 1.
#
#   MARQUEE_CHROMIUM=/path/to/chrome   use that browser instead (must be executable)
#
# Installing needs root and apt-get; a lock held by another apt run is waited for.
set -uo pipefail

found() {
  echo "$1"
  exit 0
}

if [[ -n "${MARQUEE_CHROMIUM:-}" ]]; then
  if [[ -x "$MARQUEE_CHROMIUM" ]]; then found "$MARQUEE_CHROMIUM"; fi
  echo "MARQUEE_CHROMIUM=$MARQUEE_CHROMIUM is not an executable file" >&2
  exit 1
fi

for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [[ -x "$candidate" ]]; then found "$candidate"; fi
done

if [[ "$(id -u)" != "0" ]]; then
  echo "no /usr/bin/chromium and not root, so it cannot be installed (apt-get install chromium)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no /usr/bin/chromium and no apt-get to install it with" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
echo "installing Debian's chromium package (one time, a few minutes)..." >&2
if ! apt-get "${apt_opts[@]}" update -qq >&2; then
  echo "apt-get update failed, so chromium could not be installed" >&2
  exit 1
fi
if ! apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends chromium >&2; then
  echo "apt-get install chromium failed" >&2
  exit 1
fi

if [[ -x /usr/bin/chromium ]]; then found /usr/bin/chromium; fi
echo "chromium was installed but /usr/bin/chromium is still missing" >&2
exit 1
