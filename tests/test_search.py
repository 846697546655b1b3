"""`dailies search` with filters and pages, and the same answers from the CLI and the web UI (one core:
pipeline/search.py)."""

import json
import shutil

import pytest
from conftest import cli
from fastapi.testclient import TestClient
from overnight_helpers import rows

from pipeline.catalog import open_catalog
from pipeline.config import load_settings
from pipeline.web.app import create_app

PER_PAGE = 4


@pytest.fixture(scope="module")
def library(web_library, tmp_path_factory):
    """The web tests' library (three clips, random-tiny) with take fields, a circled take and tags."""
    from pipeline.editorial.tags import add_tag
    from pipeline.editorial.takes import set_take

    lib = tmp_path_factory.mktemp("searchlib") / "lib"
    shutil.copytree(web_library, lib, symlinks=True)
    cat = open_catalog(lib)
    try:
        set_take(cat, "A001C001.mov", scene="012A", take="03", camera="B", circled=True)
        set_take(cat, "A001C003.mov", scene="7", take="1")
        add_tag(cat, "A001C003.mov", "night", 2)  # one shot of C003
        add_tag(cat, "A001C002.mov", "night")  # the whole take C002
    finally:
        cat.close()
    return lib


def search(library, *argv) -> dict:
    code, out, err = cli("search", *argv, "--library", str(library), "--json")
    assert code == 0, err
    return json.loads(out)


def shots(data) -> list[tuple]:
    return [(h["clip_name"] if "clip_name" in h else h["clip"].rsplit("/", 1)[-1], h["shot"]) for h in data["hits"]]


def test_a_filter_without_a_query_browses_its_shots_in_clip_order_a_page_at_a_time(library):
    data = search(library, "--scene", "12A")
    assert data["query"] is None and data["filters"] == {"scene": "12A"} and data["model"] is None
    assert shots(data) == [("A001C001.mov", 0), ("A001C001.mov", 1), ("A001C001.mov", 2)]
    assert all(h["rank"] is None and h["score"] is None for h in data["hits"])
    hit = data["hits"][0]
    assert (hit["scene"], hit["take"], hit["camera"], hit["circled"]) == ("12A", "3", "B", True)
    assert hit["keyframe_id"] in hit["keyframes"] and hit["thumbnail"].endswith(".jpg")
    # pages: --limit shots each, has_more until the last
    first = search(library, "--tag", "night", "--limit", "2")
    second = search(library, "--tag", "night", "--limit", "2", "--page", "2")
    assert first["has_more"] is True and second["has_more"] is False
    assert shots(first) + shots(second) == [("A001C002.mov", 0), ("A001C002.mov", 1), ("A001C003.mov", 2)]
    assert search(library, "--tag", "night", "--page", "9")["hits"] == []
    # the human form says what matched nothing
    code, out, _ = cli("search", "--scene", "99", "--circled", "--library", str(library))
    assert code == 0 and out.strip() == "no results: no shot matches scene 99, circled"


@pytest.mark.parametrize(
    "flags,expected",
    [
        (["--scene", "012a"], {"A001C001.mov"}),  # typed as on the slate: 012a is 12A
        (["--take", "03"], {"A001C001.mov"}),
        (["--camera", "B"], {"A001C001.mov"}),
        (["--camera", "C"], set()),
        (["--circled"], {"A001C001.mov"}),
        (["--reel", "A001"], {"A001C001.mov", "A001C002.mov", "A001C003.mov"}),
        (["--reel", "B007"], set()),
        (["--clip", "c003"], {"A001C003.mov"}),
        (["--tag", "night", "--clip", "C003"], {"A001C003.mov"}),
        (["--scene", "12A", "--take", "1"], set()),  # every filter must match
    ],
)
def test_filters_narrow_a_text_search_before_ranking(library, flags, expected):
    data = search(library, "woman laughing", *flags, "--limit", "20")
    assert {name for name, _ in shots(data)} == expected
    assert [h["rank"] for h in data["hits"]] == list(range(1, len(data["hits"]) + 1))
    scores = [h["score"] for h in data["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert data["semantic"] is False and "random-init" in data["warning"]


def test_day_filter_and_its_format(library):
    day = rows(library, "SELECT substr(added_at, 1, 10) FROM clips LIMIT 1")[0][0]
    assert len(search(library, "--day", day, "--limit", "50")["hits"]) == 9
    assert search(library, "--day", "1999-01-01")["hits"] == []
    with pytest.raises(SystemExit) as exc:
        cli("search", "--day", "26/11/2026", "--library", str(library))
    assert exc.value.code == 2


def test_a_query_and_an_image_or_like_at_once_is_a_usage_error(library, tmp_path):
    for argv in (["x", "--like", "1"], ["--image", "a.jpg", "--like", "1"], ["--limit", "3"]):
        code, out, err = cli("search", *argv, "--library", str(library))
        assert code == 2 and out == "" and "give a text query or --image FILE" in err, argv
    code, _, err = cli("search", "--tag", "x", "--page", "0", "--library", str(library))
    assert code == 2 and "--page 0: pages start at 1" in err


def test_the_cli_and_the_web_give_the_same_hits_for_the_same_query_and_filters(library):
    kid = rows(library, "SELECT id FROM keyframes ORDER BY id DESC LIMIT 1")[0][0]
    thumb = rows(library, "SELECT thumb FROM keyframes ORDER BY id LIMIT 1 OFFSET 4")[0][0]
    cases = [  # (web parameters, CLI flags)
        ({"q": "woman laughing"}, ["woman laughing"]),
        ({"q": "woman laughing", "page": 2}, ["woman laughing", "--page", "2"]),
        ({"q": "car at night", "camera": "A", "tag": "night"}, ["car at night", "--camera", "A", "--tag", "night"]),
        ({"like": kid, "circled": "true"}, ["--like", str(kid), "--circled"]),
        ({"like": kid, "page": 3}, ["--like", str(kid), "--page", "3"]),
        ({"scene": "012a"}, ["--scene", "012a"]),
        ({"reel": "A001", "page": 2}, ["--reel", "A001", "--page", "2"]),
        ({"take": "03", "clip": "a001"}, ["--take", "03", "--clip", "a001"]),
    ]
    settings = load_settings().replace("web", results=PER_PAGE)
    with TestClient(create_app(library, settings), base_url="http://127.0.0.1:8765") as web:
        upload = web.post(
            "/search/image",
            files={"file": ("still.jpg", (library / thumb).read_bytes(), "image/jpeg")},
            headers={"accept": "application/json", "x-csrf-token": web.app.state.guard.csrf},
            follow_redirects=False,
        )
        assert upload.status_code == 303
        key = upload.headers["location"].split("image=")[1]
        cases.append(({"image": key, "scene": "7"}, ["--image", str(library / thumb), "--scene", "7"]))
        for params, flags in cases:
            answer = web.get("/api/search", params=params)
            assert answer.status_code == 200, params
            w = answer.json()
            c = search(library, *flags, "--limit", str(PER_PAGE))
            assert w["hits"], params  # each case finds something, so the comparison says something
            assert [(h["shot_id"], h["rank"], h["score"], h["keyframe_id"]) for h in w["hits"]] == [
                (h["shot_id"], h["rank"], h["score"], h["keyframe_id"]) for h in c["hits"]
            ], params
            assert (w["has_more"], w["model"], w["semantic"], w["warning"]) == (
                c["has_more"],
                c["model"],
                c["semantic"],
                c.get("warning"),
            ), params
