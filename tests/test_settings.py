"""One definition per setting (issue 12): default, meaning, unit and valid values live in the dataclass
fields of pipeline/config.py; validation, the CLI's choices and configs/default.toml follow from them."""

import ast
import dataclasses
import json
import re
import tomllib
from pathlib import Path

import pytest
from conftest import cli

from pipeline.cli import build_parser
from pipeline.config import (
    CONFIG_DIR,
    ENVIRONMENT,
    AnalysisSettings,
    KeyframeSettings,
    Settings,
    ShotSettings,
    TagSettings,
    choices_of,
    definitions,
    load_settings,
    settings_hash,
    spec,
)
from pipeline.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TOML = CONFIG_DIR / "default.toml"


# -- configs/default.toml and the definitions agree ------------------------------------------------


def test_default_toml_has_every_key_of_the_code_and_nothing_else():
    toml = tomllib.loads(DEFAULT_TOML.read_text())
    code = {f.name: type(getattr(Settings(), f.name)) for f in dataclasses.fields(Settings)}
    assert list(toml) == list(code), "sections of default.toml and of Settings (same order)"
    for section, cls in code.items():
        fields = {f.name: f for f in dataclasses.fields(cls)}
        assert set(toml[section]) == set(fields), f"[{section}] keys differ from {cls.__name__}"
        for name, value in toml[section].items():
            default = fields[name].default
            if isinstance(value, list):
                value = tuple(value)
            # same type too: `threshold = 27` in the file would document an int for a float setting
            assert type(value) is type(default) and value == default, f"{section}.{name}: {value!r} != {default!r}"


def test_default_toml_documents_every_key():
    """Every key has a comment above it (a key right below another key shares that key's comment)."""
    section, previous = None, None
    undocumented = []
    for line in DEFAULT_TOML.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section, previous = stripped, "section"
        elif stripped.startswith("#"):
            previous = "comment"
        elif re.match(r"[a-z_]+ = ", stripped):
            if previous not in ("comment", "key"):
                undocumented.append(f"{section} {stripped.split(' =')[0]}")
            previous = "key"
        elif not stripped:
            previous = None if previous == "key" else previous
    assert not undocumented, f"keys without a comment in default.toml: {undocumented}"


def test_every_setting_has_a_meaning_and_valid_values():
    for key, default, s in definitions():
        assert s.meaning and "\n" not in s.meaning and len(s.meaning) <= 110, key
        assert s.type is type(default), key
        if s.type in (int, float):
            assert s.unit, f"{key}: a number needs its unit"
            assert s.min is not None or s.above is not None, f"{key}: no lower bound"
        if s.type is str and not s.choices:
            assert s.empty or default, key  # free text: empty refused unless `empty` says what it means
        assert s.valid(), key
        s.check(key, default)  # the default is valid


def test_settings_hash_does_not_change():
    """Stage keys hash these sections: a changed hash would redo every library's work. The values are those
    of the `restructure` branch before the definitions moved into field metadata."""
    s = Settings()
    assert {f.name: settings_hash(getattr(s, f.name)) for f in dataclasses.fields(s)} == {
        "analysis": "c41c82b654e5c127",
        "shots": "79d0347cd9bf13d7",
        "keyframes": "49848b6cc34307df",
        "embed": "272618952ba8f8ec",
        "search": "ca91bac2f2287003",
        "reliability": "602c4086c0834147",
        "web": "ceca415d1abaa872",
        "verify": "612d7f0c19a3761b",
        "proxies": "c6f7f40514570e2c",
        "batch": "fdead1a3c4394a4b",
        "report": "13e69e617d837e79",
        "index": "3bb61ee09a1f2bdc",
        "ray": "30049d7a688d1e2a",
        "takes": "598daab89c96dd13",
        "tags": "6f1c771a9ea80ac3",
        "selects": "59af8c76e62519c8",
        "export": "d6643dd041fd9155",  # a new section: exports only, no stage key hashes it
    }
    assert settings_hash(s) == "2714b519b0430622"  # with [export] (issue 16); no stage key hashes the whole
    assert load_settings() == s


# -- validation: every key, a clear error naming it ------------------------------------------------

BAD = [
    ("keyframes", "seconds_per_keyframe", "0", "more than 0"),  # a ZeroDivisionError before
    ("analysis", "short_side", "0", "32 to 4320 pixels"),
    ("shots", "threshold", "-5", "more than 0, at most 255"),
    ("keyframes", "jpeg_quality", "1000", "1 to 100"),
    ("web", "port", "70000", "1 to 65535"),
    ("reliability", "min_decoded_fraction", "0.0", "more than 0, at most 1"),
    ("index", "retrain_growth", "1.0", "more than 1"),
    ("shots", "dissolve_edge", "0.5", "at least 0, less than 0.5"),
    ("batch", "workers", "0", "1 to 256"),
    ("report", "day_start_hour", "24", "0 to 23"),
    ("embed", "device", '"tpu"', "one of: auto, cpu, cuda"),
    ("verify", "checksum", '"sha1"', "one of: xxh64, md5"),
    ("proxies", "burnin_items", '"tc,logo"', "comma-separated list of: tc, clip, scene_take"),
    ("embed", "model", '""', "not empty"),
    ("shots", "min_contrast", "nan", "0 to 255"),
    ("tags", "soft_sharpness", "inf", "more than 0, at most 1000000"),
]


@pytest.mark.parametrize("section,key,value,valid", BAD, ids=[f"{s}.{k}={v}" for s, k, v, _ in BAD])
def test_out_of_range_values_are_refused_naming_file_key_value_and_range(tmp_path, section, key, value, valid):
    f = tmp_path / "dailies.toml"
    f.write_text(f"[{section}]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(f)
    message = str(exc.value)
    assert message.startswith(f"{f}: {section}.{key} = ")
    assert valid in message and spec(f"{section}.{key}").meaning in message and "fix it in that file" in message
    # the same rule for a section made in code and for CLI values (Settings.replace)
    typed = tomllib.loads(f.read_text())[section][key]
    with pytest.raises(ConfigError, match=re.escape(f"{section}.{key} = ")):
        Settings().replace(section, **{key: typed})


def test_bounds_are_inclusive_where_they_say_so(tmp_path):
    f = tmp_path / "dailies.toml"
    f.write_text(
        "[shots]\nthreshold = 255\n[keyframes]\njpeg_quality = 1\n[web]\nport = 65535\n[report]\nday_start_hour = 0\n"
    )
    s = load_settings(f)
    assert (s.shots.threshold, s.keyframes.jpeg_quality, s.web.port, s.report.day_start_hour) == (255.0, 1, 65535, 0)
    with pytest.raises(ConfigError, match=r"shots\.threshold = 0"):
        ShotSettings(threshold=0)  # "more than 0": the scores are divided by it
    assert KeyframeSettings(seconds_per_keyframe=0.04).seconds_per_keyframe == 0.04
    assert Settings().replace("proxies", burnin_items="clip, tc,").proxies.burnin_items == "clip, tc,"  # as before


def test_wrong_types_are_refused():
    with pytest.raises(ConfigError, match=r"analysis\.short_side must be int \(a whole number\), got True"):
        AnalysisSettings(short_side=True)  # a bool is not a number
    with pytest.raises(ConfigError, match=r"analysis\.short_side must be int .*got 256\.0"):
        Settings().replace("analysis", short_side=256.0)
    with pytest.raises(ConfigError, match=r"shots\.gradual must be bool"):
        ShotSettings(gradual=1)
    with pytest.raises(
        ConfigError, match=r"takes\.patterns = \('\^A', 3\) is not valid: use a list of non-empty texts"
    ):
        Settings().replace("takes", patterns=["^A", 3])
    assert ShotSettings(threshold=30).threshold == 30  # an int for a float setting is a number


def test_rules_between_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"dissolve_min_frames \(50\) must be <= shots\.dissolve_max_frames \(48\)"):
        ShotSettings(dissolve_min_frames=50)
    with pytest.raises(ConfigError, match=r"shots\.black_level .* must be below shots\.white_level"):
        ShotSettings(black_level=240.0)
    with pytest.raises(ConfigError, match=r"tags\.dark_luma .* must be below tags\.bright_luma"):
        TagSettings(dark_luma=0.7)
    f = tmp_path / "dailies.toml"
    f.write_text("[analysis]\nshort_side = 720\n")  # max_long_side stays 640, from default.toml
    with pytest.raises(ConfigError) as exc:
        load_settings(f)
    message = str(exc.value)  # both files named: one set short_side, the other max_long_side
    assert str(f) in message and str(DEFAULT_TOML) in message
    assert message.endswith(": analysis.short_side (720) must be <= analysis.max_long_side (640)")


def test_unknown_keys_name_the_file(tmp_path):
    f = tmp_path / "dailies.toml"
    f.write_text("[shots]\ntreshold = 30\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(f))}: unknown key\(s\) in \[shots\]: treshold; known"):
        load_settings(f)
    f.write_text("[shot]\nthreshold = 30\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(f))}: unknown section\(s\): shot; known"):
        load_settings(f)


def test_cli_refuses_a_bad_setting_with_exit_2(tmp_path):
    f = tmp_path / "extra.toml"
    f.write_text("[keyframes]\nseconds_per_keyframe = 0\n")
    code, out, err = cli("search", "dusk", "--config", str(f), "--library", str(tmp_path / "lib"))
    assert code == 2 and out == ""
    assert f"{f}: keyframes.seconds_per_keyframe = 0.0 is not valid: use more than 0" in err


# -- the CLI's choices are the definitions' ---------------------------------------------------------


def _flags() -> dict[tuple[str, str], tuple]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return {
        (command, action.option_strings[-1] if action.option_strings else action.dest): tuple(action.choices)
        for command, p in sub.choices.items()
        for action in p._actions
        if action.choices
    }


def test_cli_choices_come_from_the_definitions():
    flags = _flags()
    assert flags[("ingest", "--device")] == flags[("search", "--device")] == choices_of("embed.device")
    assert flags[("shots", "--detector")] == choices_of("shots.detector")
    assert flags[("ingest", "--hash")] == choices_of("verify.checksum")
    # no flag lists some of a setting's values by hand
    setting_choices = {s.choices for _, _, s in definitions() if s.choices}
    for flag, choices in flags.items():
        overlapping = [c for c in setting_choices if len(set(c) & set(choices)) >= 2]
        assert all(c == choices for c in overlapping), (flag, choices, overlapping)
    with pytest.raises(KeyError, match="shots.threshold has no choices"):
        choices_of("shots.threshold")
    with pytest.raises(KeyError, match="shots.treshold is not a setting"):
        choices_of("shots.treshold")


def test_the_code_that_reads_a_choice_knows_the_same_values():
    from models.clip import PRECISIONS
    from pipeline.index_kinds import ENCODINGS

    assert tuple(PRECISIONS) == choices_of("embed.precision")
    assert tuple(ENCODINGS) == choices_of("index.large_encoding")


# -- environment variables: read in pipeline/config.py only, every name declared --------------------


def environ_reads(source: str) -> list[int]:
    """Line numbers where `source` reads the process environment (os.environ / os.getenv / getenv);
    assigning one variable (`os.environ["X"] = "0"`, for a library this process starts) is not a read."""
    tree = ast.parse(source)
    written = {
        id(t.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Subscript)
    }
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "environb", "getenv", "getenvb"):
            if id(node) not in written:
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            if any(a.name in ("environ", "environb", "getenv", "getenvb") for a in node.names):
                lines.append(node.lineno)
    return sorted(lines)


def _sources():
    for folder in ("pipeline", "models"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text()


def test_the_environment_scan_finds_reads():
    assert environ_reads("import os\nx = os.environ.get('X')\ny = os.getenv('Y')\nz = 'Z' in os.environ\n") == [
        2,
        3,
        4,
    ]
    assert environ_reads("from os import environ\n") == [1]
    assert environ_reads("import os\nenv = {**os.environ}\n") == [2]
    assert environ_reads("import os\nos.environ['RAY_X'] = '0'\n") == []


def test_only_config_reads_the_environment():
    found = {rel: lines for rel, text in _sources() if rel != "pipeline/config.py" and (lines := environ_reads(text))}
    assert not found, f"read the environment through pipeline.config.env() (add the name to ENVIRONMENT): {found}"


def test_every_env_name_is_declared_and_every_declared_name_is_used():
    used = {}
    for rel, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "env":
                arg = node.args[0] if node.args else None
                assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), (
                    f"{rel}:{node.lineno}: env() takes the variable's name as a literal"
                )
                used.setdefault(arg.value, rel)
    assert set(used) <= set(ENVIRONMENT), sorted(set(used) - set(ENVIRONMENT))
    assert set(ENVIRONMENT) <= set(used), f"declared but never read: {sorted(set(ENVIRONMENT) - set(used))}"


# -- dailies settings -------------------------------------------------------------------------------


def test_settings_command_lists_every_key_with_the_value_in_effect(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "dailies.toml").write_text("[shots]\nthreshold = 30\n")
    code, out, _ = cli("settings", "--library", str(lib), "--json")
    assert code == 0
    rows = {r["key"]: r for r in json.loads(out)["settings"]}
    assert list(rows) == [key for key, _, _ in definitions()]
    assert rows["shots.threshold"] == {
        "key": "shots.threshold",
        "default": 27.0,
        "value": 30.0,
        "changed": True,
        "meaning": "ContentDetector threshold on the mean HSV change between frames",
        "unit": "HSV distance",
        "valid": "more than 0, at most 255",
    }
    assert [k for k, r in rows.items() if r["changed"]] == ["shots.threshold"]
    code, out, _ = cli("settings", "--library", str(lib))
    assert code == 0 and '[shots]\n  detector = "content"\n' in out and "  threshold = 30.0  (default 27.0)\n" in out
