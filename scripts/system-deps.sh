#!/usr/bin/env bash
# Installs the Debian programs the test suite talks to for real: a PostgreSQL server (results store),
# dicom3tools (dciodvfy validates written DICOM), dcm2niix (independent DICOM -> NIfTI reader) and
# chromium (renders the HTML report, drives the viewer tests) and Orthanc with its DICOMweb plugin (the PACS
# the export and init tests talk to) and npm (installs the viewer's Niivue module from the npm registry). Does nothing for programs already present.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v dciodvfy >/dev/null 2>&1 || need+=(dicom3tools)
command -v dcm2niix >/dev/null 2>&1 || need+=(dcm2niix)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v Orthanc >/dev/null 2>&1 || need+=(orthanc)
command -v npm >/dev/null 2>&1 || need+=(npm)
[[ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ]] || need+=(orthanc-dicomweb)
if ((${#need[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: please install with apt: ${need[*]} (the tests that use them will fail without)" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
