"""The zip functions get only the `cutout` library and Powertools as layers, no numpy,
Pillow or ONNX Runtime: their handlers must import without them (the engine is only in the
container image)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from infra_synth import REPO_ROOT

ENGINE_ONLY = ("numpy", "onnxruntime", "PIL", "isal", "moto")

_PROBE = """
import importlib.abc, importlib.util, sys
blocked = set(sys.argv[2].split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"{name} is not available to zip functions")
        return None
sys.meta_path.insert(0, Block())
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
"""


@pytest.mark.parametrize("function", ["authorizer", "account", "uploads", "sweeper"])
def test_zip_handler_imports_without_the_engine_dependencies(function):
    handler = REPO_ROOT / "functions" / function / "handler.py"
    if not handler.exists():
        pytest.skip(f"functions/{function}/handler.py is not written yet")
    result = subprocess.run([sys.executable, "-c", _PROBE, str(handler), ",".join(ENGINE_ONLY)],
                            capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert result.returncode == 0, result.stderr[-2000:]
