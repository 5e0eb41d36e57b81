#!/usr/bin/env bash
# Renders a report.html to a PNG with headless Chromium, to look at what people see.
# Not part of CI. Needs Debian's chromium (apt-get install chromium).
#   scripts/screenshot.sh reports/iris-multinomial/report.html /tmp/report.png [width] [height]
set -euo pipefail
html=$(realpath "$1")
out=${2:-report.png}
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size="${3:-1200},${4:-3000}" --screenshot="$out" "file://$html" 2>/dev/null
echo "wrote $out"
