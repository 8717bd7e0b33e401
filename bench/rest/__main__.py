"""REST throughput: the generic layer beside a hand-written app, same run, same server.

``python -m bench.rest`` (about 2 minutes) or ``python -m bench.rest --quick`` (under
30 s). Method:

1. One SQLite file is created with the gateway's own tables (shipped ``resources.yaml``)
   and seeded with books and reviews; the hand-written app gets a byte-for-byte copy.
2. Each app runs in its own process on the same kind of server (gevent ``pywsgi``, as the
   gunicorn gevent worker), pinned to CPU 0; the load generator runs here, on CPU 1.
3. Before timing, the answers of both apps to each scenario are compared (status,
   content type, ``Link``, ``Location``, ``Content-Location`` and ``Accept-Patch``
   headers, and the body byte for byte), so both do the same work.
4. Per scenario, rounds alternate the order of the two apps; each round runs a fixed
   time with ``--concurrency`` keep-alive connections. Two throughputs are reported per
   app, each the median of the rounds: requests per wall-clock second, and requests per
   CPU second of the server process (from ``/proc``). A gevent server is one busy core,
   so the second is its saturated throughput, and it stays meaningful when other jobs
   share the machine. Ratios are generic / hand-written, the median of the per-round
   ratios; the verdict (see ``TARGETS``) uses the CPU one.

Scenarios: ``GET /books/{id}`` over the seeded ids, ``GET /books?page=N`` (30 items per
page) over the pages, ``PUT`` and ``PATCH`` (merge patch) of ``/books/{id}`` over the
seeded ids, ``POST /books`` (one committed insert each, run last because it grows the
table); writes as an administrator: the gateway verifies the bearer token and judges the
shipped security rules on every request; the hand-written app checks nothing. Answers are
compared byte for byte before timing (step 3).
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402

from bench.rest.load import BadResponse, Scenario, fetch, get, patch, post, put, run  # noqa: E402
from bench.rest.seed import (  # noqa: E402
    NEW_BOOK,
    PAGE_SIZE,
    database_directory,
    patched_book,
    replaced_book,
    seed,
)
from bench.rest.serve import ADMIN_TOKEN  # noqa: E402

KINDS = ("generic", "handwritten")
TARGETS = {"GET item": 1.5, "GET collection page": 1.5, "PUT": 1.0, "PATCH": 1.0, "POST": 1.0}
"""The least CPU ratio (generic / hand-written requests per CPU second) of each scenario."""


def scenarios(books: int) -> list[Scenario]:
    pages = max(1, books // PAGE_SIZE)
    return [
        Scenario("GET item", lambda n: get(f"/books/{n % books + 1}"), 200),
        Scenario("GET collection page", lambda n: get(f"/books?page={n % pages + 1}"), 200),
        Scenario(
            "PUT", lambda n: put(f"/books/{n % books + 1}", replaced_book(n), ADMIN_TOKEN), 200
        ),
        Scenario(
            "PATCH", lambda n: patch(f"/books/{n % books + 1}", patched_book(n), ADMIN_TOKEN), 200
        ),
        Scenario("POST", lambda n: post("/books", NEW_BOOK, ADMIN_TOKEN), 201),
    ]


class Server:
    """One app under test in its own process (see :mod:`bench.rest.serve`)."""

    def __init__(self, kind: str, database: Path, cpu: int | None, extra: list[str]) -> None:
        command = [sys.executable, "-m", "bench.rest.serve", kind, str(database), *extra]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        self.kind = kind
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise SystemExit(f"the {kind} server did not start (see its errors above)")
        self.port = int(line.split()[1])

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (nanosecond ``schedstat`` when the
        kernel has it, else clock ticks from ``stat``)."""
        proc = Path(f"/proc/{self.process.pid}")
        try:
            return int((proc / "schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


UNCOMPARED_HEADERS = ("date", "server", "connection")
"""Headers the server writes; every other header of the answers is compared."""
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def _comparable(head: str, body: bytes) -> tuple[dict[str, str], bytes]:
    headers = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    request_id = headers.pop("x-request-id", "")  # a fresh one per answer: its form only
    headers["x-request-id"] = "fresh" if REQUEST_ID.match(request_id) else request_id
    return {k: v for k, v in headers.items() if k not in UNCOMPARED_HEADERS}, body


def check_same_answers(servers: dict[str, Server], cases: list[Scenario]) -> None:
    """Refuse to time two apps that do not answer the same: same status, same headers
    that carry meaning, and the same body, byte for byte (both databases are copies, so
    even a created book gets the same id on both sides)."""
    for scenario in cases:
        answers = {}
        for kind, server in servers.items():
            status, head, body = fetch(server.port, scenario.request(7))
            if status != scenario.status:
                raise SystemExit(f"{kind} {scenario.name}: status {status}: {body[:500]!r}")
            answers[kind] = _comparable(head, body)
        if answers["generic"] != answers["handwritten"]:
            raise SystemExit(
                f"{scenario.name}: the two apps answer differently, so the comparison "
                f"would be unfair:\n generic:     {answers['generic']}\n"
                f" handwritten: {answers['handwritten']}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.rest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="4 short rounds (under 30 s)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per scenario")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per round")
    parser.add_argument("--concurrency", type=int, default=4, help="keep-alive connections")
    parser.add_argument("--books", type=int, default=1500, help="seeded books")
    parser.add_argument(
        "--no-mercure",
        action="store_true",
        help="no Mercure on either side: nothing published, no Mercure discovery Link",
    )
    parser.add_argument(
        "--together",
        action="store_true",
        help="load both apps at the same time (they share the server CPU) instead of in turn",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[scenario.name for scenario in scenarios(1)],
        metavar="SCENARIO",
        help="run this scenario alone (repeatable): 'GET item', 'GET collection page', "
        "PUT, PATCH, POST",
    )
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()
    rounds = args.rounds or (4 if args.quick else 15)
    seconds = args.seconds or (0.5 if args.quick else 1.0)
    limit = 1_000_000

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu = cpus[0] if len(cpus) >= 2 else None
    if server_cpu is not None:
        os.sched_setaffinity(0, set(cpus[1:]))

    workdir = database_directory("bench-rest-")
    servers: dict[str, Server] = {}
    try:
        generic_db = workdir / "generic.sqlite"
        seed(generic_db, books=args.books)
        shutil.copyfile(generic_db, workdir / "handwritten.sqlite")
        extra = ["--no-mercure"] if args.no_mercure else []
        servers["generic"] = Server("generic", generic_db, server_cpu, extra)
        servers["handwritten"] = Server(
            "handwritten", workdir / "handwritten.sqlite", server_cpu, extra
        )
        cases = [case for case in scenarios(args.books) if not args.only or case.name in args.only]
        check_same_answers(servers, cases)
        print(
            f"bench.rest: {rounds} rounds x {seconds:g} s per app and scenario, "
            f"{args.concurrency} connections, {args.books} books, SQLite, gevent pywsgi, "
            f"mercure {'off' if args.no_mercure else 'as shipped'}, "
            f"apps loaded {'together' if args.together else 'in turn'}"
        )
        results = []
        for scenario in cases:
            for kind in KINDS:  # warm-up: connection pools, caches, lazy imports
                run(servers[kind].port, scenario, min(0.2, seconds), args.concurrency, limit)
            wall: dict[str, list[float]] = {kind: [] for kind in KINDS}
            cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
            for index in range(rounds):
                order = KINDS if index % 2 == 0 else tuple(reversed(KINDS))
                batches = [order] if args.together else [(kind,) for kind in order]
                for batch in batches:
                    before = {kind: servers[kind].cpu_seconds() for kind in batch}
                    jobs = {
                        kind: gevent.spawn(
                            run, servers[kind].port, scenario, seconds, args.concurrency, limit
                        )
                        for kind in batch
                    }
                    gevent.joinall(list(jobs.values()), raise_error=True)
                    for kind, job in jobs.items():
                        used = servers[kind].cpu_seconds() - before[kind]
                        wall[kind].append(job.value.throughput)
                        cpu[kind].append(job.value.requests / used if used > 0 else 0.0)
            results.append(_row(scenario.name, wall, cpu))
        _report(results)
        if args.json:
            print(json.dumps(results, indent=2))
    except BadResponse as error:
        raise SystemExit(f"bench.rest: {error}") from None
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _row(name: str, wall: dict[str, list[float]], cpu: dict[str, list[float]]) -> dict[str, Any]:
    """Medians of the rounds; each ratio is the median of the per-round ratios (a round
    runs both apps back to back, so slow drifts of the machine's load cancel out)."""

    def paired(samples: dict[str, list[float]]) -> float:
        pairs = zip(samples["generic"], samples["handwritten"], strict=True)
        return statistics.median(g / h if h else 0.0 for g, h in pairs)

    cpu_ratio = paired(cpu)
    return {
        "scenario": name,
        "generic_rps": round(statistics.median(wall["generic"]), 1),
        "handwritten_rps": round(statistics.median(wall["handwritten"]), 1),
        "ratio": round(paired(wall), 3),
        "generic_per_cpu_s": round(statistics.median(cpu["generic"]), 1),
        "handwritten_per_cpu_s": round(statistics.median(cpu["handwritten"]), 1),
        "cpu_ratio": round(cpu_ratio, 3),
        "target": TARGETS[name],
        "meets_target": cpu_ratio >= TARGETS[name],
    }


def _report(results: list[dict[str, Any]]) -> None:
    print(
        f"{'scenario':<21}{'generic req/s':>14}{'hand-written':>14}{'ratio':>7}"
        f"{'generic req/cpu-s':>19}{'hand-written':>14}{'ratio':>7}  target (cpu ratio)"
    )
    for row in results:
        verdict = f">= {row['target']}: " + ("met" if row["meets_target"] else "NOT met")
        print(
            f"{row['scenario']:<21}{row['generic_rps']:>14}{row['handwritten_rps']:>14}"
            f"{row['ratio']:>7}{row['generic_per_cpu_s']:>19}{row['handwritten_per_cpu_s']:>14}"
            f"{row['cpu_ratio']:>7}  {verdict}"
        )


if __name__ == "__main__":
    main()
