"""The deploy guide's settings table, generated from the settings' own defaults and docs.

`python -m infrastructure.settings_table --write` rewrites it in docs/deploy.md;
tests/infrastructure/test_deployment_settings.py fails when the guide and the code disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any

from infrastructure.settings import CONTEXT_PREFIX, DeploymentSettings


def default_context() -> dict[str, Any]:
    """The documented defaults, as `cdk.json` context (a test keeps cdk.json equal)."""
    # the declared defaults, not an instance's (which has derived the 0s from the model)
    return {CONTEXT_PREFIX + f.name: f.default_factory() if f.default is MISSING  # type: ignore[operator]
            else f.default for f in fields(DeploymentSettings)}


def settings_table(context: Mapping[str, Any] | None = None) -> str:
    """The Markdown table of every setting, its default and its meaning, for the docs."""
    defaults = default_context() if context is None else context
    lines = ["| setting (`-c cutout:<name>=...`) | default | meaning |", "|---|---|---|"]
    for f in fields(DeploymentSettings):
        value = defaults[CONTEXT_PREFIX + f.name]
        shown = ",".join(value) if isinstance(value, list) else value
        shown = str(shown).lower() if isinstance(shown, bool) else shown
        shown = f"`{shown}`" if shown != "" else "(empty)"
        lines.append(f"| `{f.name}` | {shown} | {f.metadata['doc']} |")
    return "\n".join(lines)


def with_settings_table(guide: str) -> str:
    """`guide` (Markdown) with its settings table replaced by the generated one."""
    header = settings_table().split("\n", 1)[0]
    start = guide.index(header)
    end = guide.find("\n\n", start)
    return guide[:start] + settings_table() + (guide[end:] if end != -1 else "\n")


if __name__ == "__main__":  # python -m infrastructure.settings_table [--write]
    import sys
    from pathlib import Path

    if "--write" in sys.argv[1:]:
        deploy_guide = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"
        deploy_guide.write_text(with_settings_table(deploy_guide.read_text()))
    else:
        print(settings_table())
