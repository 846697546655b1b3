#!/usr/bin/env bash
# GPU check for a lent H100/H200 (see /work/.library/device/README.md). NOT YET RUN ON A GPU.
#
# Two steps:
#   1. here, on a connected machine:   scripts/device_check.sh prepare
#      downloads the pure-Python wheels the GPU machine lacks into .whl/ (ignored by git, ~1.6 MB):
#      open_clip_torch, ftfy, wcwidth. PyTorch, torchvision, timm, numpy, pillow, pytest and
#      pytest-timeout are already in the device image (its torch 2.11, not our pinned 2.14.1).
#   2. the device call:  run(command="scripts/device_check.sh", carry=[".whl"], timeout_s=420)
#      installs the wheels into /tmp/site, then, each step time-boxed, writes to $OUT:
#        env.txt           nvidia-smi, torch/CUDA versions
#        pytest.txt        tests/test_gpu_embed.py, GPU tests included (-m "gpu or not gpu")
#        bench_*.json      scripts/bench_embed.py: random-tiny, ViT-B-32 and ViT-L-14 (random init:
#                          the architectures' speed; no weights travel), fp16, on CUDA
#        summary.txt       stage/raw ratio per model against the goal (>= 0.60)
# No ffmpeg is needed: these checks embed decoded frames and JPEGs, they do not decode video (the
# device has no ffmpeg binary; ingest tests stay on the CPU machines).
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=(open_clip_torch==3.3.0 ftfy==6.3.1 wcwidth==0.9.4)

if [[ "${1:-}" == "prepare" ]]; then
    mkdir -p .whl
    PY=${PYTHON:-python3}
    "$PY" -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl "${WHEELS[@]}" || exit 1
    ls -la .whl
    echo 'now: run(command="scripts/device_check.sh", carry=[".whl"], timeout_s=420)'
    exit 0
fi

OUT=${OUT:-$PWD/device-out}
SITE=${SITE:-/tmp/site}
mkdir -p "$OUT"
if ! ls .whl/*.whl >/dev/null 2>&1; then
    echo "no wheels in .whl/: run 'scripts/device_check.sh prepare' on a connected machine and carry .whl" | tee "$OUT/summary.txt"
    exit 2
fi
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl || exit 3
export PYTHONPATH="$PWD:$SITE" HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
export HF_HOME=/tmp/hf-home  # no weights: every model here is random-init

{
    nvidia-smi
    python3 -c 'import torch, open_clip; print("torch", torch.__version__, "cuda", torch.version.cuda,
"available", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-");
print("open_clip", open_clip.__version__)'
    nproc
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

timeout 150 python3 -m pytest -q -p no:cacheprovider -m "gpu or not gpu" -rs tests/test_gpu_embed.py \
    >"$OUT/pytest.txt" 2>&1
echo "pytest exit $?" >>"$OUT/pytest.txt"
tail -5 "$OUT/pytest.txt"

bench() {  # name, args...
    local name=$1; shift
    timeout 120 python3 scripts/bench_embed.py --device cuda --json "$@" >"$OUT/bench_$name.json" 2>"$OUT/bench_$name.err"
    echo "bench $name exit $?"
}
bench random-tiny --model random-tiny
bench vit-b-32 --arch ViT-B-32
bench vit-l-14 --arch ViT-L-14 --batches 10

python3 - "$OUT" <<'EOF' | tee "$OUT/summary.txt"
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
for f in sorted(out.glob("bench_*.json")):
    try:
        d = json.loads(f.read_text())
    except ValueError:
        print(f"{f.name}: no result (see {f.with_suffix('.err').name})")
        continue
    ok = "meets" if d["stage_vs_raw"] >= 0.60 else "BELOW"
    print(f"{d['model']:24s} {d['gpu']} {d['precision']} batch {d['batch']}: raw {d['raw_images_per_s']:.0f} img/s, "
          f"stage {d['stage_frames_per_s']:.0f} fr/s ({100 * d['stage_vs_raw']:.0f}% of raw, {ok} the 60% goal), "
          f"from JPEGs {d.get('jpeg_frames_per_s', 0):.0f} fr/s")
EOF
