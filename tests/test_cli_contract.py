"""The CLI's contract (issue 2): exit codes 0/1/2, where the library is, progress bars only on a
terminal and never with --json, the device logged once, a closed pipe, and keyframes per shot."""

import fcntl
import json
import os
import pty
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest
from conftest import cli

from pipeline.cli import main
from pipeline.config import KeyframeSettings
from pipeline.keyframes import keyframe_targets
from pipeline.media.synth import make_cuts_clip

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def one_clip(tmp_path_factory) -> Path:
    card = tmp_path_factory.mktemp("one")
    make_cuts_clip(card / "B001C001.mov", [20, 250], "25", timecode="10:00:00:00")
    return card


# -- exit code 2: usage errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv,message",
    [
        (["search"], "give a text query or --image FILE"),
        (["search", "dusk", "--image", "x.jpg"], "give a text query or --image FILE"),
        (["search", "dusk", "--limit", "0"], "--limit 0: give the number of shots"),
        (["search", "dusk", "--limit", "-3"], "--limit -3"),
        (["ingest", "/no/such/card"], "input path(s) not found: /no/such/card"),
        (["models", "--config", "/no/such.toml"], "--config /no/such.toml: file not found"),
        (["models", "fetch"], "give a preset name"),
    ],
)
def test_usage_errors_exit_2_with_the_reason(tmp_path, argv, message):
    code, out, err = cli(*argv, "--library", str(tmp_path / "lib"))
    assert code == 2, (out, err)
    assert err.startswith("dailies: error: ") and message in err
    assert out == ""


def test_shots_on_a_folder_is_a_usage_error(one_clip):
    code, _, err = cli("shots", str(one_clip))
    assert code == 2 and str(one_clip) in err and "takes one file" in err


def test_argparse_errors_exit_2(capsys):
    for argv in (["bogus"], ["ingest"], ["ingest", "x", "--device", "tpu"], ["search", "x", "--limit", "many"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2, argv
        assert "usage: dailies" in capsys.readouterr().err


# -- where the library is --------------------------------------------------------------------------


def test_library_from_env_then_default_folder(one_clip, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAILIES_LIBRARY", str(tmp_path / "from-env"))
    code, out, _ = cli("ingest", str(one_clip), "--no-embed", "--no-mhl", "--json")
    assert code == 0 and json.loads(out)["summary"]["ok"] == 1
    assert (tmp_path / "from-env" / "catalog.sqlite").is_file()
    assert not (tmp_path / "dailies-library").exists()
    code, out, _ = cli("clips", "--json")
    assert code == 0 and json.loads(out)["library"] == str(tmp_path / "from-env")
    code, _, err = cli("clips", "--library", str(tmp_path / "elsewhere"))  # the flag wins over the env
    assert code == 1 and "no Dailies library at" in err and "elsewhere" in err

    monkeypatch.delenv("DAILIES_LIBRARY")
    code, _, err = cli("clips")
    assert code == 1 and str(tmp_path / "dailies-library") in err and "run `dailies ingest` first" in err
    assert cli("ingest", str(one_clip), "--no-embed", "--no-mhl")[0] == 0
    assert (tmp_path / "dailies-library" / "catalog.sqlite").is_file()


# -- keyframes: at least one per shot, more for long shots, JPEG files ----------------------------


def test_keyframes_one_per_shot_more_for_long_shots(one_clip, tmp_path):
    lib = tmp_path / "lib"
    assert cli("ingest", str(one_clip), "--library", str(lib), "--no-embed", "--no-mhl")[0] == 0
    conn = sqlite3.connect(lib / "catalog.sqlite")
    shots = conn.execute("SELECT id, start_frame, end_frame FROM shots ORDER BY start_frame").fetchall()
    assert [(s, e) for _, s, e in shots] == [(0, 19), (20, 269)]
    per_shot = []
    for shot_id, start, end in shots:
        rows = conn.execute(
            "SELECT frame, thumb FROM keyframes WHERE shot_id = ? ORDER BY frame", (shot_id,)
        ).fetchall()
        per_shot.append([f for f, _ in rows])
        for frame, thumb in rows:
            assert start <= frame <= end
            assert (lib / thumb).read_bytes()[:3] == b"\xff\xd8\xff", thumb  # a JPEG
    # 0.8 s -> 1 keyframe; 10 s at one per 4 s -> 3, each in the middle of its third of the shot
    assert len(per_shot[0]) == 1 and len(per_shot[1]) == 3
    assert all(abs(f - t) <= 2 for f, t in zip(per_shot[1], [61, 145, 228], strict=True)), per_shot[1]


def test_keyframe_count_is_capped_and_never_zero():
    s = KeyframeSettings(seconds_per_keyframe=4.0, max_per_shot=8)
    assert keyframe_targets(0, 0, 25, s) == [0]  # a one-frame shot still has its keyframe
    assert len(keyframe_targets(0, 24 * 60 * 25, 25, s)) == 8  # a 24-minute take: max_per_shot
    assert keyframe_targets(100, 199, 25, s) == [150]


# -- progress bars: on a terminal only, never with --json; the device is logged once --------------


def _dailies(argv, terminal: bool) -> tuple[int, str, str]:
    """Run `dailies` in a new process, stderr on a pseudo-terminal or a pipe; (code, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "pipeline.cli", *argv]
    if not terminal:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=120)
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a terminal 120 columns wide
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []

    def drain():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    out = proc.stdout.read().decode()
    code = proc.wait(timeout=120)
    reader.join(timeout=10)
    os.close(master)
    return code, out, b"".join(chunks).decode(errors="replace")


def test_progress_bars_only_on_a_terminal_and_never_with_json(footage, one_clip, tmp_path):
    base = ["ingest", str(one_clip), "--no-mhl", "--no-embed"]
    code, out, err = _dailies([*base, "--library", str(tmp_path / "a")], terminal=True)
    assert code == 0, err
    assert "files: 100%" in err and "B001C001.mov:" in err and "\r" in err  # tqdm's bars, redrawn in place
    assert "1 clip(s) ingested" in out

    code, out, err = _dailies([*base, "--library", str(tmp_path / "b"), "--json"], terminal=True)
    assert code == 0, err
    assert "files:" not in err and "%|" not in err and "\r" not in err.replace("\r\n", "\n")
    assert json.loads(out)["summary"]["ok"] == 1  # stdout is nothing but the JSON

    code, out, err = _dailies(
        ["ingest", str(footage), "--no-mhl", "--model", "random-tiny", "--library", str(tmp_path / "c")], terminal=False
    )
    assert code == 0, err
    assert "files:" not in err and "%|" not in err and "\r" not in err
    assert "3 clip(s) ingested" in out
    # the device is logged once per run, not per clip or per batch of keyframes
    assert len([line for line in err.splitlines() if line.startswith("embedding on ")]) == 1, err


def test_a_closed_pipe_is_no_traceback(one_clip, tmp_path):
    """`dailies clips --json | head -1`: the reader leaves early; a short message, exit 1, no traceback."""
    lib = tmp_path / "lib"
    assert cli("ingest", str(one_clip), "--library", str(lib), "--no-embed", "--no-mhl")[0] == 0
    r, w = os.pipe()
    os.close(r)  # nobody reads: the first write fails
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    p = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "clips", "--json", "--library", str(lib)],
        stdin=subprocess.DEVNULL,
        stdout=w,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=60,
    )
    os.close(w)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr and "output cut short" in p.stderr


def test_shots_draws_a_frame_bar_on_a_terminal_only(one_clip):
    clip = str(one_clip / "B001C001.mov")
    code, out, err = _dailies(["shots", clip], terminal=True)
    assert code == 0 and "B001C001.mov:" in err and "frame/s" in err and "2 shot(s)" in out
    code, out, err = _dailies(["shots", clip, "--json"], terminal=True)
    assert code == 0 and "frame" not in err and json.loads(out)["cuts"] == [20]
    code, out, err = _dailies(["shots", clip], terminal=False)
    assert code == 0 and "frame/s" not in err and "\r" not in err
