"""Where the generic layer spends its time: ``python -m bench.rest.profile``.

Both apps are built in this process over copies of the same seeded SQLite file and driven
through their WSGI callables with Flask's test client (the same client overhead for
both), so the comparison is CPU time per request and does not depend on sockets or on
other load on the machine. Then the generic app runs the same requests under cProfile,
and the functions with the most cumulative time are printed, the gateway's own (``app/``)
first.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import statistics
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from bench.rest.seed import (
    NEW_BOOK,
    PAGE_SIZE,
    database_directory,
    patched_book,
    replaced_book,
    seed,
)

Call = Callable[[Any, int], Any]


def calls(books: int) -> dict[str, Call]:
    from bench.rest.serve import ADMIN_TOKEN  # imported with the apps: it patches gevent

    pages = max(1, books // PAGE_SIZE)
    accept = {"Accept": "application/ld+json"}  # as the load generator sends
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}", **accept}
    return {
        "item": lambda c, n: c.get(f"/books/{n % books + 1}", headers=accept),
        "collection": lambda c, n: c.get(f"/books?page={n % pages + 1}", headers=accept),
        "put": lambda c, n: c.put(
            f"/books/{n % books + 1}",
            json=replaced_book(n),
            headers={"Content-Type": "application/ld+json", **admin},
        ),
        "patch": lambda c, n: c.patch(
            f"/books/{n % books + 1}",
            json=patched_book(n),
            headers={"Content-Type": "application/merge-patch+json", **admin},
        ),
        "post": lambda c, n: c.post(
            "/books", json=NEW_BOOK, headers={"Content-Type": "application/ld+json", **admin}
        ),
    }


def per_request_ms(apps: dict[str, Flask], call: Call, count: int) -> dict[str, float]:
    """Median CPU milliseconds per request of each app, over interleaved batches."""
    clients = {name: app.test_client() for name, app in apps.items()}
    for client in clients.values():
        for n in range(20):  # warm-up
            call(client, n)
    batches = 10
    size = max(1, count // batches)
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for batch in range(batches):
        names = list(clients) if batch % 2 == 0 else list(reversed(clients))
        for name in names:
            start = time.process_time()
            for n in range(batch * size, (batch + 1) * size):
                call(clients[name], n)
            samples[name].append((time.process_time() - start) / size * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rest.profile", description=__doc__)
    parser.add_argument(
        "--scenario", choices=["item", "collection", "put", "patch", "post", "all"], default="all"
    )
    parser.add_argument("-n", "--requests", type=int, default=1000)
    parser.add_argument("--books", type=int, default=1500)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-mercure", action="store_true")
    args = parser.parse_args()

    from bench.rest.serve import build

    workdir = database_directory("bench-rest-profile-")
    try:
        seed(workdir / "generic.sqlite", books=args.books)
        shutil.copyfile(workdir / "generic.sqlite", workdir / "handwritten.sqlite")
        generic = build("generic", workdir / "generic.sqlite", mercure=not args.no_mercure)
        handwritten = build(
            "handwritten", workdir / "handwritten.sqlite", mercure=not args.no_mercure
        )
        chosen = calls(args.books)
        names = list(chosen) if args.scenario == "all" else [args.scenario]
        for name in names:
            call = chosen[name]
            cost = per_request_ms(
                {"generic": generic, "handwritten": handwritten}, call, args.requests
            )
            g, h = cost["generic"], cost["handwritten"]
            print(
                f"{name}: generic {g:.3f} ms/request, hand-written {h:.3f} ms/request, "
                f"throughput ratio {h / g:.3f}"
            )
            profiles = {}
            for kind, application in (("generic", generic), ("handwritten", handwritten)):
                profiler = cProfile.Profile(time.process_time)
                client = application.test_client()
                profiler.enable()
                for n in range(args.requests):
                    call(client, n)
                profiler.disable()
                profiles[kind] = profiler
            _breakdown(profiles, args.requests)
            if args.top:
                _print(profiles["generic"], args.top)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _package(filename: str) -> str:
    """The library (or ``app``/``bench``) a profiled function belongs to."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for own in ("/app/", "/bench/"):
        if own in filename:
            return own.strip("/")
    return "stdlib/builtins" if filename.startswith(("/", "<", "~")) else filename


def _breakdown(profiles: dict[str, cProfile.Profile], requests: int) -> None:
    """CPU milliseconds per request spent in each package (own time, under cProfile)."""
    totals: dict[str, dict[str, float]] = {}
    for kind, profiler in profiles.items():
        stats: Any = pstats.Stats(profiler).stats
        for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.items():
            package = _package(filename)
            totals.setdefault(package, {}).setdefault(kind, 0.0)
            totals[package][kind] += tottime * 1000 / requests
    rows = sorted(totals.items(), key=lambda item: -max(item[1].values()))
    print(f"  {'package':<20}{'generic ms':>12}{'hand-written ms':>17}{'difference':>12}")
    for package, cost in rows[:12]:
        g, h = cost.get("generic", 0.0), cost.get("handwritten", 0.0)
        print(f"  {package:<20}{g:>12.3f}{h:>17.3f}{g - h:>+12.3f}")
    print()


def _print(profiler: cProfile.Profile, top: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"/app/", top)
    stats.sort_stats("tottime").print_stats(top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
