"""Hub fan-out benchmark: ``python -m bench.hub [--quick]``.

For each subscriber count, in one run and on the same machine, measures three servers,
each in one gevent process on loopback with the same server set-up (:mod:`bench.hub.serve`):
the naive bare gevent fan-out server (:mod:`bench.hub.bare`, the practical limit), this
project's built-in hub, and flask-mercure-sse 0.4.1 where it installs
(:mod:`bench.hub.peer`). The load generator (:mod:`bench.hub.load`) runs in its own
process. Figures are printed as a Markdown table with the hub's ratios to each baseline,
because absolute figures drift on a shared machine; ``--json FILE`` also writes them.

``--v1`` also measures the built-in hub driven with Mercure 1.0: every subscriber
subscribes with a URL Pattern (``match_urlpattern``) and its own 1.0 access token, and
the publisher uses a 1.0 token (the row ``built-in hub, Mercure 1.0``).

``--quick`` (under about 30 s) uses 300 subscribers and few messages, and measures the peer
only when it is already installed. The full run uses 1,000 and 10,000 subscribers.
``--repeat R`` runs R interleaved rounds and reports each metric's median. Besides
deliveries per second, latency and memory, the table gives the server's CPU time per
delivery during the burst, which drifts least when the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench.hub.peer import peer_python
from bench.hub.runner import kinds, measure

FULL_SUBSCRIBERS = (1000, 10000)
QUICK_SUBSCRIBERS = (300,)
TARGETS = {"bare": 1.0, "peer": 2.0}


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
)


DECIMALS = {"latency_p50_ms": 2, "latency_p99_ms": 2, "server_us_per_delivery": 1}


def combine(runs: list[dict[str, object]]) -> dict[str, object]:
    """The median of each metric over the successful runs of one kind and size."""
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
    return combined


def ratio(value: object, baseline: object) -> str:
    if not isinstance(value, int | float) or not isinstance(baseline, int | float) or not baseline:
        return "n/a"
    return f"{value / baseline:.2f}x"


def table(results: list[dict[str, object]]) -> str:
    header = (
        "| subscribers | server | deliveries/s | p50 ms | p99 ms | bytes/idle subscriber "
        "| server CPU us/delivery | hub deliveries/s ratio | hub p99 ratio | hub memory ratio |\n"
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = [header]
    for count in sorted({int(str(r["subscribers"])) for r in results}):
        group = {str(r["kind"]): r for r in results if r["subscribers"] == count}
        hub = group.get("hub")
        for name in ("hub", "hub-v1", "bare", "peer"):
            row = group.get(name)
            if row is None:
                continue
            if "error" in row:
                reason = str(row["error"]).strip().splitlines()[-1]
                rows.append(f"| {count:,} | {name} | failed: {reason} | | | | | | | |")
                continue
            ratios = ["", "", ""]
            if hub is not None and "error" not in hub and name not in ("hub", "hub-v1"):
                ratios = [
                    ratio(hub["deliveries_per_second"], row["deliveries_per_second"]),
                    ratio(hub["latency_p99_ms"], row["latency_p99_ms"]),
                    ratio(hub["bytes_per_subscriber"], row["bytes_per_subscriber"]),
                ]
            label = {
                "hub": "built-in hub",
                "hub-v1": "built-in hub, Mercure 1.0",
                "bare": "bare gevent",
                "peer": "flask-mercure-sse 0.4.1",
            }[name]
            rows.append(
                f"| {count:,} | {label} | {row['deliveries_per_second']:,} "
                f"| {row['latency_p50_ms']} | {row['latency_p99_ms']} "
                f"| {row['bytes_per_subscriber']:,} | {row['server_us_per_delivery']} | "
                + " | ".join(ratios)
                + " |"
            )
    return "\n".join(rows)


def verdict(results: list[dict[str, object]]) -> list[str]:
    """One line per performance target (see docs/benchmarks.md) that this run can judge."""
    lines = []
    for count in sorted({int(str(r["subscribers"])) for r in results}):
        group = {str(r["kind"]): r for r in results if r["subscribers"] == count}
        hub = group.get("hub")
        if hub is None or "error" in hub:
            continue
        for name, target in TARGETS.items():
            base = group.get(name)
            if base is None or "error" in base:
                continue
            value = float(str(hub["deliveries_per_second"])) / float(
                str(base["deliveries_per_second"])
            )
            state = "met" if value >= target else "NOT met"
            lines.append(
                f"{count:,} subscribers: hub/{name} deliveries/s = {value:.2f}x "
                f"(target >= {target:.1f}x): {state}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mercure hub fan-out benchmark")
    parser.add_argument("--quick", action="store_true", help="small run, about 30 s")
    parser.add_argument(
        "--subscribers", type=int, nargs="+", help="subscriber counts (default 1000 10000)"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip flask-mercure-sse")
    parser.add_argument(
        "--v1",
        action="store_true",
        help="also measure the hub with Mercure 1.0 subscriptions (URL Pattern) and tokens",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds per size; the median is reported"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    counts = tuple(args.subscribers or (QUICK_SUBSCRIBERS if args.quick else FULL_SUBSCRIBERS))
    peer, how = (
        (None, "skipped (--no-peer)") if args.no_peer else peer_python(install=not args.quick)
    )
    print(f"flask-mercure-sse: {how}", file=sys.stderr)
    results: list[dict[str, object]] = []
    for count in counts:
        messages, burst = plan(count, args.quick)
        runs: dict[str, list[dict[str, object]]] = {}
        for round_number in range(1, args.repeat + 1):
            for kind in kinds(peer, args.v1):  # interleaved, so drift hits every kind alike
                print(
                    f"round {round_number}/{args.repeat}: {kind.name}, {count:,} subscribers",
                    file=sys.stderr,
                )
                try:
                    figures = measure(kind, count, messages, burst)
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
