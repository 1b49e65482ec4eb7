"""Nothing that ships imports the local stack: the functions and the library the Lambda layer
carries (every package of `cutout` but the local stack, the CLI and the OpenAPI builder, which
the layer leaves out) never name `cutout.local`, however lazily. The local stack hands in what
it needs (its state machine's ARN, its worker) instead.

Read from the source with `ast`, so an import inside a function or a branch counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "layers" / "cutout"
# infrastructure/layer.py's NOT_SHIPPED, the packages the layer's bundling skips
NOT_SHIPPED = ("local", "cli", "openapi")
LOCAL = "cutout.local"


def _shipped() -> list[Path]:
    library = [path for path in LIBRARY.rglob("*.py")
               if path.relative_to(LIBRARY).parts[0] not in NOT_SHIPPED]
    return sorted(library + list((ROOT / "functions").rglob("*.py")))


def _module(path: Path) -> str:
    """The dotted name of a library module (functions' files are not a package)."""
    if not path.is_relative_to(LIBRARY):
        return ""
    parts = ("cutout", *path.relative_to(LIBRARY).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module a file imports."""
    return imports_of(path.read_text(), _module(path), path.name == "__init__.py")


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module a source imports, relative imports resolved against its package."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[:len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_the_reader_sees_lazy_and_relative_imports():
    # Given a library module with a lazy absolute import and two relative ones
    source = ("def f():\n    from cutout.local import stack\n"
              "from ..local.demo import x\nfrom .. import local\n")
    # When its imports are read, then each names the local stack
    found = imports_of(source, "cutout.service.probe")
    assert {"cutout.local.stack", "cutout.local.demo", "cutout.local"} <= found
    assert _module(LIBRARY / "service" / "batch_setup.py") == "cutout.service.batch_setup"


@pytest.mark.parametrize("path", _shipped(), ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_shipped_imports_the_local_stack(path):
    local = sorted(name for name in imported(path)
                   if name == LOCAL or name.startswith(LOCAL + "."))
    assert local == [], f"{path.relative_to(ROOT)} imports the local stack: {local}"


def test_the_list_of_unshipped_packages_is_the_layers():
    # The layer's bundling decides what ships; this test must skip exactly those packages.
    tree = ast.parse((ROOT / "infrastructure" / "layer.py").read_text())
    assigned = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                    and [getattr(t, "id", "") for t in node.targets] == ["NOT_SHIPPED"])
    assert ast.literal_eval(assigned) == NOT_SHIPPED
