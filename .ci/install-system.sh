#!/usr/bin/env bash
# Debian packages the project needs: Chromium (browser tests and the TF.js parity check),
# PostgreSQL (collector storage tests), Node.js/npm (TF.js runtime), wrk (the collector's
# load generator, benchmarks/collector_load.py), libusb-1.0 (tflite-support, which writes the
# mediapipe export's metadata, loads it at import). Idempotent.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v node >/dev/null || need+=(nodejs npm)
command -v wrk >/dev/null || need+=(wrk)
# (grep without -q: an early exit would SIGPIPE ldconfig and fail the pipeline)
/sbin/ldconfig -p | grep 'libusb-1.0.so.0 ' >/dev/null || need+=(libusb-1.0-0)
if ((${#need[@]})); then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
