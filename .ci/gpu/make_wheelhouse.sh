#!/usr/bin/env bash
# Make the wheelhouse for an offline GPU machine (docs/gpu.md): the pure
# Python wheels of requirements/wheelhouse.txt (mmengine, mmcv-lite,
# mmpretrain and their small dependencies; no torch, no OpenCV), for
# CPython 3.12 on Linux x86_64. Run it where PyPI is reachable; then
# gpu_check.sh (next to this script) installs DIR with --no-index --no-deps.
#
#   bash .ci/gpu/make_wheelhouse.sh DIR [--check-only]
#
# After downloading it checks the wheelhouse (check_wheelhouse.py next to it:
# tags, one version each, dependencies, under 20 MB) and installs it offline
# (--no-index --no-deps) into a fresh venv that sees this Python's packages,
# torch included (.ci/overlay_venv.py, also from inside a venv), where it
# imports and builds DAN; with Python 3.12 at hand it also installs and
# byte-compiles it there. --check-only skips the download (no network).
#   PYTHON=...   the interpreter with torch (default: python3)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 1 ] && [ "${1#-}" = "$1" ] || {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}
DIR=$1
CHECK_ONLY=0
[ "${2:-}" = "--check-only" ] && CHECK_ONLY=1
PY=${PYTHON:-python3}
PYVER=3.12

if [ $CHECK_ONLY -eq 0 ]; then
  mkdir -p "$DIR"
  rm -f "$DIR"/*.whl
  grep -v '^\s*#' "$REPO/requirements/wheelhouse.txt" | sed 's/#.*//' |
    while read -r req; do
      [ -n "$req" ] || continue
      if ! "$PY" -m pip download -q --no-deps --only-binary=:all: \
        --python-version $PYVER --implementation cp \
        --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux_2_28_x86_64 -d "$DIR" "$req"; then
        # No wheel on the index: build one from the sdist (a pure Python
        # package gives a py3-none-any wheel; the check refuses others).
        echo "no wheel for $req: building it from the sdist"
        "$PY" -m pip wheel -q --no-deps --no-binary=:all: -w "$DIR" "$req"
      fi
    done
fi

"$PY" "$REPO/.ci/gpu/check_wheelhouse.py" "$DIR" --python-version $PYVER

# Offline install into a fresh venv that already has torch.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# (not --system-site-packages: from inside a venv that would see the base
# interpreter's packages, without torch)
"$PY" "$REPO/.ci/overlay_venv.py" "$TMP/venv"
VPY=$TMP/venv/bin/python
# --ignore-installed: into the venv, although the system has these too
"$VPY" -m pip install -q --no-index --no-deps --ignore-installed \
  --no-cache-dir "$DIR"/*.whl
(cd "$TMP" && PYTHONPATH=$REPO "$VPY" - "$TMP/venv" "$REPO" <<'EOF'
import os.path as osp
import sys
venv, repo = sys.argv[1:]
import torch
import mmcv, mmengine, mmpretrain, pkg_resources
for module in (mmcv, mmengine, mmpretrain, pkg_resources):
    assert module.__file__.startswith(venv), module.__file__
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmengine.registry import init_default_scope
import dan_mm  # noqa: F401
init_default_scope('mmpretrain')
cfg = Config.fromfile(osp.join(repo, 'configs', 'dan_r18_rafdb.py'))
model = MODELS.build(cfg.model)
out = model(torch.randn(2, 3, 64, 64), mode='tensor')
assert out.shape == (2, 7)
print(f'offline install: ok in a fresh venv with torch {torch.__version__} '
      f'(Python {sys.version.split()[0]}): mmengine {mmengine.__version__}, '
      f'mmcv {mmcv.__version__}, mmpretrain {mmpretrain.__version__}, '
      'DAN builds and runs')
EOF
)

# The target Python, if this machine has it: install and byte-compile.
PY312=
if python$PYVER -c '' 2>/dev/null; then
  PY312=python$PYVER
else
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/$PYVER*/bin/python$PYVER; do
    [ -x "$p" ] && PY312=$p && break
  done
fi
if [ -n "$PY312" ]; then
  "$PY312" -m pip install -q --no-index --no-deps --no-compile \
    --target "$TMP/py312" "$DIR"/*.whl
  "$PY312" -m compileall -q "$TMP/py312" >/dev/null
  echo "Python $PYVER ($PY312): installs offline and byte-compiles"
else
  echo "Python $PYVER not found here: not installed under it"
fi
du -sh "$DIR" | awk '{print "wheelhouse: " $1 " in " $2}'
