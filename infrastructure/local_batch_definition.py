"""The batch state machine and its worker as `cutout serve` creates them, rendered from the
synthesized template.

`cutout serve` needs no CDK or Node at run time, so what the template says of the batch
machinery is committed beside the local stack (`layers/cutout/local/batch_state_machine.json`):
the state machine's name and definition, its CloudFormation references written as
placeholders the local stack fills in (`${BatchWorkerArn}`, `${TransientBucket}`), and the
worker's ImageConfig, Timeout and MemorySize. A test renders it again from the synthesized
template and compares (tests/infrastructure/test_batch.py), so it cannot drift. After
changing the definition or the worker, write it again:

    .venv/bin/python -m infrastructure.local_batch_definition
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCAL_DEFINITION = ROOT / "layers" / "cutout" / "local" / "batch_state_machine.json"
# The template's references (logical-id prefixes) and the placeholder each becomes
PLACEHOLDERS = {"BatchWorker": "${BatchWorkerArn}", "StorageTransientBucket": "${TransientBucket}"}
# Any allow-list turns batches on (they need the `states` endpoint); the rendered file names
# no bucket of them.
SYNTH_CONTEXT = {"cutout:batch_source_buckets": "catalogue-in",
                 "cutout:batch_destination_buckets": "catalogue-out",
                 "cutout:interface_endpoints": "states,sts"}
WORKER_FIELDS = ("ImageConfig", "Timeout", "MemorySize")


def render(template: dict[str, Any]) -> str:
    """The local file's text from a synthesized template (batches on).

    The Map's tuning (MaxConcurrency, MaxItemsPerBatch, ToleratedFailurePercentage) is the
    deployment's default, whatever the template was synthesized with.
    """
    from infrastructure.batch_definition import MAP_STATE
    from infrastructure.settings import DeploymentSettings

    machine = _resource(template, "AWS::StepFunctions::StateMachine", "BatchStateMachine")
    worker = _resource(template, "AWS::Lambda::Function", "BatchWorker")
    parts = machine["DefinitionString"]["Fn::Join"][1]
    definition = json.loads("".join(_placeholder(part) for part in parts))
    defaults = DeploymentSettings()
    every_image = definition["States"][MAP_STATE]
    every_image["MaxConcurrency"] = defaults.batch_max_concurrency
    every_image["ItemBatcher"]["MaxItemsPerBatch"] = defaults.batch_size
    every_image["ToleratedFailurePercentage"] = defaults.batch_tolerated_failure_percent
    rendered = {
        "StateMachine": {"StateMachineName": machine["StateMachineName"],
                         "Definition": definition},
        "Worker": {name: worker[name] for name in WORKER_FIELDS},
    }
    return json.dumps(rendered, indent=2, sort_keys=True) + "\n"


def _resource(template: dict[str, Any], kind: str, prefix: str) -> dict[str, Any]:
    found = [v["Properties"] for k, v in template["Resources"].items()
             if v["Type"] == kind and k.startswith(prefix)]
    if len(found) != 1:
        raise ValueError(f"the template has {len(found)} {kind} named {prefix}*, not one")
    return found[0]


def _placeholder(part: Any) -> str:
    if isinstance(part, str):
        return part
    if part == {"Ref": "AWS::Partition"}:
        return "aws"
    reference = part.get("Ref") or part.get("Fn::GetAtt", [""])[0]
    for prefix, placeholder in PLACEHOLDERS.items():
        if reference.startswith(prefix):
            return placeholder
    raise ValueError(f"the local definition has no placeholder for {part}")


def synthesized_template() -> dict[str, Any]:
    """The app's stack synthesized with batches on (cdk-nag off: only the template counts)."""
    import aws_cdk as cdk

    from app import build_app

    outdir = tempfile.mkdtemp(prefix="cutout-local-batch-")
    app, stack = build_app(cdk.App(outdir=outdir, context=SYNTH_CONTEXT), nag=False)
    template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template


def main() -> int:
    """Synthesize the stack with batches on and write the local file."""
    LOCAL_DEFINITION.write_text(render(synthesized_template()))
    print(f"wrote {LOCAL_DEFINITION.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
