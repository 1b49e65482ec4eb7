"""docs/architecture.md, the walk a newcomer reads first, says only what the code holds.

Each quoted block names its file and must be found there line for line, in order (`...`
skips lines); each file it names exists; each "`file.py` `name`" it pairs is defined there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGE = REPO_ROOT / "docs" / "architecture.md"
TEXT = PAGE.read_text(encoding="utf-8")
# Where the page's short paths start from (library paths are written from layers/cutout/).
BASES = (REPO_ROOT, REPO_ROOT / "layers" / "cutout", REPO_ROOT / "layers", REPO_ROOT / "docs")
QUOTE = re.compile(r"<!-- quoted from (\S+) -->\n```python\n(.*?)\n```", re.DOTALL)
PATH = re.compile(r"`([\w./-]+\.(?:py|md|json))`")
PAIR = re.compile(r"`([\w./-]+\.py)` `(\w+)`")


def _resolve(path: str) -> Path | None:
    for base in BASES:
        if (base / path).is_file():
            return base / path
    return None


def _quotes() -> list[tuple[str, str]]:
    return QUOTE.findall(TEXT)


def test_the_page_quotes_code():
    assert len(_quotes()) >= 4


@pytest.mark.parametrize(("path", "block"), _quotes(), ids=[p for p, _ in _quotes()])
def test_each_quoted_block_is_in_the_file_it_names(path, block):
    # Given a quoted block and the file it says it comes from
    source = _resolve(path)
    assert source is not None, f"docs/architecture.md quotes {path}, which does not exist"
    lines = [line.rstrip() for line in source.read_text(encoding="utf-8").splitlines()]
    # Then its lines stand there in the same order (`...` stands for lines left out)
    at = 0
    for quoted in block.splitlines():
        if quoted.strip() == "...":
            continue
        try:
            at = lines.index(quoted.rstrip(), at) + 1
        except ValueError:
            pytest.fail(f"{path} has no line {quoted.strip()!r} after line {at}")


def test_every_file_the_page_names_exists():
    missing = sorted({path for path in PATH.findall(TEXT) if _resolve(path) is None})
    assert missing == []


@pytest.mark.parametrize(("path", "name"), sorted(set(PAIR.findall(TEXT))))
def test_each_name_the_page_places_in_a_file_is_defined_there(path, name):
    source = _resolve(path)
    assert source is not None, path
    code = source.read_text(encoding="utf-8")
    assert re.search(rf"^\s*(?:def|class)\s+{name}\b|^{name}\s*[:=]", code, re.MULTILINE), (
        f"docs/architecture.md says {path} has {name}")


METHOD = re.compile(r"`([A-Z]\w+)\.(\w+)`")


def _class_files() -> dict[str, str]:
    found: dict[str, str] = {}
    for source in (REPO_ROOT / "layers" / "cutout").rglob("*.py"):
        code = source.read_text(encoding="utf-8")
        for name in re.findall(r"^class (\w+)", code, re.MULTILINE):
            found.setdefault(name, code)
    return found


@pytest.mark.parametrize(("cls", "method"), sorted(set(METHOD.findall(TEXT))))
def test_each_method_the_page_names_exists(cls, method):
    code = _class_files().get(cls)
    assert code is not None, f"docs/architecture.md names a class {cls} the library lacks"
    assert re.search(rf"^\s+def {method}\b", code, re.MULTILINE), f"{cls} has no {method}"
