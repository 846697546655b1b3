import json
import sqlite3
import time

import pytest

from pipeline.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def dump(library):
    conn = sqlite3.connect(library / "catalog.sqlite")
    tables = ["clips", "stage_runs", "shots", "keyframes", "vectors", "models", "meta"]
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}


@pytest.fixture(scope="module")
def library(footage, tmp_path_factory):
    lib = tmp_path_factory.mktemp("lib")
    assert main(["ingest", str(footage), "--library", str(lib), "--model", "random-tiny", "--json"]) == 0
    return lib


def test_ingest_catalogues_every_clip(library, capsys):
    code, out, _ = run(capsys, "clips", "--library", str(library), "--json")
    assert code == 0
    clips = json.loads(out)["clips"]
    assert [c["path"].rsplit("/", 1)[1] for c in clips] == ["A001C001.mov", "A001C002.mov", "A001C003.mov"]
    assert [c["shots"] for c in clips] == [3, 2, 4]
    for c in clips:
        assert c["status"] == "ok"
        assert [(k, v["status"]) for k, v in c["stages"].items()] == [  # in the order of STAGES
            (s, "done") for s in ("probe", "analyze", "takes", "measure", "embed")
        ]
        assert c["missing_stages"] == []
        assert c["content_hash"].startswith("xxh64:")
    assert clips[0]["probe"]["fps"] == "24000/1001" and clips[0]["probe"]["start_tc"] == "01:00:00:00"


def test_second_ingest_does_no_work(library, footage, capsys):
    before = dump(library)
    code, out, _ = run(capsys, "ingest", str(footage), "--library", str(library), "--model", "random-tiny", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["work_done"] == 0
    assert all(f["ran"] == [] for f in report["files"])
    assert dump(library) == before


def test_changed_setting_redoes_exactly_what_depends_on_it(footage, tmp_path, capsys):
    lib = tmp_path / "lib"
    assert main(["ingest", str(footage), "--library", str(lib), "--model", "random-tiny", "--json"]) == 0
    capsys.readouterr()
    (lib / "dailies.toml").write_text("[keyframes]\nseconds_per_keyframe = 1.0\n")
    code, out, _ = run(capsys, "ingest", str(footage), "--library", str(lib), "--model", "random-tiny", "--json")
    assert code == 0
    ran = {f["path"].rsplit("/", 1)[1]: f["ran"] for f in json.loads(out)["files"]}
    assert all(stages == ["analyze", "embed"] for stages in ran.values()), ran
    conn = sqlite3.connect(lib / "catalog.sqlite")
    # the new setting took effect: one keyframe per started second of each shot (was one per shot)
    per_shot = conn.execute(
        "SELECT s.end_frame - s.start_frame + 1, c.probe_json, count(k.id) FROM shots s"
        " JOIN clips c ON c.id = s.clip_id JOIN keyframes k ON k.shot_id = s.id GROUP BY s.id"
    ).fetchall()
    for length, probe, count in per_shot:
        num, _, den = json.loads(probe)["fps"].partition("/")
        assert count == max(1, -(-length * int(den or 1) // int(num))), (length, probe, count)
    assert max(count for *_, count in per_shot) > 1
    # no vector left behind for keyframes that are gone, and the index agrees with the catalog
    assert (
        conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
        == conn.execute("SELECT count(*) FROM keyframes").fetchone()[0]
    )
    stamp = json.loads(next((lib / "index").glob("*.json")).read_text())
    assert stamp["count"] == conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    # search ranks shots, each by its best keyframe: a shot's second keyframe finds that shot first,
    # with that keyframe, and a long list names every shot once
    shot_id, frame, thumb = conn.execute(
        "SELECT k.shot_id, k.frame, k.thumb FROM keyframes k WHERE k.shot_id IN (SELECT shot_id FROM keyframes"
        " GROUP BY shot_id HAVING count(*) > 1) ORDER BY k.shot_id, k.frame LIMIT 1 OFFSET 1"
    ).fetchone()
    code, out, _ = run(capsys, "search", "--image", str(lib / thumb), "--library", str(lib), "--limit", "100", "--json")
    hits = json.loads(out)["hits"]
    assert code == 0 and (hits[0]["shot_id"], hits[0]["keyframe"]) == (shot_id, frame)
    assert hits[0]["thumbnail"] == str(lib / thumb) and hits[0]["score"] == pytest.approx(1.0, abs=1e-3)
    assert sorted(h["shot_id"] for h in hits) == [r[0] for r in conn.execute("SELECT id FROM shots ORDER BY id")]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    # a setting no stage depends on changes nothing
    (lib / "dailies.toml").write_text("[keyframes]\nseconds_per_keyframe = 1.0\n[search]\nlimit = 3\n")
    code, out, _ = run(capsys, "ingest", str(footage), "--library", str(lib), "--model", "random-tiny", "--json")
    assert code == 0 and json.loads(out)["work_done"] == 0


def test_image_search_finds_its_own_keyframe_first(library, capsys):
    conn = sqlite3.connect(library / "catalog.sqlite")
    rows = conn.execute(
        "SELECT k.thumb, s.id, s.start_frame, c.path FROM keyframes k JOIN shots s ON s.id = k.shot_id"
        " JOIN clips c ON c.id = s.clip_id ORDER BY k.id"
    ).fetchall()
    assert len(rows) >= 9
    for thumb, _shot_id, start, path in rows[::3]:
        code, out, _ = run(
            capsys, "search", "--image", str(library / thumb), "--library", str(library), "--json", "--limit", "3"
        )
        assert code == 0
        data = json.loads(out)
        top = data["hits"][0]
        assert (top["clip"], top["start_frame"]) == (path, start)
        assert top["score"] == pytest.approx(1.0, abs=1e-3)
        assert data["semantic"] is False and "random-init" in data["warning"]


def test_text_search_says_it_is_not_semantic(library, capsys):
    code, out, _ = run(capsys, "search", "woman laughing", "--library", str(library))
    assert code == 0
    assert out.startswith("warning:") and "random-init" in out
    code, out, _ = run(capsys, "search", "woman laughing", "--library", str(library), "--json", "--limit", "4")
    data = json.loads(out)
    assert len(data["hits"]) == 4 and len({(h["clip"], h["shot"]) for h in data["hits"]}) == 4
    assert [h["rank"] for h in data["hits"]] == [1, 2, 3, 4]
    assert data["semantic"] is False


@pytest.mark.expect_log_error(r"notes\.mov: failed", r"EMPTY\.mov: failed", r"card: failed MHL not written")
def test_bad_files_get_one_line_errors_and_the_rest_is_ingested(footage, tmp_path, capsys):
    card = tmp_path / "card"
    card.mkdir()
    for clip in footage.iterdir():
        (card / clip.name).symlink_to(clip)
    (card / "EMPTY.mov").write_bytes(b"")
    (card / "notes.mov").write_text("this is not a video\n" * 20)
    (card / "readme.txt").write_text("camera report\n")
    code, out, err = run(
        capsys, "ingest", str(card), "--library", str(tmp_path / "lib"), "--model", "random-tiny", "-v"
    )
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert any("EMPTY.mov" in e and "empty" in e for e in errors)
    assert any("notes.mov" in e and "not a media file" in e for e in errors)
    assert "3 clip(s) ingested, 2 failed, 1 skipped" in out
    assert any("readme.txt" in line and line.startswith("note:") for line in err.splitlines())


@pytest.mark.expect_log_error(r"embedding unavailable: model weights for vit-b-32 .* are not on this machine")
def test_offline_default_model_fails_fast_and_leaves_embedding_pending(footage, tmp_path, capsys):
    lib = tmp_path / "lib"
    t0 = time.monotonic()
    code, out, err = run(capsys, "ingest", str(footage), "--library", str(lib), "--json")  # default preset vit-b-32
    elapsed = time.monotonic() - t0
    assert code == 1
    assert elapsed < 30  # the analysis of three small clips dominates; no minute of retries
    report = json.loads(out)
    assert "dailies models fetch vit-b-32" in report["embedding_pending"]
    assert "--model /path/to/" in report["embedding_pending"]
    assert report["summary"]["ok"] == 3
    code, out, _ = run(capsys, "clips", "--library", str(lib), "--json")
    for c in json.loads(out)["clips"]:
        assert c["stages"]["analyze"]["status"] == "done"
        assert c["stages"]["embed"]["status"] == "pending"
    code, _, err = run(capsys, "search", "anything", "--library", str(lib))
    assert code == 1 and "no embeddings yet" in err


@pytest.mark.expect_log_error(r"embedding unavailable: no weights file .* in model folder")
def test_pending_embedding_is_filled_in_when_weights_arrive(footage, tmp_path, capsys):
    import shutil

    import torch

    from models.clip import OpenClipEmbedder
    from pipeline.embed import load_preset

    model_dir = tmp_path / "tiny-model"
    model_dir.mkdir()
    shutil.copy(load_preset("random-tiny").local_dir_path / "open_clip_config.json", model_dir)
    lib = tmp_path / "lib"
    code, out, _ = run(capsys, "ingest", str(footage), "--library", str(lib), "--model", str(model_dir), "--json")
    assert code == 1 and "no weights file" in json.loads(out)["embedding_pending"]
    # the weights arrive: a checkpoint file in the model folder
    tiny = OpenClipEmbedder(load_preset("random-tiny"))
    tiny.load()
    torch.save(tiny._model.state_dict(), model_dir / "open_clip_pytorch_model.bin")
    code, out, _ = run(capsys, "ingest", str(footage), "--library", str(lib), "--model", str(model_dir), "--json")
    report = json.loads(out)
    assert code == 0 and report["embedding_pending"] is None
    assert all(f["ran"] == ["embed"] for f in report["files"])
    assert report["index"]["total"] > 0 and report["semantic"] is True


def test_clips_and_index_say_the_model_is_not_semantic(library, capsys):
    code, out, _ = run(capsys, "clips", "--library", str(library), "--json")
    data = json.loads(out)
    assert code == 0 and data["model"].startswith("open_clip:local-dir:random-tiny")
    assert data["semantic"] is False and "random-init" in data["warning"]
    code, out, _ = run(capsys, "clips", "--library", str(library))
    assert out.startswith("warning: ") and "random-init" in out.splitlines()[0]


def test_index_rebuilt_from_stored_vectors_by_the_cli(library, capsys):
    """`dailies index rebuild`: the FAISS index comes back from the catalog's vectors, stamped with the model."""
    conn = sqlite3.connect(library / "catalog.sqlite")
    n = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    for f in (library / "index").iterdir():
        f.unlink()
    code, out, _ = run(capsys, "index", "rebuild", "--library", str(library), "--json")
    data = json.loads(out)
    assert code == 0 and data["total"] == n and data["semantic"] is False and "random-init" in data["warning"]
    stamp = json.loads(next((library / "index").glob("*.json")).read_text())
    assert stamp["model"] == data["model"] == conn.execute("SELECT value FROM meta WHERE key = 'model'").fetchone()[0]
    assert stamp["count"] == n
    thumb = conn.execute("SELECT thumb FROM keyframes ORDER BY id LIMIT 1").fetchone()[0]
    code, out, _ = run(capsys, "search", "--image", str(library / thumb), "--library", str(library), "--json")
    assert code == 0 and json.loads(out)["hits"][0]["score"] == pytest.approx(1.0, abs=1e-3)


def test_work_is_keyed_by_content_not_by_file_time(footage, tmp_path, capsys):
    """A touched file is read and hashed again, nothing else; a file whose content changed is redone."""
    import os
    import shutil

    from pipeline.media.synth import make_cuts_clip

    card = tmp_path / "card"
    card.mkdir()
    clip = card / "A001C001.mov"
    shutil.copy(footage / "A001C001.mov", clip)
    lib = str(tmp_path / "lib")
    assert main(["ingest", str(card), "--library", lib, "--model", "random-tiny", "--no-mhl", "--json"]) == 0
    capsys.readouterr()
    st = clip.stat()
    os.utime(clip, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    code, out, _ = run(capsys, "ingest", str(card), "--library", lib, "--model", "random-tiny", "--no-mhl", "--json")
    assert code == 0 and json.loads(out)["files"][0]["ran"] == ["hash"]
    make_cuts_clip(clip, [30, 30], "25")  # same name, new content
    code, out, _ = run(capsys, "ingest", str(card), "--library", lib, "--model", "random-tiny", "--no-mhl", "--json")
    f = json.loads(out)["files"][0]
    assert code == 0 and f["ran"] == ["hash", "probe", "analyze", "takes", "measure", "embed"] and f["shots"] == 2
