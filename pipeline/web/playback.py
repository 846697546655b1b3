"""What a browser can play: a clip's H.264 review proxy when one was made, else the source when its
codec and pixel format are ones browsers decode (the shot page's player, `/media/clip/ID`)."""

from __future__ import annotations

from pathlib import Path

BROWSER_PROXY = "h264"  # configs/transcode/h264.toml: H.264 MP4 made for review; preferred over the source
BROWSER_CODECS = {"h264", "vp8", "vp9", "av1"}
BROWSER_PIX_FMTS = {"yuv420p", "yuvj420p", ""}


def browser_proxy(state, clip_id: int) -> Path | None:
    """The clip's H.264 review proxy when one was made (`dailies ingest --proxies h264`) and is in the library."""
    for row in state.reader().proxies(clip_id):
        if row["preset"] == BROWSER_PROXY:
            path = (state.root / row["path"]).resolve()
            if path.is_relative_to(state.root) and path.is_file():
                return path
    return None


def playability(probe: dict | None) -> tuple[bool, str]:
    """Whether a browser can play the source, and if not, why (shown instead of the player)."""
    if not probe:
        return False, "the clip has not been probed"
    codec, pix = probe.get("codec", ""), probe.get("pix_fmt", "")
    if codec not in BROWSER_CODECS:
        return False, (
            f"browsers cannot play {codec or 'this'} video; make an H.264 proxy to review it here "
            f"(`dailies ingest CARD --proxies h264`)"
        )
    if pix not in BROWSER_PIX_FMTS:
        return False, f"browsers cannot play {codec} in {pix}; make an H.264 proxy of the clip to review it here"
    return True, ""
