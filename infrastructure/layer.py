"""The shared library as a Lambda layer for the zip functions, staged without Docker.

Lambda puts a Python layer's `python/` folder on `sys.path`, so `layers/cutout` must be
copied to `python/cutout`. A local bundler does that copy in-process at synth time: no Docker
engine, no network, the same bytes on every machine (the asset hash is the output's hash).
Powertools comes from AWS's own public layer, resolved at deploy time from the public SSM
parameter AWS publishes for each version, so nothing is downloaded at synth time.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infrastructure.settings import DeploymentSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
LIBRARY = REPO_ROOT / "layers" / "cutout"
ZIP_RUNTIME = lambda_.Runtime.PYTHON_3_14
# Parts of the library no function imports (the local stack, the CLI, the OpenAPI builder):
# left out of the layer and of the inference image (.dockerignore lists the same), and a test
# proves the functions import nothing from them.
NOT_SHIPPED = ("local", "cli", "openapi")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def _ignored(directory: str, names: list[str]) -> set[str]:
    unshipped = set(NOT_SHIPPED) if Path(directory) == LIBRARY else set()
    return set(_IGNORED(directory, names)) | (unshipped & set(names))


@jsii.implements(ILocalBundling)
class _CopyLibrary:
    """Copies the `cutout` package to `<output>/python/cutout`; never falls back to Docker."""

    def try_bundle(self, output_dir: str, *_args: Any, **_kwargs: Any) -> bool:
        shutil.copytree(LIBRARY, Path(output_dir) / "python" / "cutout", ignore=_ignored,
                        dirs_exist_ok=True)
        return True


class SharedLibrary(Construct):
    """Exposes `layers`: the cutout library layer and the Powertools public layer."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings) -> None:
        super().__init__(scope, id)
        library = lambda_.LayerVersion(
            self, "Library",
            description="cutout shared library (layers/cutout)",
            code=lambda_.Code.from_asset(
                str(LIBRARY),
                bundling=BundlingOptions(
                    # Never pulled: the local bundler always succeeds.
                    image=DockerImage.from_registry("local-bundling-only"),
                    local=_CopyLibrary())),
            compatible_runtimes=[ZIP_RUNTIME],
        )
        python = ZIP_RUNTIME.name.replace("python", "")
        parameter = (f"/aws/service/powertools/python/{settings.architecture}/python{python}/"
                     f"{settings.powertools_version}")
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "Powertools", ssm.StringParameter.value_for_string_parameter(self, parameter))
        self.layers = [powertools, library]
