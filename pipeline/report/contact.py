"""Contact sheet of one clip: its keyframes in a grid, each labelled with its source timecode."""

from __future__ import annotations

import logging
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger("dailies.report")

TILE_W = 320
COLUMNS = 4


def _font(path: str, size: int):
    if Path(path).is_file():
        return ImageFont.truetype(path, size)
    log.warning("font %s not found (install fonts-dejavu-core); contact sheets use Pillow's built-in font", path)
    return ImageFont.load_default(size)


def contact_sheet(record: dict, out: Path, font_path: str, quality: int = 85) -> Path | None:
    """Write `out` (JPEG) for a clip record (report/data.py); None when the clip has no keyframes."""
    kfs = record["keyframes"]
    if not kfs:
        return None
    with Image.open(kfs[0]["thumb"]) as im:
        w, h = im.size
    tile_h = max(1, round(TILE_W * h / w))
    label_h, head_h, pad = 22, 40, 6
    cols = COLUMNS  # fixed width: the title line always fits
    rows = (len(kfs) + cols - 1) // cols
    sheet = Image.new(
        "RGB", (pad + cols * (TILE_W + pad), head_h + rows * (tile_h + label_h + pad) + pad), (24, 24, 24)
    )
    draw = ImageDraw.Draw(sheet)
    big, small = _font(font_path, 18), _font(font_path, 14)
    tc = record["source_tc"]
    title = f"{record['name']}   reel {record['reel'] or '-'}   " + (
        f"{tc['start']} - {tc['end']}" if tc else "no source TC"
    )
    draw.text((pad, 10), title + f"   {record['shots']} shot(s)", fill=(240, 240, 240), font=big)
    for i, kf in enumerate(kfs):
        x = pad + (i % cols) * (TILE_W + pad)
        y = head_h + (i // cols) * (tile_h + label_h + pad)
        with Image.open(kf["thumb"]) as im:
            sheet.paste(im.convert("RGB").resize((TILE_W, tile_h)), (x, y))
        draw.text((x, y + tile_h + 3), f"shot {kf['shot'] + 1}  {kf['tc'] or ''}", fill=(200, 200, 200), font=small)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    sheet.save(tmp, "JPEG", quality=quality)
    tmp.replace(out)
    return out
