#!/usr/bin/env bash
# The GPU self-check of dan_mm (docs/gpu.md). On a machine that has PyTorch
# and no network: install the wheelhouse and dan_mm offline (--no-index
# --no-deps, on top of the machine's own torch), then run every GPU part
# with its own time budget (.ci/gpu/gpu_check.py). Writes
# OUT_DIR/results.json, OUT_DIR/results.md and OUT_DIR/logs.tar.gz, also
# when parts fail.
#
#   bash .ci/gpu/gpu_check.sh OUT_DIR [--cpu-dry-run] [--wheelhouse DIR]
#        [--export DIR] [--deadline SECONDS] [--workers N]
#
#   --cpu-dry-run  the same parts on the CPU with tiny sizes, in the current
#                  environment (installs nothing)
#   --wheelhouse   the wheels to install (default: wheelhouse/ in the
#                  repository, made by .ci/gpu/make_wheelhouse.sh); with
#                  none there (an online machine), the installed packages
#                  are used
#   --export DIR   at the end, whatever happened, copy results.json,
#                  results.md and logs.tar.gz to DIR
#   --deadline S   seconds for the whole check, install included
#                  (default: 480 on a GPU, 600 for the dry run)
#   --workers N    data-loader workers (default: CPUs - 1, at most 16)
#   PYTHON=...     the interpreter (default: python3)
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
usage() {
  sed -n '9,23p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}
[ $# -ge 1 ] || usage
OUT_DIR=$1
shift
case "$OUT_DIR" in -*) usage ;; esac
DRY=0
WHEELHOUSE=$REPO/wheelhouse
EXPORT=
DEADLINE=
PASS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu-dry-run) DRY=1; PASS+=("$1") ;;
    --wheelhouse) WHEELHOUSE=$2; shift ;;
    --export) EXPORT=$2; shift ;;
    --deadline) DEADLINE=$2; shift ;;
    --workers) PASS+=("$1" "$2"); shift ;;
    -h | --help) usage ;;
    *) echo "error: unknown option $1" >&2; usage ;;
  esac
  shift
done
PY=${PYTHON:-python3}
mkdir -p "$OUT_DIR/logs" && OUT_DIR=$(cd "$OUT_DIR" && pwd)
LOGS=$OUT_DIR/logs
rm -f "$OUT_DIR/results.json" "$OUT_DIR/results.md" "$OUT_DIR/logs.tar.gz" \
  "$LOGS/install.json"
export PYTHONUNBUFFERED=1

export_results() {
  [ -n "$EXPORT" ] || return 0
  mkdir -p "$EXPORT"
  for f in results.json results.md logs.tar.gz; do
    [ -f "$OUT_DIR/$f" ] && cp "$OUT_DIR/$f" "$EXPORT/"
  done
  return 0
}
trap export_results EXIT

# install_record STATUS SECONDS WHEELS NOTE COMMAND...: logs/install.json,
# the first part of the results (read by gpu_check.py).
install_record() {
  "$PY" - "$LOGS" "$@" <<'EOF'
import json, sys
logs, status, seconds, wheels, note, *commands = sys.argv[1:]
error = None
if status not in ('ok', 'skipped'):
    with open(f'{logs}/install.log', errors='replace') as f:
        error = ''.join(f.readlines()[-25:])
json.dump(dict(name='install', title='offline install', status=status,
               seconds=float(seconds), budget_s=180, commands=commands,
               log='logs/install.log', metrics=dict(wheels=int(wheels),
               target=note) if status == 'ok' else dict(note=note),
               error=error), open(f'{logs}/install.json', 'w'), indent=1)
EOF
}

if [ $DRY -eq 1 ]; then
  install_record skipped 0 0 'CPU dry run: the current environment'
elif ls "$WHEELHOUSE"/*.whl >/dev/null 2>&1; then
  SITE=$OUT_DIR/site
  start=$SECONDS
  wheels=("$WHEELHOUSE"/*.whl)
  cmd1="$PY -m pip install --no-index --no-deps --no-compile --no-cache-dir --upgrade --target $SITE $WHEELHOUSE/*.whl"
  # dan_mm itself: the check runs the working tree (PYTHONPATH), this proves
  # that the package also builds and installs offline.
  cmd2="$PY -m pip install --no-index --no-deps --no-build-isolation --no-cache-dir --upgrade --target $OUT_DIR/dan_mm_install $REPO"
  status=ok
  {
    echo "\$ $cmd1"
    timeout 150 "$PY" -m pip install --no-index --no-deps --no-compile \
      --no-cache-dir --upgrade --target "$SITE" "${wheels[@]}" || status=failed
    echo "\$ $cmd2"
    timeout 60 "$PY" -m pip install --no-index --no-deps \
      --no-build-isolation --no-cache-dir --upgrade \
      --target "$OUT_DIR/dan_mm_install" "$REPO" || status=failed
  } >"$LOGS/install.log" 2>&1
  export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}
  install_record $status $((SECONDS - start)) ${#wheels[@]} "$SITE" \
    "$cmd1" "$cmd2"
else
  install_record skipped 0 0 "no wheelhouse in $WHEELHOUSE: the installed packages are used"
fi

if [ $DRY -eq 0 ] || [ -n "$DEADLINE" ]; then
  # what the install left of the whole check's time
  PASS+=(--deadline $((${DEADLINE:-480} - SECONDS)))
fi
set +e
"$PY" "$REPO/.ci/gpu/gpu_check.py" "$OUT_DIR" ${PASS[@]+"${PASS[@]}"} 2>&1 |
  tee "$LOGS/driver.log"
rc=${PIPESTATUS[0]}
if [ ! -f "$OUT_DIR/results.json" ]; then
  # The driver did not even start (no usable Python?): say so in both files.
  msg=$(tail -n 20 "$LOGS/driver.log" | sed 's/"/\\"/g' | tr '\n' ' ')
  printf '{"check": "dan_mm GPU check", "status": "failed", "exit_status": %s, "error": "%s", "parts": []}\n' \
    "$rc" "$msg" >"$OUT_DIR/results.json"
  printf '# dan_mm GPU check: failed before any part ran\n\nexit status %s\n\n```\n%s\n```\n' \
    "$rc" "$(tail -n 20 "$LOGS/driver.log")" >"$OUT_DIR/results.md"
  tar -czf "$OUT_DIR/logs.tar.gz" -C "$OUT_DIR" logs 2>/dev/null
  [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
