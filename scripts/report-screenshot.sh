#!/usr/bin/env bash
# report-screenshot.sh - a picture of a run's report: `attnrl report RUN_DIR --samples 1`, drawn
# by headless Chromium 1000 px wide and as tall as the page, then cut to 256 colours with PIL
# (Debian python3-pil) so that it stays small. Makes docs/report.png (docs/running.md, "Run
# reports"):
#   make run
#   scripts/report-screenshot.sh runs/default docs/report.png
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: scripts/report-screenshot.sh RUN_DIR OUT.png"; exit 2; }
run=$1 out=$2
bin=${ATTNRL_BIN:-bin/attnrl}
chrome=$(command -v chromium || command -v chromium-browser) ||
	{ echo "report-screenshot: chromium not found (sudo apt-get install chromium)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" report "$run" --out "$tmp/report.html" --samples 1
browse() {
	timeout 60 "$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
		--user-data-dir="$tmp/chrome" "$@" 2>/dev/null
}
# the page's height, from a copy that writes it into its title
sed 's#</body>#<script>document.title = document.documentElement.scrollHeight</script></body>#' \
	"$tmp/report.html" >"$tmp/probe.html"
h=$(browse --window-size=1000,1000 --dump-dom "file://$tmp/probe.html" | sed -n 's#.*<title>\([0-9]*\)</title>.*#\1#p')
browse --window-size=1000,"${h:-3000}" --screenshot="$tmp/page.png" "file://$tmp/report.html" >/dev/null
/usr/bin/python3 - "$tmp/page.png" "$out" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
im.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(sys.argv[2], optimize=True)
print(f"report-screenshot: {sys.argv[2]} ({im.size[0]}x{im.size[1]})")
PY
