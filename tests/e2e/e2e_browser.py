"""Headless Chromium (Debian's package) driven by Playwright, and axe-core from npm.

Playwright's own browser download is not used: the tests launch the system Chromium by
path. axe-core is installed from the committed lock file into tests/e2e/node on first use.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
NODE_DIR = Path(__file__).resolve().parent / "node"
AXE = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"

# Collects Content-Security-Policy violations from the first script the page runs.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def axe_source() -> str:
    """axe.min.js, installed with `npm ci` from tests/e2e/node's lock file when missing."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to install axe-core (apt-get install npm)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR)],
                       check=True, cwd=NODE_DIR, timeout=300)
    return AXE.read_text(encoding="utf-8")
