"""Infrastructure tests: choose a supported Node for jsii and make app.py importable.

The synthesis helpers live in `infra_synth.py` (a unique module name: several test folders
have a conftest.py, so `import conftest` would be ambiguous).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # app.py and infrastructure/ live at the repository root
    sys.path.insert(0, str(REPO_ROOT))

# jsii no longer supports Node 20; prefer the project-local supported Node when the set-up
# step installed it (see the README's deploy section), unless the caller chose one.
_LOCAL_NODE = REPO_ROOT / ".venv" / "node" / "bin" / "node"  # `make setup` links it here
if "JSII_NODE" not in os.environ and _LOCAL_NODE.exists():
    os.environ["JSII_NODE"] = str(_LOCAL_NODE)
