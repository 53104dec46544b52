#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: both backends, the numpy
# binding, the CLI.  Extra arguments go to `meson test`.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
meson test -C build --print-errorlogs "$@"
rc=$?
# One closing line with the counts, read from meson's own log.
/usr/bin/python3 - <<'PY'
import json
counts = {}
for line in open("build/meson-logs/testlog.json"):
    r = json.loads(line)["result"]
    counts[r] = counts.get(r, 0) + 1
failed = sum(v for k, v in counts.items() if k not in ("OK", "SKIP", "EXPECTEDFAIL"))
print(f"meson: {counts.get('OK', 0)} passed, {failed} failed, {counts.get('SKIP', 0)} skipped")
PY
exit $rc
