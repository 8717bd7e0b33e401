"""Soak of the whole gateway: ``python -m bench.soak [--minutes N] [--quick]``.

A bounded run of the gateway as deployed, on this machine's loopback only:

* a private ``redis-server --save ""`` on a free port (the transport; it keeps nothing on
  disk unless ``--redis-aof``), a database (``--database sqlite``, the default: a file
  in a temporary directory; or ``postgresql``: a fresh database on the server of
  ``POSTGRES_URL``, dropped afterwards) migrated with ``flask db upgrade``, and gunicorn
  with ``gunicorn.conf.py`` and 2 gevent workers, ``AUTH_JWT_KEY`` set;
* steady REST writes as an administrator (a token from
  :func:`app.auth.command.mint_user_token`): create, patch and delete books at a fixed
  rate (50/s) from a few greenlets (:mod:`bench.soak.load`);
* 1,000 raw-socket SSE subscribers, each on a tenth of the books (the URI template
  ``<origin>/books/{n}<d>``: ids ending with the digit ``d``; 1,000 subscribers of every
  book would need 50,000 deliveries a second, more than two shared cores give), that
  reconnect with ``Last-Event-ID`` after their stream ends, like ``EventSource``;
* ``kill -HUP`` of the gunicorn master every 60 s from 30 s on (a reload: every stream
  ends and resumes on the new workers) and a restart of the redis-server every 120 s
  from 60 s on, down for 5 s, so that reloads fall 25 to 30 s away from outages: a Redis
  that keeps nothing on disk forgets the history when it restarts, so a subscriber still
  resuming then is answered ``earliest`` and misses updates, as docs/transports.md says (the run
  warns when the schedule given brings them closer). The load runs ``--minutes`` (10),
  or 45 s with ``--quick`` (a reload at 10 s, an outage at 30 s; about 70 s in all).

After a drain (until every subscriber has as many updates as it expects, at most 30 s)
it reports, as a Markdown table: the committed writes, the updates expected per
subscriber, the updates lost (telling those announced to their subscriber by an
``earliest`` answer from silent ones) and duplicated, with the offending updates named,
unexpected and out-of-order deliveries, the commit-to-delivery latency p50/p99/max over
the whole run, how long resumptions took to open, reconnects and 5xx answers, plus the
``[ERROR]`` lines of the gunicorn log. ``--json FILE`` also writes the figures and every
offending write. The exit status is 1 when any update was lost, duplicated, unexpected
or out of order, 2 when the run could not be made. ``--keep`` keeps the run's directory
(logs, database, ``subscriptions.json``: the timing of every subscription request); it
is kept anyway when something was found.

Every subscriber holds a file descriptor here and one in a worker: the open-files limit
(``ulimit -n``) is raised to its hard limit, and the subscriber count lowered, with a
warning, when even that is too low.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402

from app.auth.command import mint_user_token  # noqa: E402
from bench.soak.load import (  # noqa: E402
    Ledger,
    StreamFigures,
    Subscriber,
    Writer,
    shard_selector,
)
from bench.soak.report import analyse, describe, expected_by_shard, figures, table  # noqa: E402
from bench.soak.servers import (  # noqa: E402
    USER_KEY,
    Gunicorn,
    RedisServer,
    ServerError,
    database,
    free_port,
    gateway_env,
    migrate,
)

POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
QUICK_SECONDS = 45.0
OPEN_TIMEOUT = 120.0
FILES_RESERVE = 256
"""File descriptors kept for everything but subscribers (writers, logs, Redis, imports)."""
GUARD_BEFORE = 20.0
GUARD_AFTER = 15.0


@dataclass(frozen=True)
class Plan:
    seconds: float
    hups: tuple[float, ...]
    outages: tuple[float, ...]
    down: float


def plan(
    seconds: float, hups: tuple[float, float], outages: tuple[float, float], down: float
) -> Plan:
    """Reloads at ``first + k x every`` for ``hups`` = (first, every), Redis restarts the
    same way for ``outages``, all within the load (an outage also ends within it); an
    ``every`` of 0 means none."""

    def times(first: float, every: float, room: float) -> tuple[float, ...]:
        found: list[float] = []
        at = first
        while every > 0 and at + room < seconds:
            found.append(at)
            at += every
        return tuple(found)

    return Plan(seconds, times(*hups, 0.0), times(*outages, down), down)


def close_calls(schedule: Plan) -> list[str]:
    """Reloads close enough to a Redis outage for resuming subscribers to meet it."""
    found = []
    for hup in schedule.hups:
        for outage in schedule.outages:
            if outage - GUARD_BEFORE < hup < outage + schedule.down + GUARD_AFTER:
                found.append(f"reload at {hup:.0f} s, Redis outage at {outage:.0f} s")
    return found


def open_files(subscribers: int) -> int:
    """Raise the open-files limit as far as allowed; the subscribers it leaves room for."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = subscribers + FILES_RESERVE
    limit = hard if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if soft < limit:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
        except (ValueError, OSError):
            limit = soft
    allowed = max(limit - FILES_RESERVE, 0)
    if subscribers > allowed:
        print(
            f"warning: the open-files limit (ulimit -n) allows {limit:,}: lowering the "
            f"subscribers from {subscribers:,} to {allowed:,}; raise the hard limit "
            "(ulimit -Hn) to run them all",
            file=sys.stderr,
        )
        return allowed
    return subscribers


def log(t0: float, message: str) -> None:
    print(f"[{time.monotonic() - t0:7.1f} s] {message}", file=sys.stderr, flush=True)


def server_errors(path: Path) -> Counter[str]:
    """The ``[ERROR]`` messages of the gunicorn log, counted."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return Counter()
    return Counter(
        line.partition("[ERROR] ")[2].strip() for line in text.splitlines() if "[ERROR]" in line
    )


class Soak:
    """One run: servers, load, chaos, drain."""

    def __init__(self, args: argparse.Namespace, schedule: Plan, directory: Path) -> None:
        self.args = args
        self.schedule = schedule
        self.directory = directory
        self.stop = Event()
        self.streams = StreamFigures(args.subscribers)
        self.ledger = Ledger(args.writers)
        self.subscribers: list[Subscriber] = []
        self.timeline: list[tuple[float, str]] = []
        self.t0 = time.monotonic()
        self.load_started = 0.0

    def run(self, gunicorn: Gunicorn, redis: RedisServer) -> None:
        args = self.args
        origin = gunicorn.url
        for index in range(args.subscribers):
            shard = index % args.shards
            self.subscribers.append(
                Subscriber(
                    index,
                    shard,
                    "127.0.0.1",
                    gunicorn.port,
                    shard_selector(origin, shard, args.shards),
                    self.streams,
                    self.stop,
                )
            )
        greenlets = [gevent.spawn(subscriber.run) for subscriber in self.subscribers]
        try:
            self.load(gunicorn, redis)
        finally:
            self.stop.set()
            gevent.killall(greenlets, timeout=10)

    def load(self, gunicorn: Gunicorn, redis: RedisServer) -> None:
        args = self.args
        log(self.t0, f"connecting {args.subscribers:,} subscribers...")
        if not self.streams.all_opened.wait(OPEN_TIMEOUT):
            raise ServerError(
                f"only {self.streams.opened}/{args.subscribers} subscribers opened their "
                f"stream within {OPEN_TIMEOUT:.0f} s: {dict(self.streams.errors)}"
            )
        seconds = self.schedule.seconds
        token = mint_user_token(
            USER_KEY, "HS256", "soak-admin", ("admin",), expires_in=seconds + 3600
        )
        start = time.monotonic() + 0.5
        self.load_started = start
        period = args.writers / args.rate
        writers = [
            Writer(
                gunicorn.url,
                token,
                self.ledger,
                seed=number,
                start=start + number * period / args.writers,
                period=period,
                end=start + seconds,
            )
            for number in range(args.writers)
        ]
        log(self.t0, f"writing {args.rate}/s for {seconds:.0f} s")
        writing = [gevent.spawn(writer.run) for writer in writers]
        chaos = gevent.spawn(self.chaos, start, gunicorn, redis)
        progress = gevent.spawn(self.progress, 10.0 if args.quick else 30.0)
        try:
            gevent.joinall(writing, raise_error=True)
            chaos.join()
            if chaos.exception is not None:
                raise chaos.exception
        finally:
            gevent.killall([*writing, chaos, progress])
        log(self.t0, f"writes done: {len(self.ledger.writes):,}; draining")
        self.drain(args.drain)

    def chaos(self, start: float, gunicorn: Gunicorn, redis: RedisServer) -> None:
        events = [(at, "hup") for at in self.schedule.hups]
        events += [(at, "redis") for at in self.schedule.outages]
        for at, kind in sorted(events):
            delay = start + at - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
            if kind == "hup":
                gunicorn.reload()
                self.note(start, "kill -HUP gunicorn")
            else:
                redis.stop()
                self.note(start, "redis-server stopped")
                gevent.sleep(self.schedule.down)
                redis.start()
                self.note(start, "redis-server started")

    def note(self, start: float, what: str) -> None:
        self.timeline.append((time.monotonic() - start, what))
        log(self.t0, what)

    def progress(self, every: float) -> None:
        while True:
            gevent.sleep(every)
            delivered = sum(len(subscriber.tags) for subscriber in self.subscribers)
            committed = sum(1 for write in self.ledger.writes if write.committed)
            log(
                self.t0,
                f"{committed:,} writes committed, {delivered:,} deliveries, "
                f"{self.streams.reconnects:,} reconnects",
            )

    def drain(self, seconds: float) -> None:
        """Until every subscriber has as many updates as it expects (then 2 s more, for
        late duplicates), at most ``seconds``."""
        expected = [len(found) for found in expected_by_shard(self.ledger.writes, self.args.shards)]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            behind = [s for s in self.subscribers if len(s.tags) < expected[s.shard]]
            if not behind:
                gevent.sleep(min(2.0, max(0.0, deadline - time.monotonic())))
                return
            gevent.sleep(0.5)
        log(self.t0, f"drain period of {seconds:.0f} s over, some subscribers are behind")


def offenders(found: dict[int, list[int]], soak: Soak) -> list[dict[str, object]]:
    """Every offending write, for ``--json``."""
    rows: list[dict[str, object]] = []
    for seq, who in sorted(found.items()):
        row: dict[str, object] = {"write": seq, "subscribers": who}
        if seq:
            write = soak.ledger.writes[seq - 1]
            tag = -write.book if write.op == "delete" and write.book is not None else seq
            row.update(
                op=write.op,
                book=write.book,
                committed_at=None
                if write.answered is None
                else round(write.answered - soak.load_started, 3),
                update=soak.streams.first_ids.get(tag),
            )
        rows.append(row)
    return rows


def setup_label(args: argparse.Namespace, schedule: Plan) -> str:
    return (
        f"{schedule.seconds / 60:g} min of load, {args.rate:g} writes/s, "
        f"{args.subscribers:,} subscribers on {args.shards} shard(s), gunicorn "
        f"{args.workers} gevent workers, {args.database}, "
        f"Redis transport ({'append-only file' if args.redis_aof else 'nothing on disk'}), "
        f"{len(schedule.hups)} reload(s), {len(schedule.outages)} Redis restart(s) "
        f"({schedule.down:g} s down)"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Soak of the gateway under gunicorn")
    parser.add_argument("--minutes", type=float, default=10.0, help="load duration (10)")
    parser.add_argument("--quick", action="store_true", help="45 s of load, about 70 s in all")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--shards", type=int, choices=(1, 10), default=10,
                        help="10: each subscriber gets the books whose id ends with one digit; "
                        "1: every subscriber gets every book")  # fmt: skip
    parser.add_argument("--rate", type=float, default=50.0, help="writes per second (50)")
    parser.add_argument("--writers", type=int, default=5, help="writing greenlets (5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--hup-every", type=float, default=60.0, help="seconds between reloads (60; 0: none)"
    )
    parser.add_argument("--hup-first", type=float, help="first reload (30 s; quick 10 s)")
    parser.add_argument(
        "--redis-every", type=float, default=120.0, help="seconds between Redis restarts (120)"
    )
    parser.add_argument("--redis-first", type=float, help="first restart (60 s; quick 30 s)")
    parser.add_argument(
        "--redis-aof",
        action="store_true",
        help="give the redis-server an append-only file (synced every second)",
    )
    parser.add_argument("--redis-down", type=float, default=5.0, help="seconds down (5)")
    parser.add_argument("--drain", type=float, help="longest drain in seconds (30; quick 15)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="server for postgresql")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the logs and the database")
    args = parser.parse_args(argv)
    if args.hup_first is None:
        args.hup_first = 10.0 if args.quick else 30.0
    if args.redis_first is None:
        args.redis_first = 30.0 if args.quick else 60.0
    if args.drain is None:
        args.drain = 15.0 if args.quick else 30.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.subscribers = open_files(args.subscribers)
    if args.subscribers < args.shards:
        print(f"soak failed: {args.subscribers} subscribers, {args.shards} shards", file=sys.stderr)
        return 2
    seconds = QUICK_SECONDS if args.quick else args.minutes * 60
    schedule = plan(
        seconds,
        (args.hup_first, args.hup_every),
        (args.redis_first, args.redis_every),
        args.redis_down,
    )
    for call in [] if args.redis_aof else close_calls(schedule):
        print(
            f"warning: {call}: subscribers resuming across a restart of a Redis that keeps "
            "nothing on disk are answered earliest and lose updates (see docs/transports.md)",
            file=sys.stderr,
        )
    directory = Path(tempfile.mkdtemp(prefix="mercure-gateway-soak-"))
    soak = Soak(args, schedule, directory)
    keep = args.keep
    gunicorn: Gunicorn | None = None
    try:
        redis = RedisServer(directory, aof=args.redis_aof)
        redis.start()
        try:
            with database(args.database, directory, args.postgres_url) as database_url:
                port = free_port()
                transport = f"{redis.url}?stream=soak"
                env = gateway_env(database_url, transport, port, args.workers)
                log(soak.t0, f"migrating the {args.database} database (flask db upgrade)")
                migrate(env)
                gunicorn = Gunicorn(directory, env, port)
                gunicorn.start()
                log(soak.t0, f"gunicorn serves {gunicorn.url} (logs in {directory})")
                try:
                    soak.run(gunicorn, redis)
                finally:
                    gunicorn.stop()
        finally:
            redis.stop()
    except (ServerError, OSError) as error:
        print(f"soak failed: {error}\nlogs: {directory}", file=sys.stderr)
        return 2

    outcome = analyse(soak.ledger, soak.subscribers, args.shards)
    errors = server_errors(gunicorn.log_path) if gunicorn is not None else Counter()
    found = figures(
        outcome,
        soak.ledger,
        soak.streams,
        seconds=seconds,
        rate=args.rate,
        server_errors=errors.total(),
    )
    print(table(found, setup_label(args, schedule)))
    print()
    print("timeline: " + "; ".join(f"{at:.1f} s {what}" for at, what in soak.timeline))
    for message, count in errors.most_common(5):
        print(f"gunicorn log: {count} x [ERROR] {message}")
    offending = []
    for label, which in (
        ("lost", outcome.lost),
        ("duplicated", outcome.duplicated),
        ("unexpected", outcome.unexpected),
        ("out of order", outcome.out_of_order),
    ):
        offending += describe(label, which, soak.ledger, soak.streams, soak.load_started)
    if offending:
        print("\n".join(offending))
        keep = True
    if args.json:
        found["timeline"] = soak.timeline
        found["server_log_error_messages"] = dict(errors)
        for key, which in (
            ("lost", outcome.lost),
            ("duplicated", outcome.duplicated),
            ("unexpected", outcome.unexpected),
            ("out_of_order", outcome.out_of_order),
        ):
            found[key] = offenders(which, soak)
        args.json.write_text(json.dumps(found, indent=2) + "\n")
    if keep:
        attempts = {
            subscriber.index: [
                [
                    round(sent - soak.load_started, 3),
                    round(answered - soak.load_started, 3) if answered else None,
                    status,
                    cursor,
                    answer,
                ]
                for sent, answered, status, cursor, answer in subscriber.attempts
            ]
            for subscriber in soak.subscribers
        }
        (directory / "subscriptions.json").write_text(json.dumps(attempts) + "\n")
        print(f"logs and database kept in {directory}", file=sys.stderr)
    else:
        shutil.rmtree(directory, ignore_errors=True)
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main())
