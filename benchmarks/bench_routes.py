"""Benchmark: latency per route through `cutout serve`, under the load test's mixed traffic.

Not a test: it prints figures. In one run:
  1. References, measured first and alone: GET /v1/account one request at a time (the
     cheapest authorized route: gateway, authorizer, one DynamoDB read), and the bare engine
     (`cutout.engine.Engine.remove()` in this process) on the same small JPEG the removal
     routes receive.
  2. The mix of tests/e2e/load_mix.py (every route, good and bad inputs, signed uploads),
     `--rounds` times, `--concurrency` at a time (8: the load test's). Per route and kind:
     count, p50 and p95 latency, and p50 as a ratio to each reference.
The local stack runs one invocation at a time (as one Lambda environment does), so under
concurrency a cheap read waits behind any removal in progress: compare its p95 under load
with its reference to see that queueing.

    python benchmarks/bench_routes.py [--rounds 1] [--concurrency 8] [--reference-runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from e2e_local_api import start_local_api  # noqa: E402
from load_mix import MIX, Answer, Traffic, plan, run, small_images  # noqa: E402

API_KEY = "co_live_bench-routes-demo-key-for-local-only"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def engine_reference(runs: int) -> list[float]:
    """The bare engine on the mix's JPEG: what a removal costs without HTTP, S3 or DynamoDB."""
    from cutout.engine import Engine

    engine = Engine.create()
    data = small_images()["jpeg"]
    engine.remove(data)  # the first run pays one-off allocations
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        engine.remove(data)
        timings.append(time.perf_counter() - started)
    return timings


def account_reference(traffic: Traffic, runs: int) -> list[float]:
    traffic.task_account()  # warm: the authorizer's cache, the connection pool of the stores
    return [traffic.task_account()[0].seconds for _ in range(runs)]


def table(answers: list[Answer], account_p50: float, engine_p50: float) -> list[str]:
    by_route: dict[tuple[str, str], list[Answer]] = defaultdict(list)
    for answer in answers:
        by_route[(answer.route, answer.kind)].append(answer)
    lines = [f"{'route':<38} {'kind':<20} {'n':>4} {'statuses':<12} {'p50 ms':>8} "
             f"{'p95 ms':>8} {'p50/account':>12} {'p50/engine':>11}"]
    for (route, kind), group in sorted(by_route.items()):
        seconds = [answer.seconds for answer in group]
        p50, p95 = percentile(seconds, 0.5), percentile(seconds, 0.95)
        statuses = ",".join(str(status) for status in sorted({a.status for a in group}))
        lines.append(f"{route:<38} {kind:<20} {len(group):>4} {statuses:<12} "
                     f"{p50 * 1000:>8.1f} {p95 * 1000:>8.1f} {p50 / account_p50:>11.1f}x "
                     f"{p50 / engine_p50:>10.2f}x")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="times the whole mix is sent")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--reference-runs", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        api = start_local_api(Path(folder), API_KEY)
        try:
            traffic = Traffic(api.base_url, API_KEY)
            account = account_reference(traffic, args.reference_runs)
            engine = engine_reference(args.reference_runs)
            run(traffic, list(traffic.tasks), args.concurrency)  # warm-up: each task once
            order = [kind for round_ in range(args.rounds) for kind in plan(MIX, round_)]
            started = time.perf_counter()
            answers = run(traffic, order, args.concurrency)
            elapsed = time.perf_counter() - started
            traffic.opt_out()
        finally:
            api.terminate()

    account_p50, engine_p50 = statistics.median(account), statistics.median(engine)
    print(f"references ({args.reference_runs} runs each, alone):")
    print(f"  GET /v1/account, one at a time: p50 {account_p50 * 1000:.1f} ms, "
          f"p95 {percentile(account, 0.95) * 1000:.1f} ms")
    print(f"  bare engine, 96x72 JPEG -> PNG: p50 {engine_p50 * 1000:.1f} ms, "
          f"p95 {percentile(engine, 0.95) * 1000:.1f} ms")
    print(f"\nmix: {len(answers)} requests, concurrency {args.concurrency}, "
          f"{elapsed:.1f} s ({len(answers) / elapsed:.1f} requests/s); "
          f"{sum(a.status >= 500 for a in answers)} answered 5xx")
    print("\n".join(table(answers, account_p50, engine_p50)))


if __name__ == "__main__":
    main()
