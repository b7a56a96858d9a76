#!/usr/bin/env bash
# Debian packages the project needs: Chromium (browser tests and the TF.js parity check),
# PostgreSQL (collector storage tests), Node.js/npm (TF.js runtime). Idempotent.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v node >/dev/null || need+=(nodejs npm)
if ((${#need[@]})); then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
