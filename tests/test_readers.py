"""Readers never write: every GET of the web app, the server's start and every read command of the CLI
leave the catalog unchanged and start no process (ffmpeg and ffprobe included).

How "unchanged" is checked, WAL in mind. Before each case the catalog is put back to the state the
library was built with (catalog.sqlite only, no -wal/-shm). A watcher connection then stays open for
the whole case, so no other connection's close can checkpoint the WAL into the main file. The case
leaves the catalog unchanged when, from before to after:
  * the watcher's `PRAGMA data_version` is the same: any commit by another connection changes it,
    even one that rewrites a row with its own values;
  * a dump of the content (every table and the schema, `iterdump`) and `user_version` are the same;
  * the bytes of catalog.sqlite and catalog.sqlite-wal are the same (a commit appends WAL frames);
  * no other file or folder of the library appeared, vanished or changed (size, mtime): no index
    saved, no lock taken, no report written.
catalog.sqlite-shm is not compared: it is SQLite's shared-memory index of the WAL, where every reader
writes its read mark; it holds no data.

A process is anything started through `subprocess.Popen` (which `subprocess.run` and the ffmpeg runner
of pipeline/media use); a reader starts none.
"""

import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import cli
from fastapi.testclient import TestClient

from pipeline.config import load_settings
from pipeline.export import EXPORTERS
from pipeline.media.synth import make_cuts_clip
from pipeline.web.app import create_app

BASE = "http://127.0.0.1:8765"
CLIPS = {  # camera roll, scene and take from the name (the takes-from-names stage); shot lengths in frames
    "A001C001_12A_T1.mov": [20, 25],
    "A001C002_12A_T2.mov": [25, 20],
    "A001C003_7_T1.mov": [30, 15],
}
CATALOG = "catalog.sqlite"


# -- the library, built once -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """Three clips of two scenes at one rate (so every export format takes them), random-tiny vectors,
    H.264 proxies, a circled take, tags, and the latest day's morning report; then its catalog bytes are
    kept as `pristine.sqlite` beside the library, to put back before each case."""
    root = tmp_path_factory.mktemp("readers")
    card = root / "A001"
    card.mkdir()
    for name, lengths in CLIPS.items():
        make_cuts_clip(card / name, lengths, "25", timecode="10:00:00:00")
    lib = root / "lib"
    ingest = ["ingest", str(card), "--library", str(lib), "--model", "random-tiny", "--proxies", "h264", "--json"]
    for argv in (
        ingest,
        ["take", "set", "A001C002_12A_T2.mov", "--circled"],
        ["tag", "add", "A001C001_12A_T1.mov", "night"],
        ["tag", "add", "A001C003_7_T1.mov", "CU", "--shot", "1"],
        ["report"],  # LIBRARY/reports/DAY, what /report/ serves
    ):
        code, out, err = cli(*argv, *([] if argv is ingest else ["--library", str(lib)]))
        assert code == 0, (argv, out[-2000:], err[-2000:])
    conn = sqlite3.connect(lib / CATALOG)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for extra in ("-wal", "-shm"):
        (lib / (CATALOG + extra)).unlink(missing_ok=True)
    shutil.copyfile(lib / CATALOG, root / "pristine.sqlite")
    return lib


def restore(lib: Path) -> None:
    """The catalog as the library was built (a case before this one may have written it)."""
    for extra in ("-wal", "-shm"):
        (lib / (CATALOG + extra)).unlink(missing_ok=True)
    shutil.copyfile(lib.parent / "pristine.sqlite", lib / CATALOG)


@pytest.fixture(scope="module")
def facts(library) -> dict:
    """Ids and names the routes and commands are given, read from the catalog."""
    conn = sqlite3.connect(f"file:{library / CATALOG}?mode=ro", uri=True)
    try:
        one = lambda sql: conn.execute(sql).fetchone()  # noqa: E731
        shot_id, clip_id = one("SELECT s.id, s.clip_id FROM shots s ORDER BY s.id LIMIT 1")
        keyframe_id, thumb = one("SELECT id, thumb FROM keyframes ORDER BY id DESC LIMIT 1")
    finally:
        conn.close()
    day = next(p for p in (library / "reports").iterdir() if (p / "report.json").is_file())
    report = json.loads((day / "report.json").read_text())
    image = next(item["src"] for c in report["clips"] for item in c.get("strip", []))
    return {
        "shot": shot_id,
        "clip": clip_id,
        "keyframe": keyframe_id,
        "thumb": str(library / thumb),
        "report_image": image,
    }


# -- the watcher ----------------------------------------------------------------------------------
def _tree(lib: Path) -> dict:
    out = {}
    for p in sorted(lib.rglob("*")):
        if p.name == CATALOG + "-shm":
            continue
        st = p.stat()
        out[str(p.relative_to(lib))] = (p.is_dir(), st.st_size if p.is_file() else None, st.st_mtime_ns)
    return out


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


class Watch:
    """What a case did to the catalog and which processes it started (see the module docstring)."""

    def __init__(self, lib: Path):
        self.lib = lib
        self.started: list = []

    def state(self) -> dict:
        c = self.watcher
        return {
            "data_version": c.execute("PRAGMA data_version").fetchone()[0],
            "user_version": c.execute("PRAGMA user_version").fetchone()[0],
            "content": hashlib.sha256("\n".join(c.iterdump()).encode()).hexdigest(),
            "catalog.sqlite": _digest(self.lib / CATALOG),
            "catalog.sqlite-wal": _digest(self.lib / (CATALOG + "-wal")),
            "files": _tree(self.lib),
        }

    def __enter__(self):
        self.watcher = sqlite3.connect(self.lib / CATALOG, isolation_level=None)
        self.watcher.execute("PRAGMA query_only=ON")
        self.before = self.state()
        self._mp = pytest.MonkeyPatch()
        started, real_init = self.started, subprocess.Popen.__init__

        def recording(popen, args, *rest, **kwargs):
            started.append(list(args) if isinstance(args, (list, tuple)) else args)
            return real_init(popen, args, *rest, **kwargs)

        self._mp.setattr(subprocess.Popen, "__init__", recording)
        return self

    def __exit__(self, *exc):
        self._mp.undo()
        try:
            self.after = self.state()
        finally:
            self.watcher.close()
        return False

    def problems(self) -> list[str]:
        out = [f"started a process: {argv}" for argv in self.started]
        for key in ("data_version", "user_version", "content", "catalog.sqlite", "catalog.sqlite-wal"):
            if self.before[key] != self.after[key]:
                out.append(f"the catalog changed: {key} {self.before[key]} -> {self.after[key]}")
        b, a = self.before["files"], self.after["files"]
        out += [f"{name}: created" for name in a.keys() - b.keys()]
        out += [f"{name}: removed" for name in b.keys() - a.keys()]
        out += [f"{name}: changed" for name in a.keys() & b.keys() if a[name] != b[name]]
        return out


def settings():
    return load_settings().replace("web", results=4)


def upload(client, thumb: str) -> str:
    """A query image held by the server (a POST, before the watch): its key."""
    r = client.post(
        "/search/image",
        files={"file": ("still.jpg", Path(thumb).read_bytes(), "image/jpeg")},
        headers={"x-csrf-token": client.app.state.guard.csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    return r.headers["location"].split("image=")[1]


# -- every GET route --------------------------------------------------------------------------------
def _search(prefix: str, f: dict) -> list[str]:
    return [
        prefix,  # browse
        f"{prefix}?q=woman+laughing",
        f"{prefix}?q=woman+laughing&page=2",
        f"{prefix}?like={f['keyframe']}",
        f"{prefix}?image={f['image']}",
        f"{prefix}?scene=12A&circled=true",
        f"{prefix}?q=night&tag=night&camera=A",
    ]


GETS = {  # route -> the URLs that walk it (200, or 303 for the redirects)
    "/": lambda f: _search("/", f),
    "/api/search": lambda f: _search("/api/search", f),
    "/media/query/{key}": lambda f: [f"/media/query/{f['image']}"],
    "/shot/{shot_id}": lambda f: [f"/shot/{f['shot']}"],
    "/clip/{clip_id}": lambda f: [f"/clip/{f['clip']}"],
    "/api/shot/{shot_id}": lambda f: [f"/api/shot/{f['shot']}"],
    "/selects": lambda f: ["/selects", "/selects?scene=12A"],
    "/api/selects": lambda f: ["/api/selects", "/api/selects?scene=7"],
    "/export/search.{fmt}": lambda f: [f"/export/search.{fmt}?q=woman&scene=12A" for fmt in EXPORTERS],
    "/export/selects.{fmt}": lambda f: [f"/export/selects.{fmt}?per_setup=2" for fmt in EXPORTERS],
    "/exports": lambda f: ["/exports", "/exports?q=woman&selects_scene=12A"],
    "/library": lambda f: ["/library"],
    "/api/library": lambda f: ["/api/library"],
    "/report": lambda f: ["/report", "/report?day=all"],
    "/report/": lambda f: ["/report/", "/report/?day=all"],  # the built day, and a day not built yet
    "/report/{name:path}": lambda f: ["/report/report.json", f"/report/{f['report_image']}"],
    "/media/keyframe/{keyframe_id}": lambda f: [f"/media/keyframe/{f['keyframe']}"],
    "/media/clip/{clip_id}": lambda f: [f"/media/clip/{f['clip']}"],
    "/favicon.ico": lambda f: ["/favicon.ico"],
    "/static": lambda f: ["/static/app.css", "/static/app.js"],
}


def get_routes(routes):
    """(method, path) of every route of the app, FastAPI's included routers and mounts included."""
    for r in routes:
        if hasattr(r, "original_router"):
            yield from get_routes(r.original_router.routes)
        elif getattr(r, "methods", None):
            yield from ((m, r.path) for m in r.methods if m != "HEAD")
        else:
            yield "GET", r.path  # a mount (/static) answers GETs


def test_every_get_route_is_walked(library):
    gets = {path for method, path in get_routes(create_app(library, settings()).routes) if method == "GET"}
    assert len(gets) >= 18
    assert gets - GETS.keys() == set(), "GET routes this test does not walk: add them to GETS"
    assert GETS.keys() - gets == set(), "GETS names routes the app no longer has"


@pytest.mark.parametrize("route", list(GETS))
def test_a_get_leaves_the_catalog_unchanged_and_starts_no_process(library, facts, route):
    restore(library)
    with TestClient(create_app(library, settings()), base_url=BASE) as client:
        f = {**facts, "image": upload(client, facts["thumb"])}
        urls = GETS[route](f)
        with Watch(library) as watch:
            answers = {url: client.get(url, follow_redirects=False) for url in urls}
            answers[urls[0] + " (again)"] = client.get(urls[0], follow_redirects=False)  # a second visit too
    bad = {url: (r.status_code, r.text[:200]) for url, r in answers.items() if r.status_code not in (200, 303)}
    assert bad == {}, "every URL is answered, so the check covers the route's real work"
    problems = watch.problems()
    assert not problems, "\n".join(problems)


def test_starting_the_server_leaves_the_catalog_unchanged(library):
    """`dailies serve`: the app is made and started (its lifespan) and stopped."""
    restore(library)
    with Watch(library) as watch:
        with TestClient(create_app(library, settings()), base_url=BASE):
            pass
    problems = watch.problems()
    assert not problems, "\n".join(problems)


# -- every read command ----------------------------------------------------------------------------
def _reads(f: dict, out: Path) -> dict[str, list[str]]:
    cases = {
        "search text": ["search", "woman laughing"],
        "search image": ["search", "--image", f["thumb"]],
        "search like": ["search", "--like", str(f["keyframe"])],
        "search filters (browse)": ["search", "--scene", "12A", "--camera", "A"],
        "search text and filters": ["search", "night", "--tag", "night", "--page", "1", "--limit", "2"],
        "search circled": ["search", "--circled"],
        "selects": ["selects"],
        "selects scene": ["selects", "--scene", "12A"],
        "selects query": ["selects", "--query", "woman"],
        "export search": ["export", "search", "woman", "-o", str(out / "search.otio")],
        "export tags": ["export", "tags", "--tag", "night", "-o", str(out / "tags.edl")],
        "clips": ["clips"],
        "report": ["report", "--out", str(out / "report")],
        "report all": ["report", "--day", "all", "--out", str(out / "report-all")],
        "take list": ["take", "list"],
        "take list scene": ["take", "list", "--scene", "12A"],
        "tag list": ["tag", "list"],
        "tag list clip": ["tag", "list", "A001C001_12A_T1.mov"],
        "models": ["models"],
    }
    for fmt, (_write, suffixes, _name) in EXPORTERS.items():
        cases[f"export selects {fmt}"] = ["export", "selects", "--per-setup", "2", "-o", str(out / f"sel{suffixes[0]}")]
    return cases


READS = list(_reads({"thumb": "", "keyframe": 0}, Path(".")))
FOUND = {  # the part of each command's JSON that must not be empty
    "search": "hits",
    "selects": "setups",
    "export": "events",
    "clips": "clips",
    "report": "clips",
    "take": "takes",
    "tag": "tags",
    "models": "presets",
}


@pytest.mark.parametrize("name", READS)
def test_a_read_command_leaves_the_catalog_unchanged_and_starts_no_process(library, facts, name, tmp_path):
    argv = _reads(facts, tmp_path)[name]
    restore(library)
    with Watch(library) as watch:
        code, out, err = cli(*argv, "--library", str(library), "--json")
    assert code == 0, (argv, err[-1000:])
    found = json.loads(out)[FOUND[argv[0]]]
    assert found, f"{name}: the command found something, so the check covers its real work"
    problems = watch.problems()
    assert not problems, "\n".join(problems)
