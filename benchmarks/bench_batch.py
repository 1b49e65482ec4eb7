"""Batch worker per-image time against the bare engine, in one run, and the scale table.

`python benchmarks/bench_batch.py [--runs N]`: for a 2 MP and a 12 MP JPEG, the median time
of (a) `Engine.remove` alone (the reference) and (b) the batch worker's whole path for one
item (read from S3, the account's opt-in, the engine, write SSE-KMS, counters) over moto's
in-process S3; prints both and their ratio, then the scale table of docs/batch.md computed
from (b), or from `--engine-seconds` (a quiet machine's engine times) times this run's
ratio. moto answers in microseconds, so real S3 adds its own latency: `--s3-seconds` (per
image, read + write) is added to the table's figures, not to the measurement.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers"), str(ROOT / "tests" / "integration")]

# Lambda, x86_64, us-east-1 (per GB-second, first tier) and Step Functions Standard.
LAMBDA_GB_SECOND = 0.0000166667
LAMBDA_REQUEST = 0.20 / 1_000_000
STATE_TRANSITION = 0.025 / 1000
TRANSITIONS_PER_BATCH = 2  # the child execution's start and its one Task state


def _photo(pixels: int) -> bytes:
    from PIL import Image, ImageDraw, ImageFilter

    width = int((pixels * 4 / 3) ** 0.5)
    height = pixels // width
    image = Image.new("RGB", (width, height), (90, 140, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.3, height * 0.2, width * 0.7, height * 0.85), fill=(220, 170, 120))
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(2)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _median(run, runs: int) -> float:
    run()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(runs: int) -> dict[str, tuple[float, float]]:
    """{label: (engine seconds, batch worker seconds)} per image."""
    import boto3
    from batch_support import DESTINATION_BUCKET, SOURCE_BUCKET, batch_settings
    from integration_support import create_deployment
    from moto import mock_aws

    from cutout import wiring
    from cutout.data.batches import BatchRecord
    from cutout.engine import Engine, RemovalOptions
    from cutout.service.accounts import AccountService
    from cutout.service.batch_setup import build_item_processor
    from cutout.service.removal import build_removal_service

    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ[name] = value
    results = {}
    with mock_aws():
        settings = batch_settings(create_deployment("bench"))
        stores = wiring.stores(settings)
        account = AccountService(stores.accounts, stores.training).create_account()
        data = wiring.batch_data(settings)
        folder = f"{account.account_id}/"  # a job reads and writes only its account's folder
        data.store.create(BatchRecord(
            account_id=account.account_id, batch_id="b" * 32, overwrite=True,
            source=f"s3://{SOURCE_BUCKET}/{folder}in/",
            destination=f"s3://{DESTINATION_BUCKET}/{folder}out/"))
        processor = build_item_processor(settings, build_removal_service(settings,
                                                                         stores=stores), data)
        engine = Engine.shared(settings.model_name, settings.max_pixels)
        s3 = boto3.client("s3", region_name="us-east-1")
        for label, pixels in (("2 MP", 2_000_000), ("12 MP", 12_000_000)):
            photo = _photo(pixels)
            s3.put_object(Bucket=SOURCE_BUCKET, Key=f"{folder}in/photo.jpg", Body=photo)
            event = {"Items": [{"Key": f"{folder}in/photo.jpg", "Size": len(photo)}],
                     "BatchInput": {
                "account_id": account.account_id, "batch_id": "b" * 32,
                "source_bucket": SOURCE_BUCKET, "source_prefix": f"{folder}in/",
                "destination_bucket": DESTINATION_BUCKET, "destination_prefix": f"{folder}out/",
                "options": {}, "overwrite": True}}
            bare = _median(lambda photo=photo: engine.remove(photo, RemovalOptions()), runs)
            worker = _median(lambda event=event: processor.process(event), runs)
            results[label] = (bare, worker)
    return results


def scale_table(per_image: dict[str, float], *, memory_mb: int, concurrency: int,
                batch_size: int) -> str:
    """Wall time, GB-seconds and cost for 1,000 / 100,000 / 1,000,000 images."""
    gigabytes = memory_mb / 1024
    lines = [f"| images | size | wall time at {concurrency} | Lambda GB-s | Lambda $ | "
             "Step Functions $ |", "|---|---|---|---|---|---|"]
    for count in (1_000, 100_000, 1_000_000):
        for label, seconds in per_image.items():
            invocations = -(-count // batch_size)
            rounds = -(-invocations // min(concurrency, invocations))
            wall = rounds * batch_size * seconds  # cold starts and listing come on top
            gb_seconds = count * seconds * gigabytes
            lambda_cost = gb_seconds * LAMBDA_GB_SECOND + invocations * LAMBDA_REQUEST
            sfn_cost = invocations * TRANSITIONS_PER_BATCH * STATE_TRANSITION
            lines.append(f"| {count:,} | {label} | {_duration(wall)} | {gb_seconds:,.0f} | "
                         f"{lambda_cost:,.2f} | {sfn_cost:,.2f} |")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cpu-factor", type=float, default=2 / 1.7,
                        help="this machine's vCPUs over the worker's (3008 MB = 1.7 vCPU)")
    parser.add_argument("--s3-seconds", type=float, nargs=2, default=(0.10, 0.30),
                        metavar=("2MP", "12MP"), help="real S3 read + write per image")
    parser.add_argument("--engine-seconds", type=float, nargs=2, default=None,
                        metavar=("2MP", "12MP"), help="engine times measured on a quiet "
                        "machine (docs/engine.md): scaled by this run's worker/engine ratio "
                        "instead of using this run's absolute times")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--memory-mb", type=int, default=3008)
    args = parser.parse_args()
    measured = measure(args.runs)
    print(f"per image, median of {args.runs} (reference: the bare engine, same run)")
    for label, (bare, worker) in measured.items():
        print(f"  {label}: engine {bare:.3f} s, batch worker {worker:.3f} s, "
              f"worker / engine {worker / bare:.2f}x")
    quiet = args.engine_seconds or [bare for bare, _ in measured.values()]
    per_image = {label: reference * (worker / bare) * args.cpu_factor + s3
                 for (label, (bare, worker)), reference, s3
                 in zip(measured.items(), quiet, args.s3_seconds, strict=True)}
    print("\nper image on the worker: " + ", ".join(f"{k} {v:.2f} s" for k, v in
                                                    per_image.items()))
    print(scale_table(per_image, memory_mb=args.memory_mb, concurrency=args.concurrency,
                      batch_size=args.batch_size))


if __name__ == "__main__":
    main()
