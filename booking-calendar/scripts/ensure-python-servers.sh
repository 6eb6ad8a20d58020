#!/usr/bin/env bash
# Installs the real servers booking-calendar's tests start on loopback
# (Radicale for CalDAV and ICS, aiosmtpd for SMTP) from PyPI, pinned in
# tests/support/requirements.txt, unless they are already importable.
# The tests run this themselves when the modules are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=tests/support/requirements.txt

if python3 -c "import radicale, aiosmtpd" 2>/dev/null; then
    exit 0
fi
# A Python that marks itself externally managed (PEP 668) needs the flag.
python3 -m pip install --quiet --disable-pip-version-check -r "$requirements" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages -r "$requirements"
python3 -c "import radicale, aiosmtpd"
