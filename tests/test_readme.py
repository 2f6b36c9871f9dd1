"""The README and docs/: every Python example runs as written, every link resolves inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import keras
import pytest

import conv1dify

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())  # wherever this file moves
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]
README_LIMIT = 12_000

FENCE = re.compile(r"^```.*?^```", flags=re.S | re.M)
PYTHON = re.compile(r"^```python\n(.*?)^```", flags=re.S | re.M)
# [text](target) and ![alt](target); a target ends at the first space (an optional "title" follows) or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
# An inline code span that names a file or folder of this repository, e.g. `tests/test_seed.py`.
REPO_PATH = re.compile(r"`((?:src|tests|benchmarks|examples|docs)/[\w./-]*)`")


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _prose(text: str) -> str:
    """The page without its fenced blocks: code samples may show paths and URLs that are not links."""
    return FENCE.sub("", text)


def _links(page: Path, text: str | None = None) -> list[str]:
    prose = _prose(page.read_text() if text is None else text)
    return LINK.findall(prose) + HTML_LINK.findall(prose)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*#*$", _prose(page.read_text()), flags=re.M)
    return {_slug(h) for h in headings}


def _is_external(target: str) -> bool:
    return re.match(r"^(https?|mailto):", target) is not None


def _broken_links(page: Path, text: str | None = None) -> list[str]:
    """Every link of ``page`` (or of ``text`` read as that page) that leaves the repository or names a file or
    anchor that does not exist."""
    broken = []
    for target in _links(page, text):
        if _is_external(target):
            continue
        path_part, _, anchor = target.partition("#")
        if re.match(r"^[a-z]+:", path_part) or path_part.startswith(("/", "~")):
            broken.append(f"{_rel(page)}: {target!r} is an absolute path or a scheme; link within the repository")
            continue
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.is_relative_to(ROOT):
            broken.append(f"{_rel(page)}: {target!r} leaves the repository")
        elif not resolved.exists():
            broken.append(f"{_rel(page)}: {target!r} does not exist")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{_rel(page)}: {target!r} has no heading #{anchor} (headings: {sorted(_anchors(resolved))})")
    return broken


def _run_page(page: Path) -> dict:
    """Run a page's Python blocks in order in one namespace, then the `test_*` functions they define."""
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for index, block in enumerate(PYTHON.findall(page.read_text())):
        exec(compile(block, f"{_rel(page)}[python block {index}]", "exec"), namespace)
        if page == README and index == 0:
            assert namespace["model_1d"].output_shape == (None, 31, 512)
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            value()
    return namespace


PAGES_WITH_CODE = [p for p in PAGES if PYTHON.search(p.read_text())]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=_rel)
def test_python_blocks_run(page, restore_registry, capsys):
    _run_page(page)


def test_readme_has_python_quick_start():
    assert README in PAGES_WITH_CODE
    assert "conv1dify.convert(" in PYTHON.findall(README.read_text())[0]


def test_custom_layer_example_converts(restore_registry):
    block = next(b for b in PYTHON.findall((ROOT / "docs" / "extending.md").read_text()) if "ChannelGate2D" in b)
    namespace: dict = {}
    exec(block, namespace)
    inp = keras.Input((8, 8, 4))
    model = keras.Model(inp, namespace["ChannelGate2D"]()(keras.layers.Conv2D(4, 3, padding="same")(inp)))
    converted = conv1dify.convert(model, layout="height")
    assert type(converted.layers[-1]).__name__ == "ChannelGate1D"
    assert converted.output_shape == (None, 8, 4)


def test_extending_walkthrough_defines_its_test():
    code = "".join(PYTHON.findall((ROOT / "docs" / "extending.md").read_text()))
    assert "def test_gated_conv_sum_identity" in code  # test_python_blocks_run calls it


def test_readme_is_a_front_door():
    text = README.read_text()
    assert len(text) < README_LIMIT, f"README.md has {len(text)} characters; move reference text to docs/"
    assert "make demo" in text and "make test" in text
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_links_every_docs_page():
    linked = {(README.parent / t.partition("#")[0]).resolve() for t in _links(README) if not _is_external(t)}
    index_linked = {(ROOT / "docs" / t.partition("#")[0]).resolve() for t in _links(ROOT / "docs" / "index.md")}
    pages = set((ROOT / "docs").glob("*.md")) - {ROOT / "docs" / "index.md"}
    unlisted = sorted(_rel(p) for p in pages if p.resolve() not in linked)
    assert not unlisted, f"add these pages to the README's Documentation list: {unlisted}"
    unindexed = sorted(_rel(p) for p in pages if p.resolve() not in index_linked)
    assert not unindexed, f"add these pages to docs/index.md: {unindexed}"


def test_every_link_resolves_inside_the_repository():
    broken = [problem for page in PAGES for problem in _broken_links(page)]
    assert not broken, "\n".join(broken)


def test_no_page_names_a_path_outside_the_repository():
    outside = [
        f"{_rel(page)}:{number}: {line.strip()}"
        for page in PAGES
        for number, line in enumerate(page.read_text().splitlines(), start=1)
        if re.search(r"\.\./shared|/work/|file://", line)
    ]
    assert not outside, "\n".join(outside)


def test_repository_paths_in_prose_exist():
    missing = [
        f"{_rel(page)}: `{path}`"
        for page in PAGES
        for path in REPO_PATH.findall(_prose(page.read_text()))
        if not (ROOT / path).exists()
    ]
    assert not missing, "these paths moved or never existed; update the docs:\n" + "\n".join(missing)


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("../../shared/seed/000.txt", "leaves the repository"),
        ("/work/shared/seed/000.txt", "absolute path"),
        ("file:///etc/passwd", "absolute path or a scheme"),
        ("missing.md", "does not exist"),
        ("index.md#no-such-heading", "has no heading"),
    ],
)
def test_link_check_catches(target, problem):
    broken = _broken_links(ROOT / "docs" / "index.md", f"See [this]({target}) and [the README](../README.md).\n")
    assert len(broken) == 1 and problem in broken[0]


def test_slug_follows_github():
    assert _slug("Layouts: how `(H, W, C)` becomes `(L, C')`") == "layouts-how-h-w-c-becomes-l-c"
    assert _slug("Does 2D pretraining transfer?") == "does-2d-pretraining-transfer"
    assert _slug("CI and oneDNN") == "ci-and-onednn"


def _ragged_tables(text: str) -> list[str]:
    """The first row of every table whose rows do not all have as many cells (an unescaped `|` in a cell)."""
    ragged, rows = [], []
    for line in [*_prose(text).splitlines(), ""]:
        if line.startswith("|"):
            rows.append(line)
            continue
        if len({len(re.findall(r"(?<!\\)\|", row)) for row in rows}) > 1:
            ragged.append(rows[0])
        rows = []
    return ragged


def test_tables_are_not_ragged():
    ragged = [f"{_rel(page)}: {row}" for page in PAGES for row in _ragged_tables(page.read_text())]
    assert not ragged, "escape a `|` inside a table cell as `\\|`:\n" + "\n".join(ragged)
    assert _ragged_tables("| a | b |\n|---|---|\n| `int | None` | x |\n")


def test_extending_names_only_real_context_tools():
    """The `ctx.` table in docs/extending.md lists attributes a converter's context really has."""
    import dataclasses

    text = (ROOT / "docs" / "extending.md").read_text()
    table = text.split("## What a converter can use", 1)[1].split("\n## ", 1)[0]
    rows = table.split("|---", 1)[1].splitlines()[1:]  # the body, below the header and its separator
    names = {name for row in rows if row.startswith("|") for name in re.findall(r"`(\w+)", row.split("|")[1])}
    context = conv1dify.LayerContext
    known = {f.name for f in dataclasses.fields(context)} | set(dir(context))
    assert len(names) > 10 and not names - known, f"not on LayerContext: {sorted(names - known)}"


def test_cli_reference_lists_every_command_and_option():
    """docs/cli.md names every subcommand `conv1dify --help` lists, and every long option they take."""
    import argparse

    from conv1dify.cli import build_parser

    text = (ROOT / "docs" / "cli.md").read_text()
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    commands = set(subparsers.choices)
    options = {
        flag for parser in subparsers.choices.values() for action in parser._actions for flag in action.option_strings
    } - {"--help"}
    listed = set(re.findall(r"^\| `(\w+)", text.split("## Commands", 1)[1].split("\n## ", 1)[0], flags=re.M))
    assert commands <= listed, f"add to docs/cli.md's Commands table: {sorted(commands - listed)}"
    undocumented = sorted(flag for flag in options if flag.startswith("--") and f"`{flag}" not in text)
    assert not undocumented, f"document in docs/cli.md: {undocumented}"
