"""What a soak found: every subscriber's deliveries checked against the committed writes.

A subscriber expects every committed write to a book of its shard (all subscribers are
connected before the first write). For each one, an update is **lost** when it never
arrived (**announced** when the hub later answered that subscriber's resumption with
``Last-Event-ID: earliest``, telling it that it may have missed updates; **silent**
otherwise), **duplicated** when it arrived more than once, **unexpected** when it names a
write that did not commit, and **out of order** when it arrived after a later write to
the same book (changes of one item reach the hub in commit order). Latency is taken for
the first delivery of each update: the time it was read by the subscriber minus the
time the writer read the REST answer of its write (the commit), so it can be slightly
negative when the update outran the answer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.soak.load import Ledger, StreamFigures, Subscriber, Write

SHOWN = 20
"""Offending updates printed in full; all of them go to ``--json``."""


@dataclass
class Outcome:
    """The verdict of one run."""

    committed: Counter[str] = field(default_factory=Counter)
    unresolved: list[int] = field(default_factory=list)
    expected: list[int] = field(default_factory=list)
    """Updates expected by each subscriber."""
    delivered: int = 0
    lost: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    """seq -> the subscribers that never received its update."""
    duplicated: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    unexpected: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    out_of_order: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    announced: int = 0
    """Missing deliveries whose subscriber was answered ``earliest`` after the commit."""
    latencies: list[float] = field(default_factory=list)
    resumes: list[float] = field(default_factory=list)
    """Seconds from each resumption's request to its answer's headers."""

    @property
    def lost_deliveries(self) -> int:
        return sum(len(who) for who in self.lost.values())

    @property
    def duplicate_deliveries(self) -> int:
        return sum(len(who) for who in self.duplicated.values())

    @property
    def failed(self) -> bool:
        return bool(self.lost or self.duplicated or self.unexpected or self.out_of_order)


def expected_by_shard(writes: Sequence[Write], shards: int) -> list[set[int]]:
    """The seqs of the committed writes of each shard's books."""
    found: list[set[int]] = [set() for _ in range(shards)]
    for write in writes:
        if write.committed and write.book is not None:
            found[write.book % shards].add(write.seq)
    return found


def analyse(ledger: Ledger, subscribers: Sequence[Subscriber], shards: int) -> Outcome:
    outcome = Outcome()
    writes = ledger.writes
    for write in writes:
        if write.committed:
            outcome.committed[write.op] += 1
        elif write.committed is None:
            outcome.unresolved.append(write.seq)
    expected = expected_by_shard(writes, shards)
    deleted = ledger.deleted
    latencies = outcome.latencies
    for subscriber in subscribers:
        wanted = expected[subscriber.shard]
        outcome.expected.append(len(wanted))
        outcome.delivered += len(subscriber.tags)
        seen: Counter[int] = Counter()
        newest: dict[int, int] = {}
        for tag, at in zip(subscriber.tags, subscriber.times, strict=True):
            seq = tag if tag > 0 else deleted.get(-tag, 0) if tag < 0 else 0
            seen[seq] += 1
            if seq not in wanted:
                outcome.unexpected[seq].append(subscriber.index)
                continue
            if seen[seq] > 1:
                outcome.duplicated[seq].append(subscriber.index)
                continue
            write = writes[seq - 1]
            assert write.book is not None
            if newest.get(write.book, 0) > seq:
                outcome.out_of_order[seq].append(subscriber.index)
            newest[write.book] = max(newest.get(write.book, 0), seq)
            if write.answered is not None:
                latencies.append(at - write.answered)
        for seq in wanted - seen.keys():
            outcome.lost[seq].append(subscriber.index)
            write = writes[seq - 1]
            committed = write.answered or write.started
            if any(at >= committed for at in subscriber.earliest_at):
                outcome.announced += 1
        outcome.resumes += [
            answered - sent
            for sent, answered, _status, cursor, _answer in subscriber.attempts
            if cursor is not None and answered
        ]
    latencies.sort()
    outcome.resumes.sort()
    return outcome


def percentile(ordered: Sequence[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def milliseconds(value: float) -> str:
    return f"{value * 1000:,.1f}"


def describe(
    label: str, found: dict[int, list[int]], ledger: Ledger, streams: StreamFigures, t0: float
) -> list[str]:
    """One line per offending update (the first :data:`SHOWN`)."""
    lines = []
    for seq in sorted(found)[:SHOWN]:
        who = found[seq]
        if seq == 0:
            lines.append(f"{label}: {len(who)} deliveries that name no write of this run")
            continue
        write = ledger.writes[seq - 1]
        tag = -write.book if write.op == "delete" and write.book is not None else seq
        update = streams.first_ids.get(tag, "never delivered to anyone")
        committed = "answer lost" if write.answered is None else f"{write.answered - t0:.2f} s"
        shown = ", ".join(str(index) for index in who[:10]) + (", ..." if len(who) > 10 else "")
        lines.append(
            f"{label}: write {seq} ({write.op} /books/{write.book}, committed at {committed}, "
            f"update {update}): {len(who)} subscribers ({shown})"
        )
    if len(found) > SHOWN:
        lines.append(f"{label}: ... and {len(found) - SHOWN} more updates")
    return lines


def figures(
    outcome: Outcome,
    ledger: Ledger,
    streams: StreamFigures,
    *,
    seconds: float,
    rate: float,
    server_errors: int,
) -> dict[str, object]:
    """The figures of the run, as printed and as written to ``--json``."""
    latencies = outcome.latencies
    resumes = outcome.resumes
    expected = outcome.expected or [0]
    answerless = [write for write in ledger.writes if write.status is None]
    five_hundreds = sum(n for status, n in ledger.statuses.items() if status >= 500)
    five_hundreds += sum(n for status, n in streams.statuses.items() if status >= 500)
    return {
        "load_seconds": round(seconds, 1),
        "writes": len(ledger.writes),
        "committed_writes": sum(outcome.committed.values()),
        "committed_by_operation": dict(outcome.committed),
        "writes_per_second": round(sum(outcome.committed.values()) / seconds, 1),
        "writes_per_second_planned": rate,
        "writes_behind_schedule": ledger.behind,
        "write_answers_lost": ledger.lost_answers,
        "write_answers_lost_committed": sum(1 for write in answerless if write.committed),
        "writes_unresolved": len(outcome.unresolved),
        "write_statuses": {str(k): v for k, v in sorted(ledger.statuses.items())},
        "subscribers": len(outcome.expected),
        "updates_expected_per_subscriber_mean": round(sum(expected) / len(expected), 1),
        "updates_expected_per_subscriber_min": min(expected),
        "updates_expected_per_subscriber_max": max(expected),
        "deliveries_expected": sum(outcome.expected),
        "deliveries": outcome.delivered,
        "lost_updates": len(outcome.lost),
        "lost_deliveries": outcome.lost_deliveries,
        "lost_deliveries_announced": outcome.announced,
        "duplicated_updates": len(outcome.duplicated),
        "duplicate_deliveries": outcome.duplicate_deliveries,
        "unexpected_deliveries": sum(len(w) for w in outcome.unexpected.values()),
        "out_of_order_deliveries": sum(len(w) for w in outcome.out_of_order.values()),
        "latency_p50_ms": round(percentile(latencies, 0.5) * 1000, 1) if latencies else None,
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
        "latency_max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "resume_p50_ms": round(percentile(resumes, 0.5) * 1000, 1) if resumes else None,
        "resume_p99_ms": round(percentile(resumes, 0.99) * 1000, 1) if resumes else None,
        "resume_max_ms": round(resumes[-1] * 1000, 1) if resumes else None,
        "streams_opened": streams.streams,
        "reconnects": streams.reconnects,
        "resumes_answered_earliest": streams.earliest,
        "come_back_streams": streams.come_back,
        "subscribe_statuses": {str(k): v for k, v in sorted(streams.statuses.items())},
        "stream_errors": dict(streams.errors),
        "answers_5xx": five_hundreds,
        "server_log_errors": server_errors,
    }


def table(found: dict[str, object], setup: str) -> str:
    """The figures as a Markdown table."""

    def number(key: str) -> str:
        value = found[key]
        return f"{value:,}" if isinstance(value, int) else str(value)

    committed = found["committed_by_operation"]
    assert isinstance(committed, dict)
    operations = ", ".join(f"{committed.get(op, 0):,} {op}" for op in ("create", "patch", "delete"))
    rows = [
        ("set-up", setup),
        (
            "committed writes",
            f"{number('committed_writes')} ({operations}; {found['writes_per_second']}/s "
            f"of {found['writes_per_second_planned']:g}/s planned)",
        ),
        (
            "write answers lost (outcome read back)",
            f"{number('write_answers_lost')} ({number('write_answers_lost_committed')} had "
            f"committed; unresolved: {number('writes_unresolved')})",
        ),
        (
            "updates expected per subscriber",
            f"{found['updates_expected_per_subscriber_mean']:,} (mean; "
            f"{number('updates_expected_per_subscriber_min')} to "
            f"{number('updates_expected_per_subscriber_max')})",
        ),
        (
            "deliveries",
            f"{number('deliveries')} of {number('deliveries_expected')} expected",
        ),
        (
            "updates lost",
            f"{number('lost_updates')} ({number('lost_deliveries')} deliveries missing, "
            f"{number('lost_deliveries_announced')} of them announced by an earliest answer)",
        ),
        (
            "updates duplicated",
            f"{number('duplicated_updates')} ({number('duplicate_deliveries')} extra deliveries)",
        ),
        (
            "unexpected / out-of-order deliveries",
            f"{number('unexpected_deliveries')} / {number('out_of_order_deliveries')}",
        ),
        (
            "latency commit -> delivery p50 / p99 / max (ms)",
            f"{found['latency_p50_ms']} / {found['latency_p99_ms']} / {found['latency_max_ms']}",
        ),
        (
            "resumption request -> stream open p50 / p99 / max (ms)",
            f"{found['resume_p50_ms']} / {found['resume_p99_ms']} / {found['resume_max_ms']}",
        ),
        (
            "reconnects",
            f"{number('reconnects')} ({number('come_back_streams')} come-back streams during "
            f"Redis outages, {number('resumes_answered_earliest')} resumes answered earliest)",
        ),
        ("5xx answers", number("answers_5xx")),
        ("error lines in the gunicorn log", number("server_log_errors")),
    ]
    lines = ["| figure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)
