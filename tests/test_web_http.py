"""HTTP tests of every endpoint of `dailies serve` (FastAPI TestClient), security cases included."""

import io
import re
import shutil
import sqlite3
import threading
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from overnight_helpers import rows
from PIL import Image

from pipeline.catalog import open_catalog
from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.errors import UsageError
from pipeline.web.app import create_app

BASE = "http://127.0.0.1:8765"
XSS = "<script>alert('x')</script>"


def settings(**web):
    s = load_settings()
    return s.replace("web", **web) if web else s


@pytest.fixture(scope="module")
def app(web_library):
    return create_app(web_library, settings(max_upload_mb=1, max_image_pixels=4_000_000, results=4))


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, base_url=BASE) as c:
        yield c


def csrf(client) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").text).group(1)


def jpeg(library) -> bytes:
    thumb = rows(library, "SELECT thumb FROM keyframes ORDER BY id LIMIT 1")[0][0]
    return (library / thumb).read_bytes()


# -- pages --------------------------------------------------------------------------------------
def test_browse_lists_shots_in_clip_order_and_pages(client, web_library):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count('class="card"') == 4 and "page 1" in page.text and "page=2" in page.text
    data = client.get("/api/search").json()
    assert data["kind"] == "browse" and data["has_more"] is True
    assert [h["clip_name"] for h in data["hits"]] == ["A001C001.mov"] * 3 + ["A001C002.mov"]
    last = client.get("/api/search?page=3").json()
    assert [h["shot"] for h in last["hits"]] == [3] and last["has_more"] is False


def test_text_search_page_warns_that_random_tiny_is_not_semantic(client):
    page = client.get("/", params={"q": "woman laughing"})
    assert page.status_code == 200
    assert "Not semantic." in page.text and "random-init" in page.text
    data = client.get("/api/search", params={"q": "woman laughing"}).json()
    assert data["semantic"] is False and "random-init" in data["warning"]
    assert len(data["hits"]) == 4 and [h["rank"] for h in data["hits"]] == [1, 2, 3, 4]
    scores = [h["score"] for h in data["hits"]]
    assert scores == sorted(scores, reverse=True)
    hit = data["hits"][0]
    assert re.fullmatch(r"\d\d:\d\d:\d\d[:;]\d\d", hit["start_tc"]) and hit["url"] == f"/shot/{hit['shot_id']}"
    assert len(hit["keyframes"]) >= 2 and hit["keyframe_id"] in hit["keyframes"]
    page2 = client.get("/api/search", params={"q": "woman laughing", "page": 2}).json()
    assert not {h["shot_id"] for h in page2["hits"]} & {h["shot_id"] for h in data["hits"]}


def test_more_like_this_finds_the_keyframes_own_shot_first(client, web_library):
    kid, shot_id = rows(web_library, "SELECT id, shot_id FROM keyframes ORDER BY id DESC LIMIT 1")[0]
    data = client.get("/api/search", params={"like": kid}).json()
    assert data["kind"] == "like" and data["hits"][0]["shot_id"] == shot_id
    assert data["hits"][0]["score"] == pytest.approx(1.0, abs=1e-3)
    assert client.get("/", params={"like": kid}).status_code == 200
    assert client.get("/api/search", params={"like": 10**9}).status_code == 400


def test_filters_narrow_before_ranking(client, web_library):
    only = client.get("/api/search", params={"q": "anything", "clip": "c002"}).json()
    assert {h["clip_name"] for h in only["hits"]} == {"A001C002.mov"} and len(only["hits"]) == 2
    day = rows(web_library, "SELECT substr(added_at, 1, 10) FROM clips LIMIT 1")[0][0]
    assert len(client.get("/api/search", params={"q": "x", "day": day}).json()["hits"]) == 4
    assert client.get("/api/search", params={"q": "x", "day": "1999-01-01"}).json()["hits"] == []
    page = client.get("/", params={"clip": "C003"})
    assert page.text.count('class="card"') == 4 and "A001C001" not in page.text.split('id="results"')[1]


def test_query_text_is_escaped_everywhere(client):
    page = client.get("/", params={"q": XSS, "clip": '"><svg onload=alert(1)>'})
    assert page.status_code == 200
    assert XSS not in page.text and "<svg onload" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    data = client.get("/api/search", params={"q": XSS}).json()
    assert data["query"]["q"] == XSS  # JSON carries the text as data, served as application/json


def test_long_or_malformed_parameters_are_refused(client):
    assert client.get("/", params={"q": "x" * 501}).status_code == 400
    assert client.get("/api/search", params={"page": 0}).status_code == 400
    assert client.get("/api/search", params={"image": "../../etc"}).status_code == 400
    assert client.get("/api/search", params={"image": "abcdef"}).status_code == 400  # no such upload held


def test_shot_page_has_player_at_in_point_filmstrip_and_neighbours(client, web_library):
    shot_id, clip_id, start, start_tc = rows(
        web_library, "SELECT s.id, s.clip_id, s.start_time, s.start_tc FROM shots s WHERE idx = 1 ORDER BY id LIMIT 1"
    )[0]
    page = client.get(f"/shot/{shot_id}")
    assert page.status_code == 200
    assert f"/media/clip/{clip_id}" in page.text and "data-player=" in page.text and start_tc in page.text
    n_shots = rows(web_library, "SELECT count(*) FROM shots WHERE clip_id = ?", clip_id)[0][0]
    assert page.text.count('class="frame') == n_shots
    assert 'data-nav="prev"' in page.text and 'data-nav="next"' in page.text
    data = client.get(f"/api/shot/{shot_id}").json()
    assert data["start_time"] == pytest.approx(start) and data["media"] == f"/media/clip/{clip_id}"
    assert data["playable"] is True and len(data["filmstrip"]) == n_shots and data["keyframes"]
    assert client.get("/shot/999999").status_code == 404
    assert client.get("/api/shot/999999").json()["error"].startswith("no shot")
    assert client.get("/shot/abc").status_code == 400


def test_clip_link_opens_its_first_shot(client, web_library):
    clip_id, first = rows(web_library, "SELECT clip_id, min(id) FROM shots GROUP BY clip_id ORDER BY clip_id LIMIT 1")[
        0
    ]
    r = client.get(f"/clip/{clip_id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/shot/{first}"
    failed = rows(web_library, "SELECT id FROM clips WHERE status = 'failed'")[0][0]
    assert client.get(f"/clip/{failed}").status_code == 404
    assert client.get("/clip/424242").status_code == 404


def test_library_page_lists_clips_stages_and_failures_escaped(client):
    page = client.get("/library")
    assert page.status_code == 200
    for name in ("A001C001.mov", "A001C002.mov", "A001C003.mov"):
        assert name in page.text
    assert "Failures" in page.text and "onerror=alert(1)" in page.text  # shown, as text
    assert "<img src=x onerror" not in page.text and "&lt;img src=x onerror=alert(1)&gt;.mov" in page.text
    data = client.get("/api/library").json()
    assert data["status"]["ok"] == 3 and data["status"]["failed"] == 1
    assert data["progress"]["embed"]["done"] == 3 and data["counts"]["shots"] == 9
    assert data["clips"][0]["status"] == "failed" and data["model"]["semantic"] is False
    # the failed clip's stages will not run: counted as failed, not as pending (an ingest is not still running)
    assert all(data["progress"][s] == {"done": 3, "pending": 0, "failed": 1} for s in ("probe", "analyze", "embed"))
    assert {st["status"] for st in data["clips"][0]["stages"].values()} == {"failed"}
    counts = re.findall(r'<div class="stage-count">(.*?)</div>', page.text)
    assert counts == ['3/4 · <span class="bad">1 failed</span>'] * 3


# -- media ----------------------------------------------------------------------------------------
def test_keyframes_are_served_by_id_only(client, web_library):
    kid = rows(web_library, "SELECT id FROM keyframes LIMIT 1")[0][0]
    r = client.get(f"/media/keyframe/{kid}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"
    for bad in (
        "/media/keyframe/999999",
        "/media/keyframe/0",
        "/media/keyframe/-1",
        "/media/keyframe/abc",
        "/media/keyframe/..%2F..%2Fcatalog.sqlite",
        "/media/keyframe/%2e%2e/%2e%2e/catalog.sqlite",
        "/media/clip/..%2F..%2F..%2Fetc%2Fpasswd",
        "/static/..%2Fapp.py",
        "/static/%2e%2e/app.py",
        "/static/../../pipeline/web/app.py",
        "/media/",
        "/media/keyframe/",
        "/static/",
        "/thumbs/1",
    ):
        r = client.get(bad)
        assert r.status_code in (400, 404), bad
        assert b"root:" not in r.content and b"SQLite format" not in r.content and b"create_app" not in r.content


def test_a_tampered_catalog_path_cannot_escape_the_library(web_library, tmp_path):
    lib = tmp_path / "lib"
    shutil.copytree(web_library, lib, symlinks=True)
    (tmp_path / "secret.jpg").write_bytes(b"\xff\xd8secret")
    kid = rows(lib, "SELECT id FROM keyframes LIMIT 1")[0][0]
    conn = sqlite3.connect(lib / "catalog.sqlite")
    conn.execute("UPDATE keyframes SET thumb = '../secret.jpg' WHERE id = ?", (kid,))
    conn.commit()
    conn.close()
    with TestClient(create_app(lib, settings()), base_url=BASE) as c:
        assert c.get(f"/media/keyframe/{kid}").status_code == 404


def test_clip_video_is_the_h264_proxy_with_range_requests(client, web_library):
    clip_id, proxy = rows(
        web_library, "SELECT clip_id, path FROM proxies WHERE preset = 'h264' ORDER BY clip_id LIMIT 1"
    )[0]
    data = (web_library / proxy).read_bytes()
    full = client.get(f"/media/clip/{clip_id}")
    assert full.status_code == 200 and full.headers["accept-ranges"] == "bytes" and full.content == data
    assert full.headers["content-type"] == "video/mp4"
    part = client.get(f"/media/clip/{clip_id}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert part.content == data[100:200]
    tail = client.get(f"/media/clip/{clip_id}", headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == data[-50:]
    assert client.get(f"/media/clip/{clip_id}", headers={"Range": f"bytes={len(data) + 10}-"}).status_code == 416
    assert client.get("/api/shot/1").json()["media_kind"] == "proxy h264"
    failed = rows(web_library, "SELECT id FROM clips WHERE status = 'failed'")[0][0]
    assert client.get(f"/media/clip/{failed}").status_code == 404


def test_without_a_usable_proxy_the_source_is_served(web_library, tmp_path):
    lib = tmp_path / "lib"
    shutil.copytree(web_library, lib, symlinks=True)
    (tmp_path / "outside.mp4").write_bytes(b"not in the library")
    conn = sqlite3.connect(lib / "catalog.sqlite")
    first, second = [r[0] for r in conn.execute("SELECT clip_id FROM proxies ORDER BY clip_id LIMIT 2")]
    conn.execute("DELETE FROM proxies WHERE clip_id = ?", (first,))
    conn.execute("UPDATE proxies SET path = '../outside.mp4' WHERE clip_id = ?", (second,))
    conn.commit()
    with TestClient(create_app(lib, settings()), base_url=BASE) as c:
        for clip_id in (first, second):
            path = conn.execute("SELECT path FROM clips WHERE id = ?", (clip_id,)).fetchone()[0]
            r = c.get(f"/media/clip/{clip_id}", headers={"Range": "bytes=0-99"})
            assert r.status_code == 206 and r.headers["content-type"] == "video/quicktime"
            assert r.content == open(path, "rb").read()[:100]
        shot = conn.execute("SELECT id FROM shots WHERE clip_id = ? LIMIT 1", (first,)).fetchone()[0]
        assert c.get(f"/api/shot/{shot}").json()["media_kind"] == "source"
    conn.close()


# -- uploads --------------------------------------------------------------------------------------
def test_image_upload_searches_and_holds_only_a_reencoded_thumbnail(client, web_library):
    token = csrf(client)
    r = client.post(
        "/search/image",
        data={"csrf": token},
        files={"file": ("still.jpg", jpeg(web_library), "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/?image=")
    key = r.headers["location"].split("=")[1]
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and f"/media/query/{key}" in page.text
    hits = client.get("/api/search", params={"image": key}).json()["hits"]
    first_shot = rows(web_library, "SELECT shot_id FROM keyframes ORDER BY id LIMIT 1")[0][0]
    assert hits[0]["shot_id"] == first_shot and hits[0]["score"] == pytest.approx(1.0, abs=1e-3)
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(png, "PNG")
    r = client.post(
        "/search/image",
        data={"csrf": token},
        files={"file": ("a.png", png.getvalue(), "image/png")},
        follow_redirects=False,
    )
    held = client.get(r.headers["location"].replace("/?image=", "/media/query/"))
    assert held.headers["content-type"] == "image/jpeg" and held.content[:2] == b"\xff\xd8"
    assert client.get("/media/query/" + "0" * 24).status_code == 404


@pytest.mark.parametrize(
    "name, payload, status",
    [
        ("notes.jpg", b"this is not an image at all\n" * 10, 415),
        ("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', 415),
        ("empty.png", b"", 415),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 415),
    ],
)
def test_non_images_are_refused(client, name, payload, status):
    r = client.post("/search/image", data={"csrf": csrf(client)}, files={"file": (name, payload, "image/png")})
    assert r.status_code == status
    assert "<svg" not in r.text


def test_gif_and_oversized_images_are_refused(client):
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    assert (
        client.post(
            "/search/image", data={"csrf": csrf(client)}, files={"file": ("a.gif", gif.getvalue(), "image/gif")}
        ).status_code
        == 415
    )
    big = io.BytesIO()
    Image.new("1", (3000, 2000)).save(big, "PNG")  # small file, 6 Mpx > the 4 Mpx limit of this app
    r = client.post(
        "/search/image", data={"csrf": csrf(client)}, files={"file": ("big.png", big.getvalue(), "image/png")}
    )
    assert r.status_code == 415 and "pixels" in r.text


def test_oversized_uploads_are_refused_before_they_are_read(client):
    blob = b"\xff\xd8" + b"\x00" * (2 * 2**20)
    r = client.post("/search/image", data={"csrf": csrf(client)}, files={"file": ("big.jpg", blob, "image/jpeg")})
    assert r.status_code == 413

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(40):
            yield b"x" * 65536

    r = client.post(
        "/search/image",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=zz", "x-csrf-token": csrf(client)},
    )
    assert r.status_code == 413


# -- security -------------------------------------------------------------------------------------
def test_state_changing_requests_need_the_csrf_token_and_same_origin(client, web_library):
    files = {"file": ("still.jpg", jpeg(web_library), "image/jpeg")}
    assert client.post("/search/image", files=files).status_code == 403
    assert client.post("/search/image", data={"csrf": "wrong"}, files=files).status_code == 403
    r = client.post(
        "/search/image",
        data={"csrf": csrf(client)},
        files=files,
        headers={"origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    r = client.post(
        "/search/image", data={"csrf": csrf(client)}, files=files, headers={"origin": BASE}, follow_redirects=False
    )
    assert r.status_code == 303


def test_security_headers_and_host_check(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in r.text  # no inline scripts: the CSP would block them
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400  # DNS rebinding
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200


def test_a_lan_server_requires_a_token(web_library):
    with pytest.raises(UsageError, match="needs a token"):
        create_app(web_library, settings(), host="0.0.0.0")
    app = create_app(web_library, settings(), host="0.0.0.0", token="s3cret-token")
    with TestClient(app, base_url="http://192.168.1.20:8765") as c:
        for url in ("/", "/api/search?q=x", "/library", "/media/keyframe/1", "/static/app.css"):
            assert c.get(url).status_code == 401, url
        assert c.get("/?token=wrong").status_code == 401
        assert c.get("/", headers={"authorization": "Bearer s3cret-token"}).status_code == 200
        r = c.get("/library?token=s3cret-token", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/library"
        assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
        assert c.get("/library").status_code == 200  # the cookie is now set


# -- lifecycle ------------------------------------------------------------------------------------
def test_model_loads_once_and_only_when_a_query_needs_it(web_library):
    app = create_app(web_library, settings())
    state = app.state.dailies
    with TestClient(app, base_url=BASE) as c:
        c.get("/")
        c.get("/library")
        kid = rows(web_library, "SELECT id FROM keyframes LIMIT 1")[0][0]
        c.get("/api/search", params={"like": kid})
        assert state.model_loads == 0
        for q in ("one", "two", "one"):
            assert c.get("/api/search", params={"q": q}).status_code == 200
        assert state.model_loads == 1


def test_search_never_blocks_on_a_running_ingest(client, web_library):
    writer = open_catalog(web_library)
    try:
        writer.conn.execute("BEGIN IMMEDIATE")
        writer.upsert_clip("/cards/in-progress.mov")
        writer.conn.execute("UPDATE clips SET status = 'ok' WHERE id = 1")
        results = {}

        def go():
            t0 = time.monotonic()
            results["search"] = client.get("/api/search", params={"q": "during ingest"}).status_code
            results["library"] = client.get("/api/library").json()["status"]["ok"]
            results["seconds"] = time.monotonic() - t0

        t = threading.Thread(target=go)
        t.start()
        t.join(10)
        assert results.get("search") == 200 and results["seconds"] < 3
        assert results["library"] == 3  # the uncommitted write is not visible
    finally:
        writer.conn.rollback()
        writer.close()


def test_new_vectors_are_picked_up_without_a_restart(web_library, tmp_path):
    lib = tmp_path / "lib"
    shutil.copytree(web_library, lib, symlinks=True)
    with TestClient(create_app(lib, settings()), base_url=BASE) as c:
        c.get("/api/search", params={"q": "x"})  # index loaded and cached
        cat = open_catalog(lib)
        model = cat.meta_get("model")
        shot = cat.conn.execute("SELECT id FROM shots ORDER BY id LIMIT 1").fetchone()[0]
        thumb = cat.conn.execute("SELECT thumb FROM keyframes ORDER BY id LIMIT 1").fetchone()[0]
        dim = cat.model(model)["dim"]
        vec = np.zeros((1, dim), np.float32)
        vec[0, 0] = 1.0
        with cat.transaction():
            kid = cat.conn.execute(
                "INSERT INTO keyframes(shot_id, frame, time, thumb) VALUES(?, 0, 0, ?)", (shot, thumb)
            ).lastrowid
            cat.add_vectors(model, [kid], vec)
        cat.close()
        hits = c.get("/api/search", params={"like": kid}).json()["hits"]
        assert hits[0]["shot_id"] == shot and hits[0]["score"] == pytest.approx(1.0, abs=1e-5)


def test_serve_command_binds_to_localhost_and_needs_a_token_elsewhere(web_library, monkeypatch, capsys):
    import json

    import uvicorn

    runs = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: runs.append((app, kw)))
    monkeypatch.delenv("DAILIES_WEB_TOKEN", raising=False)
    assert main(["serve", "--library", str(web_library), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["url"] == "http://localhost:8765/" and out["host"] == "127.0.0.1" and out["port"] == 8765
    app, kw = runs[-1]
    assert kw["host"] == "127.0.0.1" and kw["port"] == 8765 and app.state.guard.token is None
    # another address: a token is generated, printed in the URL, and required by the app
    assert main(["serve", "--library", str(web_library), "--host", "0.0.0.0", "--port", "9000"]) == 0
    err = capsys.readouterr().err
    app, kw = runs[-1]
    token = app.state.guard.token
    assert kw["host"] == "0.0.0.0" and token and len(token) >= 24 and f":9000/?token={token}" in err
    assert "other machines" in err
    monkeypatch.setenv("DAILIES_WEB_TOKEN", "from-the-env")
    assert main(["serve", "--library", str(web_library), "--host", "192.168.1.20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["url"] == "http://192.168.1.20:8765/?token=from-the-env"
    assert runs[-1][0].state.guard.token == "from-the-env"


def test_serve_command_refuses_bad_arguments(tmp_path, capsys):
    assert main(["serve", "--library", str(tmp_path / "nothing")]) == 1
    assert "no Dailies library" in capsys.readouterr().err
    assert main(["serve", "--library", str(tmp_path), "--port", "70000"]) == 2


# -- editing: tags, circle, notes, pin/reject (issue 5's library functions) ------------------------
def shot_of(library, clip_name, idx=0):
    return rows(
        library,
        "SELECT s.id, s.clip_id FROM shots s JOIN clips c ON c.id = s.clip_id WHERE c.path LIKE ? AND s.idx = ?",
        f"%{clip_name}",
        idx,
    )[0]


def test_tags_are_added_escaped_filtered_and_removed(client, web_library):
    shot_id, clip_id = shot_of(web_library, "A001C002.mov", 1)
    token = csrf(client)
    payload = "<img src=x onerror=alert(1)>"
    r = client.post(f"/shot/{shot_id}/tags", data={"csrf": token, "tag": payload}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/shot/{shot_id}"
    assert (
        client.post(
            f"/shot/{shot_id}/tags",
            data={"csrf": token, "tag": "night", "scope": "take"},
            headers={"accept": "application/json"},
        ).json()["scope"]
        == "take"
    )
    page = client.get(f"/shot/{shot_id}").text
    assert payload not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    tags = {(t["tag"], t["scope"]) for t in client.get(f"/api/shot/{shot_id}").json()["tags"]}
    assert {(payload, "shot"), ("night", "take")} <= tags
    hits = client.get("/api/search", params={"q": "x", "tag": payload}).json()["hits"]
    assert [h["shot_id"] for h in hits] == [shot_id]
    assert len(client.get("/api/search", params={"q": "x", "tag": "night"}).json()["hits"]) == 2  # the whole take
    assert payload not in client.get("/", params={"q": "x", "tag": payload}).text
    for tag, scope in ((payload, "shot"), ("night", "take")):
        r = client.post(f"/shot/{shot_id}/tags/remove", data={"csrf": token, "tag": tag, "scope": scope})
        assert r.status_code == 200
    assert (
        client.post(f"/shot/{shot_id}/tags/remove", data={"csrf": token, "tag": "night", "scope": "take"}).status_code
        == 404
    )
    assert client.get(f"/api/shot/{shot_id}").json()["tags"] == []
    assert client.post(f"/shot/{shot_id}/tags", data={"csrf": token, "tag": ""}).status_code == 400
    assert client.post(f"/shot/{shot_id}/tags", data={"csrf": token, "tag": "x" * 65}).status_code == 400
    assert client.post(f"/shot/{shot_id}/tags", data={"csrf": token, "tag": "a", "scope": "clip"}).status_code == 400
    assert client.post(f"/shot/{shot_id}/tags", data={"tag": "no-csrf"}).status_code == 403
    assert client.post("/shot/999999/tags", data={"csrf": token, "tag": "a"}).status_code == 404


def test_circle_notes_and_pin_reject(client, web_library):
    shot_id, clip_id = shot_of(web_library, "A001C003.mov", 2)
    token = csrf(client)
    try:
        r = client.post(
            f"/clip/{clip_id}/take",
            data={"csrf": token, "circled": "1", "notes": XSS + "\nsoft focus"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        take = client.get(f"/api/shot/{shot_id}").json()["take"]
        assert take["circled"] is True and take["notes"] == XSS + "\nsoft focus"
        page = client.get(f"/shot/{shot_id}").text
        assert XSS not in page and "● Circled" in page
        circled = client.get("/api/search", params={"q": "x", "circled": "true"}).json()["hits"]
        assert circled and {h["clip_name"] for h in circled} == {"A001C003.mov"} and circled[0]["circled"] is True
        assert (
            client.post(
                f"/clip/{clip_id}/override", data={"csrf": token, "action": "pin"}, follow_redirects=False
            ).headers["location"]
            == "/selects"
        )
        setups = client.get("/api/selects").json()["setups"]
        mine = next(p for ps in setups.values() for p in ps if p["clip_id"] == clip_id)
        assert mine["override"] == "pin" and mine["rank"] == 1 and mine["circled"] is True and mine["factors"]
        for bad in ("//evil.example/", "/\t/evil.example/", "/\\evil.example", "https://evil.example/"):
            r = client.post(
                f"/clip/{clip_id}/override",
                data={"csrf": token, "action": "reject"},
                params={"next": bad},
                follow_redirects=False,
            )
            assert r.headers["location"] == "/selects", bad
        page = client.get("/selects")
        assert page.status_code == 200 and "Setup" in page.text
        assert '<span class="badge failed">rejected</span>' in page.text and "ned<" not in page.text
        shot_page = client.get(f"/shot/{shot_id}").text
        assert re.search(r'class="reject on"[^>]*>Rejected</button>', shot_page) and "Rejectned" not in shot_page
        client.post(f"/clip/{clip_id}/override", data={"csrf": token, "action": "pin"})
        assert re.search(r'class="pin on"[^>]*>Pinned</button>', client.get(f"/shot/{shot_id}").text)
        assert '<span class="badge done">pinned</span>' in client.get("/selects").text
        assert client.post(f"/clip/{clip_id}/override", data={"csrf": token, "action": "delete"}).status_code == 400
        assert client.post("/clip/424242/override", data={"csrf": token, "action": "pin"}).status_code == 404
        assert client.post(f"/clip/{clip_id}/take", data={"csrf": token}).status_code == 400
    finally:
        client.post(f"/clip/{clip_id}/take", data={"csrf": token, "circled": "0", "notes": ""})
        client.post(f"/clip/{clip_id}/override", data={"csrf": token, "action": "clear"})
    assert client.get(f"/api/shot/{shot_id}").json()["override"] is None


# -- exports --------------------------------------------------------------------------------------
def test_search_results_export_and_reimport(client, web_library, tmp_path):
    from pipeline.export import read_back

    params = {"q": "a wide shot", "clip": "C001"}
    hits = client.get("/api/search", params=params).json()["hits"]
    for fmt, suffix in (("edl", ".edl"), ("ale", ".ale"), ("xml", ".xml"), ("otio", ".otio")):
        r = client.get(f"/export/search.{fmt}", params=params)
        assert r.status_code == 200, (fmt, r.text[:300])
        assert r.headers["content-disposition"] == f'attachment; filename="dailies-search{suffix}"'
        path = tmp_path / f"x{suffix}"
        path.write_bytes(r.content)
        clips = list(read_back(path, fmt, rate=24000 / 1001).find_clips())
        assert len(clips) == len(hits) == 3, fmt
        assert all("A001C001" in c.name for c in clips)
    tl = read_back(tmp_path / "x.otio", "otio")
    first = next(iter(tl.find_clips()))
    assert first.source_range.start_time.to_timecode() == hits[0]["start_tc"]
    assert first.source_range.duration.to_frames() == hits[0]["end_frame"] - hits[0]["start_frame"] + 1
    mixed = client.get("/export/search.edl", params={"q": "a wide shot"})
    assert mixed.status_code == 400 and "one frame rate" in mixed.text
    unfiltered = client.get("/export/search.otio")  # the whole library unfiltered is not a result set
    assert unfiltered.status_code == 400 and "or a filter" in unfiltered.text
    assert client.get("/export/search.mov", params={"q": "x"}).status_code == 400
    assert client.get("/export/search.otio", params={"q": XSS}).status_code == 200


def test_a_filtered_browse_exports_its_shots_in_clip_order(client, web_library, tmp_path):
    """No text or image, only filters (every shot of C001): the editor can still take that list to the NLE."""
    from pipeline.export import read_back

    shown = client.get("/api/search", params={"clip": "C001"}).json()
    assert shown["kind"] == "browse" and len(shown["hits"]) == 3
    page = client.get("/", params={"clip": "C001"}).text
    assert 'href="/export/search.otio?clip=C001"' in page
    assert "Every shot, in clip order" in client.get("/exports", params={"clip": "C001"}).text
    r = client.get("/export/search.otio", params={"clip": "C001"})
    assert r.status_code == 200, r.text[:300]
    path = tmp_path / "browse.otio"
    path.write_bytes(r.content)
    clips = list(read_back(path, "otio").find_clips())
    assert [c.source_range.start_time.to_timecode() for c in clips] == [h["start_tc"] for h in shown["hits"]]
    assert [c.source_range.duration.to_frames() for c in clips] == [
        h["end_frame"] - h["start_frame"] + 1 for h in shown["hits"]
    ]
    assert all("score" not in c.metadata.get("dailies", {}) for c in clips)  # a browse ranks nothing


def test_selects_export(client, tmp_path):
    from pipeline.export import read_back

    r = client.get("/export/selects.otio")
    assert r.status_code == 200 and r.headers["content-disposition"] == 'attachment; filename="dailies-selects.otio"'
    (tmp_path / "s.otio").write_bytes(r.content)
    n_setups = len(client.get("/api/selects").json()["setups"])
    assert len(list(read_back(tmp_path / "s.otio", "otio").find_clips())) == n_setups
    assert client.get("/export/selects.otio", params={"scene": '"; x'}).status_code == 400


def test_filters_work_on_an_ivf_index_too(web_library, tmp_path):
    lib = tmp_path / "lib"
    shutil.copytree(web_library, lib, symlinks=True)
    s = settings().replace("index", exact_max=8, nlist=2, nprobe=2)
    with TestClient(create_app(lib, s), base_url=BASE) as c:
        assert c.app.state.dailies.index(*c.app.state.dailies.model_info()[::3]).spec.kind == "ivf"
        hits = c.get("/api/search", params={"q": "x", "clip": "C002"}).json()["hits"]
        assert {h["clip_name"] for h in hits} == {"A001C002.mov"} and len(hits) == 2
        kid, shot_id = rows(lib, "SELECT id, shot_id FROM keyframes ORDER BY id DESC LIMIT 1")[0]
        top = c.get("/api/search", params={"like": kid, "clip": "C003"}).json()["hits"][0]
        assert top["shot_id"] == shot_id and top["score"] == pytest.approx(1.0, abs=0.05)


def test_sources_a_browser_cannot_play_are_named_not_played():
    from pipeline.web.playback import playability

    assert playability({"codec": "h264", "pix_fmt": "yuv420p"}) == (True, "")
    ok, why = playability({"codec": "prores", "pix_fmt": "yuv422p10le"})
    assert not ok and "prores" in why and "proxy" in why
    ok, why = playability({"codec": "h264", "pix_fmt": "yuv422p10le"})
    assert not ok and "yuv422p10le" in why
    assert playability(None)[0] is False


def test_a_source_a_browser_cannot_play_shows_a_still_and_says_why(web_library, tmp_path):
    import json

    lib = tmp_path / "lib"
    shutil.copytree(web_library, lib, symlinks=True)
    conn = sqlite3.connect(lib / "catalog.sqlite")
    clip_id, probe = conn.execute("SELECT id, probe_json FROM clips WHERE status = 'ok' ORDER BY id LIMIT 1").fetchone()
    conn.execute(
        "UPDATE clips SET probe_json = ? WHERE id = ?",
        (json.dumps({**json.loads(probe), "codec": "prores", "pix_fmt": "yuv422p10le"}), clip_id),
    )
    conn.execute("DELETE FROM proxies WHERE clip_id = ?", (clip_id,))
    conn.commit()
    shot_id = conn.execute("SELECT id FROM shots WHERE clip_id = ? ORDER BY idx LIMIT 1", (clip_id,)).fetchone()[0]
    conn.close()
    with TestClient(create_app(lib, settings()), base_url=BASE) as c:
        page = c.get(f"/shot/{shot_id}").text
        assert "<video" not in page and 'class="unplayable"' in page and "/media/keyframe/" in page
        assert "browsers cannot play prores video" in page and "--proxies h264" in page
        data = c.get(f"/api/shot/{shot_id}").json()
        assert data["playable"] is False and data["media_kind"] == "source"


def test_morning_report_is_served_with_only_its_own_files(web_library, tmp_path):
    """A GET serves the report the library has, or offers to build it; building is a POST (CSRF) or the CLI."""
    lib = tmp_path / "lib"
    shutil.copytree(web_library, lib, symlinks=True)
    shutil.rmtree(lib / "reports", ignore_errors=True)  # built by the browser tests when they ran first
    with TestClient(create_app(lib, settings()), base_url=BASE) as client:
        assert "/report/" in client.get("/library").text
        missing = client.get("/report/")  # nothing built yet: the page says so and offers the button
        assert missing.status_code == 200 and "has been built yet" in missing.text
        assert '<form method="post" action="/report/">' in missing.text and not (lib / "reports").exists()
        assert client.get("/report/report.json").status_code == 404
        assert client.post("/report/").status_code == 403  # an edit like the others: the CSRF token
        assert not (lib / "reports").exists()
        built = client.post("/report/", data={"csrf": csrf(client)}, follow_redirects=False)
        assert built.status_code == 303 and built.headers["location"] == "/report/"
        r = client.get("/report/")
        assert r.status_code == 200 and "A001C001" in r.text and "onerror=alert(1)" in r.text
        assert "<img src=x onerror" not in r.text  # the failing file's name is escaped by the report too
        assert "script-src" not in r.headers["content-security-policy"]  # its own policy: no script at all
        assert r.headers["content-security-policy"].startswith("default-src 'none'")
        assert "<button>Rebuild</button>" in r.text and f'value="{csrf(client)}"' in r.text
        images = re.findall(r'src="((?:img|contact)/[^"]+)"', r.text)
        assert images
        for src in images[:3]:
            img = client.get("/report/" + src)
            assert img.status_code == 200 and img.content[:2] == b"\xff\xd8"
        data = client.get("/report/report.json").json()
        assert data["totals"]["failed"] == 1
        # a GET never rebuilds: the same report, the same files, however often it is read
        stamp = {p: p.stat().st_mtime_ns for p in (lib / "reports").rglob("*")}
        for _ in range(2):
            assert client.get("/report/").status_code == 200
            assert client.get("/report/report.json").json()["generated_at"] == data["generated_at"]
        assert {p: p.stat().st_mtime_ns for p in (lib / "reports").rglob("*")} == stamp
        for bad in (
            "/report/../catalog.sqlite",
            "/report/%2e%2e/catalog.sqlite",
            "/report/img/../../catalog.sqlite",
            "/report/report.html",
            "/report/img/",
            "/report/contact/x.jpg",
        ):
            assert client.get(bad).status_code in (400, 404), bad
        assert "has been built yet" in client.get("/report/", params={"day": "all"}).text
        # `dailies report --day all` (no --out) builds what the page serves
        assert main(["report", "--library", str(lib), "--day", "all", "--json"]) == 1  # 1: a file failed
        day = client.get("/report/", params={"day": "all"})
        assert day.status_code == 200 and "?day=all" in day.text and 'action="/report/?day=all"' in day.text
        assert client.get("/report/report.json", params={"day": "all"}).json()["day"] == "all"
        assert "every clip" in client.get("/report/", params={"day": "2001-01-01"}).text  # the built ones listed
        rebuilt = client.post("/report/", params={"day": "all"}, data={"csrf": csrf(client)}, follow_redirects=False)
        assert rebuilt.headers["location"] == "/report/?day=all"
        again = client.get("/report/report.json", params={"day": "all"}).json()["generated_at"]
        assert again > data["generated_at"]
        assert sorted(p.name for p in (lib / "reports").iterdir()) == sorted(["all", data["day"]])  # no leftovers
        assert client.get("/report/", params={"day": "../x"}).status_code == 400
        assert client.post("/report/", params={"day": "2026-13-45"}, data={"csrf": csrf(client)}).status_code == 400


def test_scene_take_and_camera_filters_and_the_card_shows_them(web_library, tmp_path):
    from pipeline.editorial.takes import set_take

    lib = tmp_path / "lib"
    shutil.copytree(web_library, lib, symlinks=True)
    cat = open_catalog(lib)
    c1 = rows(lib, "SELECT id FROM clips WHERE path LIKE '%A001C001.mov'")[0][0]
    c3 = rows(lib, "SELECT id FROM clips WHERE path LIKE '%A001C003.mov'")[0][0]
    set_take(cat, str(c1), scene="012A", take="03", camera="B")
    set_take(cat, str(c3), scene="7", take="1")
    cat.close()
    with TestClient(create_app(lib, settings(results=20)), base_url=BASE) as c:

        def names(**filters):
            hits = c.get("/api/search", params={"q": "x", **filters}).json()["hits"]
            return sorted({h["clip_name"] for h in hits}), len(hits)

        assert names(scene="12A") == (["A001C001.mov"], 3)
        assert names(scene="7") == (["A001C003.mov"], 4)
        assert names(take="3") == (["A001C001.mov"], 3)
        assert names(take="03") == (["A001C001.mov"], 3)  # typed as on the slate
        assert names(camera="B") == (["A001C001.mov"], 3)
        assert names(camera="A") == (["A001C002.mov", "A001C003.mov"], 6)  # camera from the file name
        assert names(scene="12A", take="1") == ([], 0)
        page = c.get("/", params={"scene": "12A"})
        assert page.status_code == 200 and page.text.count('class="card"') == 3
        assert "Sc 12A" in page.text and "Tk 3" in page.text and "Cam B" in page.text
        for option in ('<option value="12A" selected>Sc 12A</option>', '<option value="7" >Sc 7</option>'):
            assert option in page.text  # the scene filter offers the library's scenes


def test_selects_export_in_every_format_and_mixed_rates_refused(client, tmp_path):
    from pipeline.export import read_back

    setups = client.get("/api/selects").json()["setups"]
    best = [ps[0] for ps in setups.values()]
    for fmt, suffix in (("otio", ".otio"), ("edl", ".edl"), ("ale", ".ale"), ("xml", ".xml"), ("fcpxml", ".fcpxml")):
        r = client.get(f"/export/selects.{fmt}")
        assert r.status_code == 200, (fmt, r.text[:300])
        assert r.headers["content-disposition"] == f'attachment; filename="dailies-selects{suffix}"'
        (tmp_path / f"s{suffix}").write_bytes(r.content)
        clips = list(read_back(tmp_path / f"s{suffix}", fmt).find_clips())
        assert [c.name.split(".")[0] for c in clips] == [p["name"].split(".")[0] for p in best], fmt
    # all three takes of the one setup: three frame rates, which an EDL cannot hold
    r = client.get("/export/selects.edl", params={"per_setup": 3})
    assert r.status_code == 400 and "one frame rate" in r.text
    assert client.get("/export/selects.otio", params={"per_setup": 3}).status_code == 200
    assert client.get("/export/selects.otio", params={"per_setup": 0}).status_code == 400
    assert client.get("/export/selects.mov").status_code == 400


def test_search_export_fcpx(client, tmp_path):
    from pipeline.export import read_back

    params = {"q": "a wide shot", "clip": "C002"}
    r = client.get("/export/search.fcpx", params=params)
    assert r.status_code == 200 and r.headers["content-disposition"] == 'attachment; filename="dailies-search.fcpxml"'
    (tmp_path / "x.fcpxml").write_bytes(r.content)
    assert len(list(read_back(tmp_path / "x.fcpxml", "fcpx").find_clips())) == 2


def test_report_redirect_favicon_and_static_files(client):
    r = client.get("/report", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/report/"
    r = client.get("/report", params={"day": "all"}, follow_redirects=False)
    assert r.headers["location"] == "/report/?day=all"
    assert client.get("/report", params={"day": "<x>"}).status_code == 400
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    for name, kind in (("app.css", "text/css"), ("app.js", "javascript"), ("player.js", "javascript")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"], name
    for listing in ("/static", "/static/", "/report/img", "/report/img/", "/media/clip/", "/media/keyframe"):
        r = client.get(listing)
        assert r.status_code in (400, 404, 405), listing
        assert "player.js" not in r.text and "report.json" not in r.text and "Index of" not in r.text  # no listing


def test_a_lan_server_still_needs_the_csrf_token(web_library):
    app = create_app(web_library, settings(), host="0.0.0.0", token="s3cret-token")
    auth = {"authorization": "Bearer s3cret-token"}
    with TestClient(app, base_url="http://192.168.1.20:8765") as c:
        token = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/", headers=auth).text).group(1)
        shot_id = rows(web_library, "SELECT id FROM shots ORDER BY id LIMIT 1")[0][0]
        url = f"/shot/{shot_id}/tags"
        assert c.post(url, data={"tag": "lan"}).status_code == 401  # no access token
        assert c.post(url, data={"tag": "lan"}, headers=auth).status_code == 403  # no CSRF token
        assert (
            c.post(
                url, data={"tag": "lan", "csrf": token}, headers={**auth, "origin": "http://evil.example"}
            ).status_code
            == 403
        )
        r = c.post(
            url,
            data={"tag": "lan", "csrf": token},
            headers={**auth, "origin": "http://192.168.1.20:8765"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert (
            c.post(
                f"{url}/remove", data={"tag": "lan", "csrf": token}, headers=auth, follow_redirects=False
            ).status_code
            == 303
        )


def test_exports_page_offers_the_current_search_and_the_selects(client):
    empty = client.get("/exports")
    assert empty.status_code == 200 and "No search yet" in empty.text
    assert empty.text.count('href="/export/selects.') == 5 and 'href="/export/search.' not in empty.text
    params = {"q": XSS, "clip": "C001", "scene": "", "per_setup": 2}
    page = client.get("/exports", params=params)
    assert page.status_code == 200 and XSS not in page.text and "&lt;script&gt;" in page.text
    links = re.findall(r'href="(/export/[^"]+)"', page.text)
    search_links = [x.replace("&amp;", "&") for x in links if x.startswith("/export/search.")]
    assert [x.split("?")[0] for x in search_links] == [
        f"/export/search.{f}" for f in ("edl", "ale", "xml", "fcpxml", "otio")
    ]
    assert "<b>3</b> shots" in page.text  # the three shots of C001, as on the search page
    for url in search_links + [x.replace("&amp;", "&") for x in links if x.startswith("/export/selects.")]:
        r = client.get(url)
        assert r.status_code in (200, 400), url  # 400: a mix of frame rates that EDL/ALE/FCPX cannot hold
        assert r.status_code == 200 or "one frame rate" in r.text, url
    assert "/export/selects.otio?per_setup=2" in links
    assert "<b>2</b> takes from 1 setup" in page.text
    assert '<option value="4" selected>' in client.get("/exports", params={"per_setup": 4}).text
    assert client.get("/exports", params={"selects_scene": "../x"}).status_code == 400
    assert client.get("/exports", params={"per_setup": 0}).status_code == 400
    assert "All exports" in client.get("/", params={"q": "x"}).text and "All exports" in client.get("/selects").text


# -- every route has a test ------------------------------------------------------------------------
# (method, path) of every route of the app -> the tests of this module that exercise it
ROUTE_TESTS = {
    ("GET", "/"): [
        "test_browse_lists_shots_in_clip_order_and_pages",
        "test_query_text_is_escaped_everywhere",
        "test_filters_narrow_before_ranking",
        "test_scene_take_and_camera_filters_and_the_card_shows_them",
    ],
    ("GET", "/api/search"): [
        "test_text_search_page_warns_that_random_tiny_is_not_semantic",
        "test_more_like_this_finds_the_keyframes_own_shot_first",
        "test_long_or_malformed_parameters_are_refused",
    ],
    ("POST", "/search/image"): [
        "test_image_upload_searches_and_holds_only_a_reencoded_thumbnail",
        "test_non_images_are_refused",
        "test_gif_and_oversized_images_are_refused",
        "test_oversized_uploads_are_refused_before_they_are_read",
    ],
    ("GET", "/media/query/{key}"): ["test_image_upload_searches_and_holds_only_a_reencoded_thumbnail"],
    ("GET", "/shot/{shot_id}"): [
        "test_shot_page_has_player_at_in_point_filmstrip_and_neighbours",
        "test_a_source_a_browser_cannot_play_shows_a_still_and_says_why",
    ],
    ("GET", "/clip/{clip_id}"): ["test_clip_link_opens_its_first_shot"],
    ("GET", "/api/shot/{shot_id}"): ["test_shot_page_has_player_at_in_point_filmstrip_and_neighbours"],
    ("POST", "/shot/{shot_id}/tags"): [
        "test_tags_are_added_escaped_filtered_and_removed",
        "test_a_lan_server_still_needs_the_csrf_token",
    ],
    ("POST", "/shot/{shot_id}/tags/remove"): ["test_tags_are_added_escaped_filtered_and_removed"],
    ("POST", "/clip/{clip_id}/take"): ["test_circle_notes_and_pin_reject"],
    ("POST", "/clip/{clip_id}/override"): ["test_circle_notes_and_pin_reject"],
    ("GET", "/selects"): ["test_circle_notes_and_pin_reject"],
    ("GET", "/api/selects"): ["test_circle_notes_and_pin_reject", "test_selects_export"],
    ("GET", "/export/search.{fmt}"): [
        "test_search_results_export_and_reimport",
        "test_search_export_fcpx",
        "test_a_filtered_browse_exports_its_shots_in_clip_order",
    ],
    ("GET", "/export/selects.{fmt}"): [
        "test_selects_export",
        "test_selects_export_in_every_format_and_mixed_rates_refused",
    ],
    ("GET", "/exports"): ["test_exports_page_offers_the_current_search_and_the_selects"],
    ("GET", "/library"): ["test_library_page_lists_clips_stages_and_failures_escaped"],
    ("GET", "/api/library"): ["test_library_page_lists_clips_stages_and_failures_escaped"],
    ("GET", "/report"): ["test_report_redirect_favicon_and_static_files"],
    ("GET", "/report/"): ["test_morning_report_is_served_with_only_its_own_files"],
    ("GET", "/report/{name:path}"): ["test_morning_report_is_served_with_only_its_own_files"],
    ("POST", "/report/"): ["test_morning_report_is_served_with_only_its_own_files"],
    ("GET", "/media/keyframe/{keyframe_id}"): [
        "test_keyframes_are_served_by_id_only",
        "test_a_tampered_catalog_path_cannot_escape_the_library",
    ],
    ("GET", "/media/clip/{clip_id}"): [
        "test_clip_video_is_the_h264_proxy_with_range_requests",
        "test_without_a_usable_proxy_the_source_is_served",
    ],
    ("GET", "/favicon.ico"): ["test_report_redirect_favicon_and_static_files"],
    ("MOUNT", "/static"): ["test_report_redirect_favicon_and_static_files", "test_keyframes_are_served_by_id_only"],
}


def app_routes(routes):
    for r in routes:
        if hasattr(r, "original_router"):  # FastAPI's included router
            yield from app_routes(r.original_router.routes)
        elif hasattr(r, "methods") and r.methods:
            yield from ((m, r.path) for m in r.methods if m != "HEAD")
        else:
            yield "MOUNT", r.path


def test_every_route_of_the_app_has_a_test(app):
    routes = set(app_routes(app.routes))
    assert len(routes) >= 20
    assert routes - ROUTE_TESTS.keys() == set(), "routes without a test: add them to ROUTE_TESTS with their tests"
    assert ROUTE_TESTS.keys() - routes == set(), "ROUTE_TESTS names routes the app no longer has"
    missing = {name for names in ROUTE_TESTS.values() for name in names if not callable(globals().get(name))}
    assert missing == set()
