#!/usr/bin/env bash
# Debian packages the project needs: Chromium for the browser tests, a CJK font so the
# page's Chinese text renders in screenshots, PostgreSQL (the tests start a throwaway
# server; `rescue serve --db postgresql://...`), Pango for WeasyPrint's work-order PDFs. Idempotent: installs only what is missing.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing+=(fonts-wqy-microhei)
dpkg -s postgresql >/dev/null 2>&1 || missing+=(postgresql)
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || missing+=(libpango-1.0-0)
dpkg -s libpangoft2-1.0-0 >/dev/null 2>&1 || missing+=(libpangoft2-1.0-0)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
