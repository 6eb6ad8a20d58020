#!/usr/bin/env bash
# Makes sure the UI browser tests (examples/tests/ui_browser.rs) have what
# they drive: Debian's headless-capable Chromium and its matching
# chromedriver. Installs them with apt-get when missing, saying so first
# (BOOKING_NO_SYSTEM_CHANGES=1 stops instead); does nothing when both are
# present (fonts-liberation comes along so screenshots have text).
# Idempotent; needs root (or sudo) only to install.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if have chromedriver && { have chromium || have chromium-browser; }; then
    echo "ensure-browser: $(chromedriver --version 2>/dev/null | head -n1)"
    exit 0
fi

if ! have apt-get; then
    echo "ensure-browser: chromium/chromedriver missing and apt-get is not available;" >&2
    echo "  install Chromium and a matching chromedriver, or set CHROMEDRIVER and CHROME_BIN." >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if have sudo; then
        SUDO="sudo"
    else
        echo "ensure-browser: need root (or sudo) to install chromium and chromium-driver" >&2
        exit 1
    fi
fi

if [ "${BOOKING_NO_SYSTEM_CHANGES:-0}" = 1 ]; then
    echo "ensure-browser: chromium and chromium-driver are missing; BOOKING_NO_SYSTEM_CHANGES=1 forbids installing them, so install them by hand" >&2
    exit 1
fi
echo "ensure-browser: CHANGING THIS MACHINE: installing Debian packages chromium, chromium-driver and fonts-liberation with apt-get (set BOOKING_NO_SYSTEM_CHANGES=1 to stop instead)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-liberation >/dev/null

if ! have chromedriver; then
    echo "ensure-browser: chromium-driver was installed but chromedriver is not on PATH" >&2
    exit 1
fi
echo "ensure-browser: $(chromedriver --version | head -n1)"
