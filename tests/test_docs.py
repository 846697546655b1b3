"""README.md and docs/*.md point at things that exist: links, headings, files, modules, variables, commands.

Docs drift when code moves (the README's old Layout section named a dozen modules that had moved or
gone). These checks read the Markdown as text, so they run in a fraction of a second.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from pipeline.cli import COMMANDS
from pipeline.config import ENVIRONMENT

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
# a path the docs name: repository folders, then path characters; `*`, `<` or `{` right after means a pattern
PATH = re.compile(r"(?<![\w./-])((?:pipeline|models|scripts|tests|configs)/[\w./-]*)(?![*<{\w])")
PY_FILE = re.compile(r"(?<![\w./-])([\w/]+\.py)\b")
MODULE = re.compile(r"(?<![\w./-])((?:pipeline|models)(?:\.\w+)+)")


def _ids(page: Path) -> str:
    return str(page.relative_to(REPO))


def prose(text: str) -> str:
    """The text outside fenced code blocks, inline code kept (links may wrap it)."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: link text kept, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in prose(page.read_text()).splitlines():
        m = re.match(r"#{1,6} (.+)", line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return frozenset(out)


@cache
def top_level_names(module_file: Path) -> frozenset[str]:
    names = set()
    for node in ast.parse(module_file.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return frozenset(names)


def module_problem(dotted: str) -> str | None:
    """None when `dotted` is a module (file or package) of the tree, optionally followed by a name it defines."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        base = REPO.joinpath(*parts[:i])
        source = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if source.is_file():
            rest = parts[i:]
            if not rest or rest[0] in top_level_names(source):
                return None
            return f"{'.'.join(parts[:i])} defines no {rest[0]!r}"
    return "no such module"


def test_there_are_pages():
    assert len(PAGES) > 5 and PAGES[0].name == "README.md"


@pytest.mark.parametrize("page", PAGES, ids=_ids)
def test_every_relative_link_points_to_a_file_and_heading_that_exist(page):
    bad = []
    for target in LINK.findall(prose(page.read_text())):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            bad.append(f"{target}: {dest} does not exist")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{target}: no heading #{anchor} in {dest.relative_to(REPO)}")
    assert not bad, f"{_ids(page)}: broken links:\n" + "\n".join(bad)


@pytest.mark.parametrize("page", PAGES, ids=_ids)
def test_every_path_named_exists(page):
    """`pipeline/...`, `models/...`, `scripts/...`, `tests/...` and `configs/...` paths, in prose and in
    code blocks; `x/y.py` paths relative to `pipeline/` (as the architecture page writes them) too."""
    text = page.read_text()
    bad = []
    for path in sorted(set(PATH.findall(text))):
        path = path.rstrip(".")
        if path.startswith("configs/") and re.search(r"[A-Z]", path):  # configs/models/NAME.toml: a placeholder
            continue
        if not (REPO / path).exists():
            bad.append(path)
    for path in sorted(set(PY_FILE.findall(text))):
        if "/" in path:
            found = any((REPO / root / path).is_file() for root in ("", "pipeline", "tests"))
        else:
            found = any(p.is_file() for p in REPO.glob(f"*/**/{path}"))
        if not found:
            bad.append(path)
    assert not bad, f"{_ids(page)} names paths that do not exist: {', '.join(sorted(set(bad)))}"


@pytest.mark.parametrize("page", PAGES, ids=_ids)
def test_every_module_named_exists(page):
    """`pipeline.editorial.selects.propose`: the module exists and defines the name (moved code is caught)."""
    bad = {}
    for dotted in set(MODULE.findall(page.read_text())):
        problem = module_problem(dotted)
        if problem:
            bad[dotted] = problem
    assert not bad, f"{_ids(page)}: " + "; ".join(f"{k}: {v}" for k, v in sorted(bad.items()))


def test_environment_variables_documented_are_the_ones_read():
    """docs/configuration.md lists every variable pipeline/config.py reads, and no page names another."""
    config_page = (REPO / "docs" / "configuration.md").read_text()
    missing = [name for name in ENVIRONMENT if f"`{name}`" not in config_page]
    assert not missing, f"docs/configuration.md does not list {missing} (pipeline/config.py ENVIRONMENT)"
    unknown = {
        f"{_ids(page)}: {name}"
        for page in PAGES
        for name in re.findall(r"\bDAILIES_[A-Z_]+\b", page.read_text())
        if name not in ENVIRONMENT
    }
    assert not unknown, f"variables Dailies does not read: {sorted(unknown)}"


def test_every_command_has_its_section_and_its_tour_row():
    commands = (REPO / "docs" / "commands.md").read_text()
    readme = (REPO / "README.md").read_text()
    missing = [c for c in COMMANDS if not re.search(rf"^## `dailies {c}\b", commands, re.M)]
    assert not missing, f"docs/commands.md has no '## `dailies CMD`' section for {missing}"
    missing = [c for c in COMMANDS if not re.search(rf"^\| `{c}\b", readme, re.M)]
    assert not missing, f"README.md's tour of the commands has no row for {missing}"


def test_readme_opens_with_the_two_commands_and_holds_one_stage_table():
    readme = (REPO / "README.md").read_text()
    lines = readme.splitlines()
    assert lines[3].startswith("scripts/quickstart.sh") and lines[4].startswith("scripts/test.sh"), lines[:6]
    assert readme.count("<!-- stages:start -->") == 1 and readme.count("<!-- stages:end -->") == 1
    table = readme[readme.index("<!-- stages:start -->") : readme.index("<!-- stages:end -->")]
    assert "| stage |" in table
    assert len(lines) <= 250, f"README.md has {len(lines)} lines: keep it a ten-minute read, move detail to docs/"
