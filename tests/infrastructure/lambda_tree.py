"""The functions' file trees as Lambda runs them, built without Docker, and their start under
Lambda's runtime interface client.

The inference image: `image_steps()` reads functions/remove_background/Dockerfile itself (the
one source of the steps) and `build_image_tree` replays each step into a folder standing for
the container's file system: COPY from the build context (what .dockerignore and the asset's
excludes let through), `RUN pip install ...` with the Dockerfile's own flags, `RUN python -m
compileall ...` with this Python, CMD as the entry point. An instruction this replayer does
not know fails the build rather than being skipped.

Two things differ from the real image, and say so:
- Python: the base image runs CPython 3.13; this machine (and CI) has only the venv's Python
  (3.11), so the wheels are installed for this Python at the same exact pins. The lock's hashes
  are those of the 3.13 wheels, so `--require-hashes` is dropped here for a Python other than
  the image's (the pins stay exact, `--no-deps` and `--only-binary=:all:` stay);
  tests/infrastructure/test_container_build_inputs.py checks the hashes against PyPI.
- Platform: manylinux x86_64 wheels (this machine's CPU; the stack's default architecture).

The base image's runtime part (awslambdaric, in /var/lang's site-packages) is installed the
same way into the tree's own runtime folder. The zip functions get what Lambda's managed
runtime assembles: the function's asset folder as the task root, the library layer staged by
infrastructure/layer.py's own bundler under /opt/python, Powertools (AWS's public layer, at
the deployment's default version) and boto3 (which the managed runtime ships).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "functions" / "remove_background" / "Dockerfile"
TASK_ROOT = "/var/task"  # ${LAMBDA_TASK_ROOT} in AWS's base images
RUNTIME_DIR = "var/lang/site-packages"  # where the base image keeps awslambdaric
# The runtime interface client the base image and the managed runtime start functions with.
RUNTIME_CLIENT = ("awslambdaric==4.2.2",)
# manylinux tags the Lambda base image (Amazon Linux 2023, glibc 2.34) accepts, on x86_64
PLATFORMS = ("manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux2014_x86_64")
THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
ZIP_FUNCTIONS = ("authorizer", "account", "uploads", "sweeper")


class UnknownStep(Exception):
    """A Dockerfile instruction the replayer cannot reproduce: the tree would be wrong."""


@dataclass
class ImageSteps:
    """The Dockerfile, read: its base image's Python, its steps in order, its CMD."""

    python: str
    steps: list[tuple[str, list[str]]] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)


def image_steps(dockerfile: Path = DOCKERFILE) -> ImageSteps:
    """FROM, COPY, RUN and CMD of the Dockerfile; any other instruction is refused."""
    text = dockerfile.read_text().replace("\\\n", " ")
    python, steps, cmd = "", [], []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            python = rest.split("@")[0].rpartition(":")[2]
        elif instruction == "COPY":
            steps.append(("COPY", shlex.split(rest)))
        elif instruction == "RUN":
            steps.append(("RUN", [rest.strip()]))
        elif instruction == "CMD":
            cmd = json.loads(rest)
        else:
            raise UnknownStep(f"{dockerfile.name}: {instruction} is not replayed by "
                              f"{Path(__file__).name}; teach it the step")
    return ImageSteps(python, steps, cmd)


def _container_path(root: Path, path: str) -> Path:
    path = path.replace("${LAMBDA_TASK_ROOT}", TASK_ROOT).replace("$LAMBDA_TASK_ROOT", TASK_ROOT)
    if not path.startswith("/"):
        raise UnknownStep(f"{path}: a relative container path (no WORKDIR is replayed)")
    return root / path.lstrip("/")


def _context_files() -> list[Path]:
    """Every file of the build context: .dockerignore applied as Docker (and CDK) apply it,
    less the weights of models the deployment does not run (the asset's excludes)."""
    import aws_cdk as cdk

    from infrastructure.model_image import image_excludes
    from infrastructure.settings import DeploymentSettings

    ignore = cdk.IgnoreStrategy.docker(
        str(REPO_ROOT), (REPO_ROOT / ".dockerignore").read_text().splitlines())
    excluded = {REPO_ROOT / name for name in image_excludes(DeploymentSettings())}
    candidates = [REPO_ROOT / "functions" / "remove_background", REPO_ROOT / "models",
                  REPO_ROOT / "layers" / "cutout"]
    files = []
    for top in candidates:
        for path in top.rglob("*"):
            if path.is_file() and path not in excluded and not ignore.ignores(str(path)):
                files.append(path)
    return files


def _copy(root: Path, args: list[str], context: list[Path]) -> None:
    *sources, destination = args
    target = _container_path(root, destination)
    for source in sources:
        matched = False
        if source.endswith("/"):  # a folder: its contents into the destination folder
            folder = REPO_ROOT / source.rstrip("/")
            for path in context:
                if path.is_relative_to(folder):
                    out = target / path.relative_to(folder)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, out)
                    matched = True
        else:
            for path in sorted(REPO_ROOT.glob(source)):
                if path in context:
                    out = target / path.name if destination.endswith("/") else target
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, out)
                    matched = True
        if not matched:
            raise UnknownStep(f"COPY {source}: nothing in the build context")


def _pip(args: list[str], python: str) -> list[str]:
    """The Dockerfile's `pip install` arguments, for this Python and Lambda's platform."""
    if python != THIS_PYTHON:
        args = [a for a in args if a != "--require-hashes"]
    # pip's cache lives outside the tree, so using it changes no byte of the tree; it spares
    # a rerun the downloads (the Dockerfile's --no-cache-dir keeps it out of the image)
    args = [a for a in args if a != "--no-cache-dir"]
    platforms = [arg for tag in PLATFORMS for arg in ("--platform", tag)]
    return [sys.executable, "-m", "pip", *args, *platforms, "--python-version", THIS_PYTHON,
            "--implementation", "cp", "--disable-pip-version-check", "--quiet"]


def _without_hashes(requirements: Path) -> None:
    """The same exact pins without the 3.13 wheels' hashes (see the module's docstring)."""
    text = requirements.read_text().replace("\\\n", " ")
    lines = [line.split("--hash")[0].strip() for line in text.splitlines()]
    requirements.write_text("\n".join(line for line in lines if line) + "\n")


def _in_tree(root: Path, words: list[str]) -> list[str]:
    """A RUN step's words with each container path mapped into the tree."""
    return [str(_container_path(root, w)) if w.startswith(("/", "${LAMBDA")) else w
            for w in words]


def _run(root: Path, command: str, python: str) -> None:
    for part in command.split("&&"):
        words = shlex.split(part)
        if words[:2] == ["pip", "install"]:
            mapped = _in_tree(root, words[1:])
            for index, word in enumerate(mapped[:-1]):
                if word == "-r" and python != THIS_PYTHON:
                    _without_hashes(Path(mapped[index + 1]))
            result = subprocess.run(_pip(mapped, python), capture_output=True, text=True,
                                    timeout=900)
            if result.returncode != 0:
                raise RuntimeError(f"RUN {part.strip()}:\n{result.stderr[-3000:]}")
        elif words[:3] == ["python", "-m", "compileall"]:
            # this machine's Python writes its own tag's bytecode (cpython-311), as the
            # image's writes cpython-313: the same step, for the Python that runs the tree
            mapped = _in_tree(root, words[3:])
            result = subprocess.run([sys.executable, "-m", "compileall", *mapped],
                                    capture_output=True, text=True, timeout=300)
            if result.returncode != 0:
                raise RuntimeError(f"RUN {part.strip()}:\n{result.stdout[-3000:]}")
        elif words and words[0] == "rm":
            for word in words[1:]:
                if not word.startswith("-"):
                    _container_path(root, word).unlink()
        else:
            raise UnknownStep(f"RUN {part.strip()}: not replayed "
                              "(only pip install, python -m compileall and rm)")


def _install_runtime(target: Path, *requirements: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    command = _pip(["install", "--only-binary=:all:", "--target", str(target), *requirements],
                   THIS_PYTHON)
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"installing {requirements}:\n{result.stderr[-3000:]}")


@dataclass
class FunctionTree:
    """One function as Lambda lays it out: where it starts, what is on its path, its CMD."""

    task_root: Path
    path: list[Path]  # sys.path after the task root, in Lambda's order
    cmd: list[str]


def build_image_tree(root: Path) -> FunctionTree:
    """The inference image's file system under `root`, from the Dockerfile's steps."""
    steps = image_steps()
    context = _context_files()
    for instruction, args in steps.steps:
        if instruction == "COPY":
            _copy(root, args, context)
        else:
            _run(root, args[0], steps.python)
    runtime = root / RUNTIME_DIR
    _install_runtime(runtime, *RUNTIME_CLIENT)
    return FunctionTree(_container_path(root, TASK_ROOT), [runtime], steps.cmd)


def build_zip_trees(root: Path) -> dict[str, FunctionTree]:
    """Each zip function's asset folder, the layers as packaged, the managed runtime's part."""
    from infrastructure.layer import _CopyLibrary
    from infrastructure.settings import DeploymentSettings

    opt = root / "opt"
    _CopyLibrary().try_bundle(str(opt))  # the library layer, by the stack's own bundler
    powertools = DeploymentSettings().powertools_version
    _install_runtime(opt / "python", f"aws-lambda-powertools[tracer]=={powertools}")
    runtime = root / "var" / "runtime"
    boto3 = next(line.split()[0] for line in (REPO_ROOT / "functions" / "remove_background"
                 / "requirements.txt").read_text().splitlines() if line.startswith("boto3=="))
    _install_runtime(runtime, *RUNTIME_CLIENT, boto3)
    trees = {}
    for name in ZIP_FUNCTIONS:
        task = root / "functions" / name
        shutil.copytree(REPO_ROOT / "functions" / name, task,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        trees[name] = FunctionTree(task, [opt / "python", runtime], ["handler.handler"])
    return trees


def lambda_environment(tree: FunctionTree, runtime_api: str, function: str,
                       extra: dict[str, str]) -> dict[str, str]:
    """The variables Lambda sets for a function, then the function's own."""
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join(str(p) for p in tree.path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(tree.task_root),
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": f"cutout-{function}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/cutout-{function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        **extra,
    }


def start_function(tree: FunctionTree, env: dict[str, str], log: IO[bytes],
                   cmd: list[str] | None = None) -> subprocess.Popen:
    """`python -m awslambdaric <CMD>` in the task root, as the base image's entry point does.

    Its output (what Lambda sends to CloudWatch) goes to `log`. `-S`: no site-packages of this
    machine's (the venv's) on the path, only the tree's: a module the image forgot fails to
    import here as it would in Lambda.
    """
    return subprocess.Popen(
        [sys.executable, "-S", "-m", "awslambdaric", *(cmd or tree.cmd)],
        cwd=tree.task_root, env=env, stdout=log, stderr=subprocess.STDOUT)
