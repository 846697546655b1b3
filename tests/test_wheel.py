"""The wheel a Ray node installs (`pip install ".[ray]"`, README) carries everything `dailies` reads.

The wheel is built from a copy of the source (the files the build needs, so no stale `build/` folder of
an earlier build leaks into it), installed into a fresh virtualenv and run from a folder outside the
repository with no DAILIES_CONFIG_DIR: configs/ must travel inside it as pipeline/_configs. The fresh
venv gets the heavy dependencies (torch, open_clip, faiss...) from the project venv through a `.pth`
line naming its site-packages: a plain path line does not process that folder's own `.pth` files, so
the project's editable install stays invisible (checked: `pipeline` is imported from the fresh venv).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from pipeline.media.synth import make_cuts_clip

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ["pyproject.toml", "README.md", "pipeline", "models", "configs"]

pytestmark = pytest.mark.slow


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{argv} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def _source_files(folder: Path) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("wheel-src")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel-out")
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
    _run([*argv, "--disable-pip-version-check", "-q", "-w", str(out), str(src)], cwd=src, env=dict(os.environ))
    (built,) = out.glob("dailies-*.whl")
    return built


def test_wheel_carries_configs_and_every_module(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    top = {n.split("/", 1)[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"pipeline", "models"}, top
    for package in ("pipeline", "models"):
        missing = {f"{package}/{f}" for f in _source_files(ROOT / package) if f.endswith(".py")} - names
        assert not missing, f"not in the wheel (a subpackage missing from [tool.setuptools] packages?): {missing}"
    missing = {f"pipeline/_configs/{f}" for f in _source_files(ROOT / "configs")} - names
    assert not missing, f"configs/ files not in the wheel (add a glob to package-data 'pipeline._configs'): {missing}"


def test_installed_wheel_lists_models_and_ingests(wheel, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DAILIES_CONFIG_DIR", "DAILIES_LIBRARY")}
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    py = venv / "bin" / "python"
    site = Path(
        _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, env).stdout.strip()
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "dailies-deps.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
    _run(
        [str(py), "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check", "-q", str(wheel)],
        tmp_path,
        env,
    )

    where = _run(
        [str(py), "-c", "import pipeline, pipeline.config as c; print(pipeline.__file__); print(c.CONFIG_DIR)"],
        tmp_path,
        env,
    )
    module, config_dir = where.stdout.splitlines()
    assert Path(module) == site / "pipeline" / "__init__.py", (
        "pipeline must come from the wheel, not the editable install"
    )

    dailies = str(venv / "bin" / "dailies")
    presets = json.loads(_run([dailies, "models", "--json"], tmp_path, env).stdout)["presets"]
    assert {p["name"] for p in presets} == {p.stem for p in (ROOT / "configs" / "models").glob("*.toml")}
    assert next(p for p in presets if p["name"] == "random-tiny")["usable"] is True
    assert Path(config_dir) == site / "pipeline" / "_configs"

    clip = make_cuts_clip(tmp_path / "A001C002.mov", [45, 35], "25")
    argv = [
        dailies,
        "ingest",
        str(clip),
        "--library",
        str(tmp_path / "lib"),
        "--model",
        "random-tiny",
        "--no-mhl",
        "--json",
    ]
    report = json.loads(_run(argv, tmp_path, env).stdout)
    assert report["summary"] == {"ok": 1, "failed": 0, "skipped": 0}
    assert [(f["status"], f["shots"]) for f in report["files"]] == [("ok", 2)]
