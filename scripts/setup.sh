#!/usr/bin/env bash
# Set up Dailies on a fresh machine: system tools (ffmpeg/ffprobe, a font for burn-ins) and a
# virtualenv in .venv with the project installed (editable) and its test tools.
# Usage: scripts/setup.sh            (idempotent: a second run only checks)
#        scripts/setup.sh --tests    (also Debian's chromium, which the web UI's browser tests drive;
#                                     scripts/test.sh passes it. Playwright never downloads a browser.)
set -euo pipefail
for_tests=0
[ "${1:-}" = "--tests" ] && for_tests=1
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

need_apt=()
command -v ffprobe >/dev/null 2>&1 || need_apt+=(ffmpeg)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
[ "$for_tests" = 1 ] && [ ! -x /usr/bin/chromium ] && need_apt+=(chromium)
# Haar cascade files for face tags (the OpenCV 5 wheels ship none): pipeline/editorial/faces.py
[ -e /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml ] || need_apt+=(opencv-data)
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${need_apt[*]} from Debian" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: ${need_apt[*]} missing and apt-get is not usable here; ffmpeg will come from the" >&2
    echo "       imageio-ffmpeg wheel (no ffprobe in it: install ffmpeg to probe sources)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# torch/torchvision are pinned in pyproject.toml to the releases that pip finds on local disk here.
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" 2>&1 \
  | grep -v "^WARNING: Location .* is ignored" || true
.venv/bin/python -c "import pipeline, models, open_clip, faiss, scenedetect" \
  || { echo "setup: the Python environment is incomplete; see the pip output above" >&2; exit 1; }
# ascmhl (ASC MHL manifests) lives in its own small venv: it pins click 8.1, which huggingface_hub 2.x
# (pulled in by open_clip) refuses. Dailies runs it as a command (pipeline/ingest/verify.py finds .venv-mhl).
if [ ! -x .venv-mhl/bin/ascmhl ]; then
  "$PY" -m venv .venv-mhl
  .venv-mhl/bin/python -m pip install -q --disable-pip-version-check "ascmhl>=1.2,<2" 2>&1 \
    | grep -v "^WARNING: Location .* is ignored" || true
fi
.venv-mhl/bin/ascmhl --version >/dev/null \
  || { echo "setup: ascmhl did not install into .venv-mhl; see the pip output above" >&2; exit 1; }
if ! command -v ffmpeg >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q "imageio-ffmpeg>=0.5"
fi
echo "setup: ready (.venv)" >&2
