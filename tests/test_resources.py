"""Resources: a full disk under the library (thumbnails, catalog writes) gives one clear error, corrupts
nothing, and the same command finishes the job once there is space again; memory stays flat on a
30-minute clip."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli

from pipeline.catalog import open_catalog
from pipeline.media.ffmpeg import ffmpeg_bin
from pipeline.media.synth import make_cuts_clip

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # full disks and a long generated clip


@contextlib.contextmanager
def tmpfs(where: Path, size: str):
    """A small file system of its own at `where` (root only; skipped where mounting is not allowed)."""
    where.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            check=True,
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a small tmpfs to fill up ({exc}); needs root with CAP_SYS_ADMIN")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=10)


def remount(where: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(where)], check=True, capture_output=True, timeout=10)


@pytest.fixture(scope="module")
def card(tmp_path_factory) -> Path:
    card = tmp_path_factory.mktemp("full-card")
    for i in range(4):
        make_cuts_clip(card / f"F001C{i:03d}.mov", [20, 20, 20, 20, 20, 20], "25", size=(320, 180))
    return card


def assert_consistent(lib: Path) -> dict[str, str]:
    conn = sqlite3.connect(lib / "catalog.sqlite")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for cid, status in conn.execute("SELECT id, status FROM clips"):
            analyze = conn.execute(
                "SELECT status FROM stage_runs WHERE clip_id = ? AND stage = 'analyze'", (cid,)
            ).fetchone()
            shots = conn.execute("SELECT count(*) FROM shots WHERE clip_id = ?", (cid,)).fetchone()[0]
            assert (shots > 0) == bool(analyze and analyze[0] == "done")  # all of an analysis, or none of it
            assert status != "ok" or (analyze and analyze[0] == "done")
        for (thumb,) in conn.execute("SELECT thumb FROM keyframes"):
            assert (lib / thumb).stat().st_size > 0, thumb  # every keyframe row has its whole JPEG
        return {Path(p).name: s for p, s in conn.execute("SELECT path, status FROM clips")}
    finally:
        conn.close()


def test_disk_full_during_thumbnails_then_resume(card, tmp_path):
    lib = tmp_path / "lib"
    with tmpfs(lib / "thumbs", "200k"):  # room for the keyframes of a clip or two, not four
        code, out, err = cli("ingest", str(card), "--library", str(lib), "--no-embed", "--workers", "1")
        assert code == 1
        assert "dailies: error: the library's disk is full" in err and "No space left on device" in err
        assert "free some space and run the same command again" in err and "Traceback" not in err
        before = assert_consistent(lib)
        assert "ok" in before.values() and list(before.values()).count("ok") < 4  # it stopped part-way
        assert not list((lib / "thumbs").rglob("*.tmp"))  # no half-written JPEG left behind
        remount(lib / "thumbs", "8m")  # space is back
        code, out, err = cli("ingest", str(card), "--library", str(lib), "--no-embed")
        assert code == 0, err
        assert set(assert_consistent(lib).values()) == {"ok"}


def test_disk_full_during_catalog_writes_then_resume(card, tmp_path):
    """The catalog's disk fills up mid-run (thumbnails live on a roomy disk of their own here, so the
    catalog is what hits the wall), and, worse, with no room at all to open it."""
    lib = tmp_path / "lib"
    with tmpfs(lib, "2m"), tmpfs(lib / "thumbs", "8m"):
        open_catalog(lib).close()  # an existing library on a disk with little room left
        free = os.statvfs(lib).f_bavail * os.statvfs(lib).f_frsize
        (lib / "filler").write_bytes(b"\0" * (free - 96 * 1024))
        code, out, err = cli("ingest", str(card), "--library", str(lib), "--no-embed")
        assert code == 1
        assert "dailies: error: the library's disk is full" in err and "Traceback" not in err
        assert "free some space and run the same command again" in err
        assert "database or disk is full" in err  # a write failed mid-run, not the open
        print("\n" + err.strip())
        assert_consistent(lib)
        with open(lib / "filler", "ab") as fh:  # now not even room to open the catalog
            fh.write(b"\0" * (os.statvfs(lib).f_bavail * os.statvfs(lib).f_frsize))
        code, out, err = cli("ingest", str(card), "--library", str(lib), "--no-embed")
        assert code == 1 and "dailies: error: the library's disk is full" in err, err
        (lib / "filler").unlink()  # space is back
        code, out, err = cli("ingest", str(card), "--library", str(lib), "--no-embed")
        assert code == 0, err
        assert set(assert_consistent(lib).values()) == {"ok"}


# `dailies ingest` in a child that writes its own peak RSS on the way out: VmHWM, the high-water mark of
# its own address space. Not ru_maxrss: a process started by vfork+exec inherits the spawner's high-water
# mark there (the kernel carries the old mm's peak over the exec), so from inside pytest it would report
# pytest's size (~190 MB late in a suite run) and hide any growth under it.
_MEASURED = (
    "import sys\n"
    "from pipeline.cli import main\n"
    "code = main(sys.argv[2:])\n"
    "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]\n"
    "open(sys.argv[1], 'w').write(hwm)\n"
    "sys.exit(code)\n"
)


def _peak_rss_mb(argv: list[str], out: Path) -> float:
    """Peak resident memory of the `dailies ARGV` process, in MB (VmHWM, kB, from the kernel)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(out), *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return int(out.read_text()) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="VmHWM needs Linux's /proc")
def test_memory_stays_flat_on_a_30_minute_clip(tmp_path):
    """18,000 frames (30 min at 10 fps, 64x36) against 600 (1 min): the peak RSS of the ingest process
    (decode, shot detection, keyframes, catalog) may not grow with the length of the clip."""
    sizes = {}
    for minutes in (1, 30):
        (tmp_path / f"card{minutes}").mkdir()  # a card folder of its own, apart from the libraries
        clip = tmp_path / f"card{minutes}" / f"long_{minutes}min.mp4"
        subprocess.run(
            [
                ffmpeg_bin(),
                "-nostdin",
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=s=64x36:r=10:d={minutes * 60}",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-g",
                "250",
                str(clip),
            ],
            check=True,
            timeout=300,
        )
        sizes[minutes] = _peak_rss_mb(
            ["ingest", str(clip), "--library", str(tmp_path / f"lib{minutes}"), "--no-embed", "--json"],
            tmp_path / f"rss{minutes}",
        )
    conn = sqlite3.connect(tmp_path / "lib30" / "catalog.sqlite")
    assert conn.execute("SELECT frame_count FROM clips").fetchone()[0] == 18_000
    print(
        f"\npeak RSS (VmHWM) of `dailies ingest --no-embed`: 1-min clip {sizes[1]:.1f} MB, 30-min clip "
        f"{sizes[30]:.1f} MB (+{sizes[30] - sizes[1]:.1f} MB for 30x the frames)"
    )
    assert 30 < sizes[1] < 1000  # a real Python process's size, not a figure inherited from elsewhere
    assert sizes[30] - sizes[1] < 25, sizes


def test_disk_full_during_proxies_then_resume(card, tmp_path):
    lib = tmp_path / "lib"
    with tmpfs(lib / "proxies", "300k"):  # room for a proxy or two, not four
        code, out, err = cli(
            "ingest", str(card), "--library", str(lib), "--no-embed", "--no-mhl", "--proxies", "h264", "--workers", "1"
        )
        assert code == 1, err
        assert "dailies: error: the library's disk is full" in err and "No space left on device" in err
        assert "free some space and run the same command again" in err and "Traceback" not in err
        assert_consistent(lib)
        conn = sqlite3.connect(lib / "catalog.sqlite")
        rows = conn.execute("SELECT path, bytes FROM proxies").fetchall()
        conn.close()
        assert len(rows) < 4
        for rel, size in rows:  # a proxy the catalog lists is whole
            assert (lib / rel).stat().st_size == size
        assert not list((lib / "proxies").rglob("*.part"))  # no partial proxy left behind
        remount(lib / "proxies", "64m")
        code, out, err = cli("ingest", str(card), "--library", str(lib), "--no-embed", "--no-mhl", "--proxies", "h264")
        assert code == 0, err
        assert set(assert_consistent(lib).values()) == {"ok"}
        conn = sqlite3.connect(lib / "catalog.sqlite")
        assert conn.execute("SELECT count(*) FROM proxies").fetchone()[0] == 4
        conn.close()
