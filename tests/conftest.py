import contextlib
import io
import os
from pathlib import Path

import pytest

from pipeline.media.synth import make_cuts_clip

SHARED_MEDIA = Path(os.environ.get("DAILIES_SHARED_MEDIA", Path(__file__).resolve().parents[2] / "shared" / "media"))


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path_factory):
    """Tests never reach the network and never see the user's model cache."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.getbasetemp() / "hf-home"))
    monkeypatch.delenv("DAILIES_ALLOW_DOWNLOAD", raising=False)
    monkeypatch.delenv("DAILIES_LIBRARY", raising=False)


def shared(rel: str) -> Path:
    p = SHARED_MEDIA / rel
    if not p.exists():
        pytest.skip(f"{p} not present (../shared/media is not on this machine)")
    return p


@pytest.fixture(scope="session")
def footage(tmp_path_factory) -> Path:
    """A small card: three generated clips with known cuts."""
    card = tmp_path_factory.mktemp("card")
    make_cuts_clip(card / "A001C001.mov", [30, 25, 40], "24000/1001", timecode="01:00:00:00")
    make_cuts_clip(card / "A001C002.mov", [45, 35], "25")
    make_cuts_clip(card / "A001C003.mov", [20, 30, 20, 30], "30000/1001", timecode="02:00:00;00")
    return card


@pytest.fixture(autouse=True, scope="session")
def _no_shell():
    """No subprocess is ever given a shell: any attempt fails the test that made it (whole session)."""
    import subprocess

    real_init = subprocess.Popen.__init__

    def guarded(self, args, *rest, **kwargs):
        shell = kwargs.get("shell", rest[7] if len(rest) > 7 else False)
        if shell or isinstance(args, (str, bytes)):
            raise AssertionError(f"subprocess started through a shell or from a string: {args!r}")
        return real_init(self, args, *rest, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError(f"os.system/os.popen runs a shell: {args!r}")

    mp = pytest.MonkeyPatch()
    mp.setattr(subprocess.Popen, "__init__", guarded)
    mp.setattr(os, "system", refuse)
    mp.setattr(os, "popen", refuse)
    yield
    mp.undo()


@pytest.fixture(scope="session")
def web_library(footage, tmp_path_factory) -> Path:
    """A library for the web tests: the three generated clips (several keyframes per shot, so hover
    scrubbing has frames to show, and H.264 review proxies) plus an unreadable file whose name is an
    XSS payload."""
    from pipeline.cli import main

    card = tmp_path_factory.mktemp("webcard")
    for clip in sorted(footage.iterdir()):
        (card / clip.name).symlink_to(clip)
    (card / "<img src=x onerror=alert(1)>.mov").write_text("not a video\n" * 10)
    lib = tmp_path_factory.mktemp("weblib")
    (lib / "dailies.toml").write_text("[keyframes]\nseconds_per_keyframe = 0.4\n")
    assert (
        main(["ingest", str(card), "--library", str(lib), "--model", "random-tiny", "--proxies", "h264", "--json"]) == 1
    )
    return lib


def cli(*argv: str) -> tuple[int, str, str]:
    """Run the dailies CLI in-process; (exit code, stdout, stderr)."""
    from pipeline.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()
