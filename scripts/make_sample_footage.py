"""Generate a small 'camera card' of lavfi clips with known cuts: scripts/make_sample_footage.py DIR."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.media.synth import make_cuts_clip  # noqa: E402


def main(out: str) -> None:
    card = Path(out) / "A001"
    card.mkdir(parents=True, exist_ok=True)
    specs = [
        ("A001C001_261126_R1AB.mov", [48, 36, 60], "24000/1001", "01:00:00:00"),
        ("A001C002_261126_R1AB.mov", [72, 40], "24000/1001", "01:02:10:00"),
        ("A001C003_261126_R1AB.mov", [30, 30, 30, 30], "25", "02:00:00:00"),
    ]
    for name, lengths, rate, tc in specs:
        make_cuts_clip(card / name, lengths, rate, size=(640, 360), timecode=tc)
        print(card / name)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sample-footage")
