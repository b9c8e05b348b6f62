#!/usr/bin/env bash
# Installs the Debian packages the hub and its tests use, when missing: Java for the local Kafka
# kit, Maven to fetch Kafka's jars, Redis and OpenLDAP for the bridge, ffmpeg, espeak-ng,
# pocketsphinx and Chromium for the processors. Prints what it installs. Needs root (or sudo)
# with apt-get; elsewhere it names what is missing and exits non-zero.
set -euo pipefail

# command-or-file -> Debian package
declare -A wanted=(
  [java]=openjdk-17-jre-headless
  [mvn]=maven
  [redis-server]=redis-server
  [/usr/sbin/slapd]=slapd
  [ldapsearch]=ldap-utils
  [ffmpeg]=ffmpeg
  [espeak-ng]=espeak-ng
  [pocketsphinx_continuous]=pocketsphinx
  [/usr/share/pocketsphinx/model/en-us/en-us/mdef]=pocketsphinx-en-us
  [chromium]=chromium
  # the tesseract CLI: the reference of the OCR benchmark (bench/media.ts)
  [tesseract]=tesseract-ocr
  [/usr/share/tesseract-ocr/5/tessdata/eng.traineddata]=tesseract-ocr-eng
  [/usr/lib/python3/dist-packages/avro]=python3-avro
  [/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf]=fonts-dejavu-core
)

missing=()
for probe in "${!wanted[@]}"; do
  if [[ "$probe" == /* ]]; then [ -e "$probe" ] && continue; else command -v "$probe" >/dev/null 2>&1 && continue; fi
  missing+=("${wanted[$probe]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "tributary: installing Debian packages: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "tributary: missing packages ${missing[*]} and not root; install them with apt-get" >&2; exit 1
  fi
fi
lock="${TMPDIR:-/tmp}/tributary-apt.lock"
export DEBIAN_FRONTEND=noninteractive
# Slapd's package scripts would otherwise start a system-wide server; the kit starts its own.
$sudo flock "$lock" apt-get update -qq >&2
$sudo flock "$lock" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
echo "tributary: installed ${missing[*]}" >&2
