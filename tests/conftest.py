import contextlib
import io
import logging
import os
import re
import threading
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


class _ErrorRecords:
    """Every record at ERROR or above that any logger hands to its handlers, from any thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.records: list[logging.LogRecord] = []

    def add(self, record: logging.LogRecord) -> None:
        with self.lock:
            self.records.append(record)

    def take(self, since: int = 0, pattern: str | None = None) -> list[logging.LogRecord]:
        """Remove and return the records from index `since` on (only those matching `pattern`, if given)."""
        with self.lock:
            head, tail = self.records[:since], self.records[since:]
            taken = [r for r in tail if pattern is None or re.search(pattern, _line(r))]
            self.records = head + [r for r in tail if r not in taken]
            return taken


def _line(record: logging.LogRecord) -> str:
    return f"{record.levelname} {record.name}: {record.getMessage()}"


_ERRORS = _ErrorRecords()


@pytest.fixture(autouse=True, scope="session")
def _collect_error_logs():
    """Records reach _ERRORS through Logger.callHandlers, which every logger calls for a record that passed its
    level and filters, whatever its handlers and `propagate` (the ingest's run log turns propagation off)."""
    real = logging.Logger.callHandlers

    def call_handlers(self, record):
        if record.levelno >= logging.ERROR:
            _ERRORS.add(record)
        return real(self, record)

    mp = pytest.MonkeyPatch()
    mp.setattr(logging.Logger, "callHandlers", call_handlers)
    yield
    mp.undo()
    left = _ERRORS.take()
    assert not left, "ERROR records logged after the last test: " + "; ".join(_line(r) for r in left)


@contextlib.contextmanager
def expect_log_error(*patterns: str):
    """For a fixture or part of a test: the block must log, for each pattern, an ERROR record it matches
    (re.search on "LEVEL logger: message"); the records matched are then no failure."""
    with _ERRORS.lock:
        start = len(_ERRORS.records)
    yield
    unmatched = [p for p in patterns if not _ERRORS.take(start, p)]
    if unmatched:
        raise AssertionError(f"expected ERROR log records matching {unmatched}; none was logged")


@pytest.fixture(autouse=True)
def _no_unexpected_error_logs(request, _collect_error_logs):
    """Fails the test when anything logs at ERROR or above during it (or during the setup of the fixtures it
    is the first to use), unless the test declares it: `@pytest.mark.expect_log_error("regex", ...)`, each
    pattern matched with re.search against "LEVEL logger: message" and each required to match a record."""
    yield
    patterns = [p for m in request.node.iter_markers("expect_log_error") for p in m.args]
    unmatched = [p for p in patterns if not _ERRORS.take(0, p)]
    unexpected = _ERRORS.take()
    problems = [f"logged unexpectedly: {_line(r)}" for r in unexpected]
    problems += [f"expect_log_error({p!r}) matched no ERROR record" for p in unmatched]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


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
    argv = ["ingest", str(card), "--library", str(lib), "--model", "random-tiny", "--proxies", "h264", "--json"]
    with expect_log_error(r"<img src=x onerror=alert\(1\)>\.mov: failed", r"webcard\d*: failed MHL not written"):
        assert main(argv) == 1
    return lib


def cli(*argv: str) -> tuple[int, str, str]:
    """Run the dailies CLI in-process; (exit code, stdout, stderr)."""
    from pipeline.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()
