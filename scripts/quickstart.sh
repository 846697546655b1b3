#!/usr/bin/env bash
# Set up, ingest sample footage into ./dailies-library, and show search results.
# Footage: ../shared/media when it is there (real clips), else clips generated with ffmpeg.
# Model: the default CLIP preset when its weights are on this machine; otherwise the run says so
# and uses random-tiny, which exercises every stage but has no idea what is in a picture.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
D=.venv/bin/dailies
export DAILIES_LIBRARY=${DAILIES_LIBRARY:-./dailies-library}

footage=${1:-}
extra=()
if [ -z "$footage" ]; then
  if [ -d ../shared/media ]; then
    footage=../shared/media
    extra=(--no-mhl)   # reference clips, not our camera card: write no ASC MHL history into that folder
  else
    footage=sample-footage
    .venv/bin/python scripts/make_sample_footage.py "$footage"
  fi
fi

model=${DAILIES_MODEL:-vit-b-32}
if ! $D models --json | .venv/bin/python -c "import json,sys; m=sys.argv[1]; sys.exit(0 if any(p['name']==m and p['usable'] for p in json.load(sys.stdin)['presets']) else 1)" "$model"; then
  echo "quickstart: CLIP weights for '$model' are not on this machine (see docs/setup.md: Real CLIP weights)." >&2
  echo "quickstart: running with 'random-tiny' instead: every stage runs, but its scores are NOT semantic." >&2
  model=random-tiny
fi

set +e
$D ingest "$footage" --model "$model" "${extra[@]}"
code=$?
set -e
[ $code -le 1 ] || exit $code   # 1 = some files failed (listed above); the rest is searchable

echo; echo "== dailies search \"two people talking in a room\" --limit 5"
$D search "two people talking in a room" --limit 5
thumb=$($D search "any" --limit 1 --json | .venv/bin/python -c "import json,sys; print(json.load(sys.stdin)['hits'][0]['thumbnail'])")
echo; echo "== dailies search --image $thumb --limit 5   (a keyframe of the library finds its own shot first)"
$D search --image "$thumb" --limit 5
