"""Hub fan-out benchmark: ``python -m bench.hub [--quick]``.

For each subscriber count, in one run and on the same machine, measures the gateway as
``make run`` hosts it (gunicorn, one gevent worker, the ``memory://`` transport; see
:mod:`bench.hub.gateway`) beside the raw floor (:mod:`bench.hub.floor`: raw sockets, one
greenlet per subscriber, which costs per core what the reference Go hub costs), each in
its own processes on loopback. The load generator (:mod:`bench.hub.load`) runs in its own
process. The table gives each figure and the gateway's ratio to the floor's, because
absolute figures drift on a shared machine; ``--json FILE`` also writes them.

``--v1`` adds the same gateway driven with Mercure 1.0: every subscriber subscribes with a
URL Pattern (``match_urlpattern``) and a 1.0 access token, and the publisher uses a 1.0
token (the row ``gateway, Mercure 1.0``, with its ratios to the floor).

``--workers`` adds the gateway over a private Redis with one worker and with two
(``WEB_CONCURRENCY=2``), and the ratio of their CPU time per delivery; ``--only redis``
runs those two rows alone (no floor, no single-worker ``memory://`` gateway).
``--share`` (with either) adds one Redis worker holding half the subscribers, the share of
each of the two workers, and the two workers' ratio to it: the same work per worker. ``--baselines``
adds the first round's baselines (the built-in hub alone on pywsgi, the bare gevent
server, flask-mercure-sse 0.4.1 where it installs). ``--quick`` (about a minute) uses 300
subscribers and few messages. The full run uses 1,000 and 5,000 subscribers. ``--repeat
R`` runs R interleaved rounds and reports each metric's median. The figure that drifts
least on a shared machine is the server's CPU time per delivery during the burst. The
CPU time per delivery while updates are published one at a time ("paced", each delivered
to every subscriber before the next) is also given: it is what a delivery costs when no
send carries two updates, which is how the Redis rows compare workers at the same load per
delivery (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench.hub.peer import peer_python
from bench.hub.runner import FLOOR, GATEWAY, GATEWAY_V1, Kind, baselines, gateway_kind, measure

FULL_SUBSCRIBERS = (1000, 5000)
QUICK_SUBSCRIBERS = (300,)
LABELS = {
    "gateway": "gateway (gunicorn, 1 worker)",
    "gateway-v1": "gateway, Mercure 1.0",
    "floor": "raw floor",
    "gateway-redis-1": "gateway, Redis, 1 worker",
    "gateway-redis-2": "gateway, Redis, 2 workers",
    "gateway-redis-share": "gateway, Redis, 1 worker, half the subscribers",
    "hub": "built-in hub on pywsgi",
    "bare": "bare gevent",
    "peer": "flask-mercure-sse 0.4.1",
}


def plan(subscribers: int, quick: bool) -> tuple[int, int]:
    """``(messages, burst)`` for one subscriber count: about 100,000 deliveries per phase."""
    if quick:
        return 10, 20
    count = max(20, 100_000 // subscribers)
    return count, count


METRICS = (
    "deliveries_per_second",
    "latency_p50_ms",
    "latency_p99_ms",
    "bytes_per_subscriber",
    "server_us_per_delivery",
    "paced_us_per_delivery",
)
CPU_METRICS = ("server_us_per_delivery", "paced_us_per_delivery")
"""The metrics whose every round is kept (``rounds``) and whose ratio is given per round."""

DECIMALS = {
    "latency_p50_ms": 2,
    "latency_p99_ms": 2,
    "server_us_per_delivery": 1,
    "paced_us_per_delivery": 1,
}


def combine(runs: list[dict[str, object]]) -> dict[str, object]:
    """The median of each metric over the successful runs of one kind and size, and each
    round's figure of each CPU metric (``rounds``, metric to figures; None for a failed
    round)."""
    good = [run for run in runs if "error" not in run]
    if not good:
        return runs[-1]
    combined = dict(good[0])
    for metric in METRICS:
        values = sorted(float(str(run[metric])) for run in good)
        middle = statistics.median(values)
        digits = DECIMALS.get(metric)
        combined[metric] = round(middle) if digits is None else round(middle, digits)
    combined["runs"] = len(good)
    combined["rounds"] = {metric: [run.get(metric) for run in runs] for metric in CPU_METRICS}
    return combined


def ratio(value: object, baseline: object) -> str:
    if not isinstance(value, int | float) or not isinstance(baseline, int | float) or not baseline:
        return "n/a"
    return f"{value / baseline:.2f}x"


SHARE = "gateway-redis-share"
"""One Redis worker holding half the subscribers: what each of two workers holds."""


def _reference(name: str) -> str:
    """The kind a row's ratios are computed against."""
    if name == "gateway-redis-2":
        return "gateway-redis-1"
    return "gateway-redis-1" if name == SHARE else "floor"


def table(results: list[dict[str, object]]) -> str:
    header = (
        "| subscribers | server | server CPU us/delivery | paced CPU us/delivery | p50 ms "
        "| p99 ms | bytes/idle subscriber | deliveries/s | CPU ratio | paced CPU ratio "
        "| p99 ratio | memory ratio |\n"
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = [header]
    for count in sorted({int(str(r["subscribers"])) for r in results}):
        group = {str(r["kind"]): r for r in results if r["subscribers"] == count}
        for name in LABELS:
            row = group.get(name)
            if row is None:
                continue
            if "error" in row:
                reason = str(row["error"]).strip().splitlines()[-1]
                rows.append(f"| {count:,} | {LABELS[name]} | failed: {reason} |" + " |" * 9)
                continue
            ratios = ["", "", "", ""]
            base = group.get(_reference(name))
            if name != "floor" and base is not None and "error" not in base:
                ratios = [
                    ratio(row["server_us_per_delivery"], base["server_us_per_delivery"]),
                    ratio(row["paced_us_per_delivery"], base["paced_us_per_delivery"]),
                    ratio(row["latency_p99_ms"], base["latency_p99_ms"]),
                    ratio(row["bytes_per_subscriber"], base["bytes_per_subscriber"]),
                ]
            rows.append(
                f"| {count:,} | {LABELS[name]} | {row['server_us_per_delivery']} "
                f"| {row['paced_us_per_delivery']} "
                f"| {row['latency_p50_ms']} | {row['latency_p99_ms']} "
                f"| {row['bytes_per_subscriber']:,} | {row['deliveries_per_second']:,} | "
                + " | ".join(ratios)
                + " |"
            )
    return "\n".join(rows)


TARGETS = (
    # (kind, reference, metric, at most)
    ("gateway", "floor", "server_us_per_delivery", 1.0),
    ("gateway", "floor", "latency_p99_ms", 1.0),
    ("gateway-redis-2", "gateway-redis-1", "server_us_per_delivery", 1.1),
    ("gateway-redis-2", SHARE, "server_us_per_delivery", 1.1),
    ("gateway-redis-2", "gateway-redis-1", "paced_us_per_delivery", 1.1),
    ("gateway-redis-2", SHARE, "paced_us_per_delivery", 1.1),
)


def verdict(results: list[dict[str, object]]) -> list[str]:
    """One line per performance target (see docs/benchmarks.md) that this run can judge."""
    lines = []
    for count in sorted({int(str(r["subscribers"])) for r in results}):
        group = {str(r["kind"]): r for r in results if r["subscribers"] == count}
        for name, reference, metric, most in TARGETS:
            row, base = group.get(name), group.get(reference)
            if row is None or base is None or "error" in row or "error" in base:
                continue
            value = float(str(row[metric])) / float(str(base[metric]))
            state = "met" if value <= most else "NOT met"
            lines.append(
                f"{count:,} subscribers: {name}/{reference} {metric} = {value:.2f}x "
                f"(target <= {most:.1f}x): {state}{_per_round(row, base, metric)}"
            )
    return lines


def _per_round(row: dict[str, object], base: dict[str, object], metric: str) -> str:
    """The ratio of each interleaved round, when there were several."""
    by_metric, references_by_metric = row.get("rounds"), base.get("rounds")
    if not isinstance(by_metric, dict) or not isinstance(references_by_metric, dict):
        return ""
    rounds, references = by_metric.get(metric), references_by_metric.get(metric)
    if not isinstance(rounds, list) or not isinstance(references, list) or len(rounds) < 2:
        return ""
    ratios = [
        f"{value / reference:.2f}x" if value and reference else "n/a"
        for value, reference in zip(rounds, references, strict=False)
    ]
    return f"; per round: {' / '.join(ratios)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mercure hub fan-out benchmark")
    parser.add_argument("--quick", action="store_true", help="small run, about a minute")
    parser.add_argument(
        "--subscribers", type=int, nargs="+", help="subscriber counts (default 1000 5000)"
    )
    parser.add_argument(
        "--v1",
        action="store_true",
        help="also the gateway with Mercure 1.0 subscriptions (URL Pattern) and tokens",
    )
    parser.add_argument(
        "--workers", action="store_true", help="also the gateway over Redis, 1 and 2 workers"
    )
    parser.add_argument(
        "--only",
        choices=("redis",),
        help="run only these rows: redis = the gateway over Redis, 1 and 2 workers",
    )
    parser.add_argument(
        "--share",
        action="store_true",
        help="with the Redis rows: also one Redis worker holding half the subscribers",
    )
    parser.add_argument("--baselines", action="store_true", help="also the first round's baselines")
    parser.add_argument("--no-peer", action="store_true", help="skip flask-mercure-sse")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds per size; the median is reported"
    )
    parser.add_argument(
        "--readers",
        choices=("gevent", "native"),
        default="gevent",
        help="the subscribers: greenlets of the load generator, or one epoll loop in C "
        "(bench/hub/readers.c, built with cc), which leaves the server the bottleneck",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    counts = tuple(args.subscribers or (QUICK_SUBSCRIBERS if args.quick else FULL_SUBSCRIBERS))
    redis_kinds = [gateway_kind(1, "redis"), gateway_kind(2, "redis")]
    plan_kinds: list[Kind]
    if args.only == "redis":
        if args.v1 or args.baselines:
            parser.error("--only redis cannot be combined with --v1 or --baselines")
        plan_kinds = redis_kinds
    else:
        plan_kinds = [FLOOR, GATEWAY]
    if args.v1:
        plan_kinds.append(GATEWAY_V1)
    if args.workers and not args.only:
        plan_kinds += redis_kinds
    if args.share:
        if not (args.workers or args.only):
            parser.error("--share needs --workers or --only redis")
        plan_kinds.append(dataclasses.replace(redis_kinds[0], name=SHARE))
    if args.baselines:
        peer, how = (
            (None, "skipped (--no-peer)") if args.no_peer else peer_python(install=not args.quick)
        )
        print(f"flask-mercure-sse: {how}", file=sys.stderr)
        plan_kinds += baselines(peer)
    results: list[dict[str, object]] = []
    for count in counts:
        messages, burst = plan(count, args.quick)
        runs: dict[str, list[dict[str, object]]] = {}
        for round_number in range(1, args.repeat + 1):
            for kind in plan_kinds:  # interleaved, so drift hits every kind alike
                print(
                    f"round {round_number}/{args.repeat}: {kind.name}, {count:,} subscribers",
                    file=sys.stderr,
                )
                held = count // 2 if kind.name == SHARE else count
                try:
                    figures = {
                        **measure(kind, held, messages, burst, args.readers),
                        "subscribers": count,
                        "held": held,
                    }
                except (RuntimeError, subprocess.TimeoutExpired) as error:
                    figures = {"kind": kind.name, "subscribers": count, "error": str(error)[-500:]}
                print(json.dumps(figures), file=sys.stderr)
                runs.setdefault(kind.name, []).append(figures)
        results.extend(combine(kind_runs) for kind_runs in runs.values())
    print(table(results))
    print()
    for line in verdict(results):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
