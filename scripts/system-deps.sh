#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: Chromium for the browser
# tests (never a downloaded browser build), fonts, and for the sealed documents' tests SoftHSM2
# (a PKCS#11 token), NSS's certutil (pdfsig's trust store) and poppler's pdfsig and pdffonts.
# Needs root (CI and the dev machines are).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The documents' font (render and seal stamp), the seal tests' SoftHSM2 token and NSS trust store,
# poppler's pdffonts/pdftotext/pdfsig and zbarimg for the QR code.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
command -v pdffonts >/dev/null || missing+=(poppler-utils)
command -v pdfsig >/dev/null || missing+=(poppler-utils)
command -v zbarimg >/dev/null || missing+=(zbar-tools)
command -v softhsm2-util >/dev/null || missing+=(softhsm2)
command -v certutil >/dev/null || missing+=(libnss3-tools)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
