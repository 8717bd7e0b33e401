"""Load generator: many raw-socket SSE subscribers and one publisher, in one gevent process.

Run as ``python -m bench.hub.load --port P --subscribe-path ... --publish-path ... -n N``;
prints one JSON object on stdout. It is started by :mod:`bench.hub.__main__` in its own
process so the server under test has its own interpreter (and, on two cores, its own core).

Phases, all against one topic:

1. memory: the server's RSS (``/proc/PID/status``) before and after ``N`` subscribers are
   connected and idle (each has received one update, which proves the server holds it);
2. latency: ``messages`` updates published one after the other; for each, the time from
   the start of the publish request to the moment the **last** subscriber has read it.
   The server's CPU time per delivery over this phase (``paced_us_per_delivery``) is its
   cost when no update overlaps the next: nothing is queued behind a frame being sent, so
   no send carries two updates, whatever the server's load;
3. throughput: ``burst`` updates published with at most ``window`` not yet delivered to
   every subscriber; deliveries per second = ``N * burst / elapsed``. The CPU shares of
   the server and of this process over that phase (1.0 = one core busy) tell which side
   was the bottleneck.

Subscribers speak HTTP/1.1 as browsers do (chunked responses included) and count events by
the ``data: m<seq>`` line of each; nothing else of the frame is parsed. They are greenlets
of this process, or with ``--readers native`` connections read by one epoll loop in C
(``readers.c``, built on first use with ``cc``), which costs a fraction of what a greenlet
per subscriber costs, so that in a burst the server, not the readers, is the bottleneck.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402
from gevent.lock import Semaphore  # noqa: E402

from bench.hub.peer import cache_root  # noqa: E402

SEQ = re.compile(rb"data: m(\d+)\n")
CONNECT_CONCURRENCY = 100
WAIT_SECONDS = 60.0
CATCH_UP_ATTEMPTS = 30
CATCH_UP_SECONDS_PER_SUBSCRIBER = 0.0005  # patient: a flood would overflow small queues


def raise_open_files_limit() -> None:
    """Allow as many sockets as the hard limit permits (10,000 subscribers need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(*pids: int) -> float:
    """User plus system CPU time consumed so far by processes ``pids`` (Linux)."""
    ticks = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_bytes(*pids: int) -> int:
    """Resident set size of processes ``pids`` in bytes, summed (Linux)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as status:
            found = [line for line in status if line.startswith("VmRSS:")]
        if not found:
            raise RuntimeError(f"no VmRSS for process {pid}")
        total += int(found[0].split()[1]) * 1024
    return total


def sockets(pid: int) -> int:
    """How many sockets process ``pid`` holds open (Linux)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


@dataclass
class Tally:
    """Delivery counts per message sequence number, shared by all subscriber greenlets."""

    subscribers: int
    counts: dict[int, int] = field(default_factory=dict)
    done: dict[int, float] = field(default_factory=dict)
    events: dict[int, Event] = field(default_factory=dict)
    connected: int = 0
    closed: int = 0
    all_connected: Event = field(default_factory=Event)

    def expect(self, seq: int) -> Event:
        self.counts[seq] = 0
        event = self.events[seq] = Event()
        return event

    def delivered(self, seq: int, now: float) -> None:
        if seq not in self.counts:
            return
        count = self.counts[seq] = self.counts[seq] + 1
        if count == self.subscribers:
            self.finished(seq, now)

    def finished(self, seq: int, now: float) -> None:
        """The last subscriber read ``seq`` at ``now``."""
        if seq in self.counts:
            self.counts[seq] = self.subscribers
            self.done[seq] = now
            self.events[seq].set()


def subscriber(
    host: str, port: int, path: str, headers: str, tally: Tally, connecting: Semaphore
) -> None:
    """Connect and send the request, then count events until EOF.

    A subscriber counts as connected once its request is sent: some servers flush no
    headers before the first event, so readiness is proven by delivery (:func:`catch_up`).
    """
    with connecting:
        sock = socket.create_connection((host, port))
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
            f"{headers}\r\n".encode()
        )
    tally.connected += 1
    if tally.connected == tally.subscribers:
        tally.all_connected.set()
    try:
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed before headers: {buffer[:200]!r}")
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise ConnectionError(f"subscribe failed: {head.splitlines()[0]!r}")
        recv = sock.recv
        finditer = SEQ.finditer
        while True:
            end = buffer.rfind(b"\n\n")
            if end >= 0:
                now = time.perf_counter()
                for match in finditer(buffer, 0, end + 1):
                    tally.delivered(int(match.group(1)), now)
                buffer = buffer[end + 2 :]
            chunk = recv(65536)
            if not chunk:
                break
            buffer += chunk
    finally:
        tally.closed += 1
        sock.close()


READERS_SOURCE = Path(__file__).with_name("readers.c")


def native_readers() -> Path:
    """The binary of ``readers.c``, compiled with ``cc -O2`` once per version of the source
    into the benchmarks' cache directory."""
    source = READERS_SOURCE.read_bytes()
    binary = cache_root() / f"readers-{hashlib.sha256(source).hexdigest()[:16]}"
    if not binary.exists():
        if shutil.which("cc") is None:
            raise RuntimeError("--readers native needs a C compiler (cc): install gcc")
        binary.parent.mkdir(parents=True, exist_ok=True)
        built = binary.with_suffix(".tmp")
        subprocess.run(["cc", "-O2", "-o", str(built), str(READERS_SOURCE)], check=True)
        built.replace(binary)
    return binary


class NativeReaders:
    """``tally.subscribers`` subscribers read by ``readers.c`` in a process of its own,
    whose lines (see the source) update ``tally``."""

    def __init__(self, tally: Tally, host: str, port: int, request: str) -> None:
        self.tally = tally
        self.process = subprocess.Popen(
            [str(native_readers()), host, str(port), str(tally.subscribers), request],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.greenlet = gevent.spawn(self._follow)

    def _follow(self) -> None:
        tally = self.tally
        assert self.process.stdout is not None
        for line in self.process.stdout:
            kind, _, rest = line.rstrip("\n").partition(" ")
            if kind == "done":
                seq, at = rest.split()
                tally.finished(int(seq), float(at))
            elif kind == "connected":
                tally.connected = tally.subscribers
                tally.all_connected.set()
            elif kind == "closed":
                tally.closed += 1
            else:
                print(f"native readers: {line.rstrip()}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self.greenlet.join(timeout=5)


class Publisher:
    """Publishes ``data=m<seq>`` on one keep-alive HTTP connection."""

    def __init__(self, host: str, port: int, path: str, topic: str, token: str) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=WAIT_SECONDS)
        self.path = path
        self.topic = topic
        self.headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def publish(self, seq: int) -> None:
        body = urlencode({"topic": self.topic, "data": f"m{seq}"})
        try:
            self.connection.request("POST", self.path, body=body, headers=self.headers)
            response = self.connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed the idle keep-alive connection (gunicorn after 5 s, while
            # thousands of subscribers connect): publish again on a new one.
            self.connection.close()
            self.connection.request("POST", self.path, body=body, headers=self.headers)
            response = self.connection.getresponse()
        text = response.read()
        if response.status != 200:
            raise RuntimeError(f"publish answered {response.status}: {text[:200]!r}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> dict[str, object]:
    raise_open_files_limit()
    tally = Tally(args.subscribers)
    headers = f"Authorization: Bearer {args.subscriber_token}\r\n" if args.subscriber_token else ""
    publisher = Publisher(args.host, args.port, args.publish_path, args.topic, args.token)
    seq = 0

    def catch_up(audience: Tally) -> None:
        """Publish until one update reaches every subscriber of ``audience``: then all of
        them are registered by the server (some flush nothing before the first event)."""
        nonlocal seq
        for _ in range(CATCH_UP_ATTEMPTS):
            event = audience.expect(seq)
            publisher.publish(seq)
            seq += 1
            if event.wait(2.0 + audience.subscribers * CATCH_UP_SECONDS_PER_SUBSCRIBER):
                return
        raise RuntimeError(
            f"only {max(audience.counts.values())}/{audience.subscribers} subscribers got an "
            f"update after {CATCH_UP_ATTEMPTS} tries"
        )

    # Warm the server's code paths with one subscriber before the memory baseline.
    warm = Tally(1)
    warm_greenlet = gevent.spawn(
        subscriber, args.host, args.port, args.subscribe_path, headers, warm, Semaphore(1)
    )
    warm.all_connected.wait(WAIT_SECONDS)
    catch_up(warm)
    warm_greenlet.kill()
    gevent.sleep(0.5)
    rss_before = rss_bytes(*args.server_pid)

    connecting = Semaphore(CONNECT_CONCURRENCY)
    started = time.perf_counter()
    greenlets: list[gevent.Greenlet] = []
    native = None
    if args.readers == "native":
        request = (
            f"GET {args.subscribe_path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n"
            f"Accept: text/event-stream\r\n{headers}\r\n"
        )
        native = NativeReaders(tally, args.host, args.port, request)
    else:
        greenlets = [
            gevent.spawn(
                subscriber, args.host, args.port, args.subscribe_path, headers, tally, connecting
            )
            for _ in range(args.subscribers)
        ]
    if not tally.all_connected.wait(WAIT_SECONDS * 3):
        failed = [g.exception for g in greenlets if g.exception is not None]
        raise RuntimeError(
            f"only {tally.connected}/{args.subscribers} subscribers connected; first error: "
            f"{failed[0] if failed else 'none (see the native readers above)'}"
        )
    client_pids = (os.getpid(),) if native is None else (os.getpid(), native.process.pid)
    catch_up(tally)
    connect_seconds = time.perf_counter() - started
    gevent.sleep(1.0)
    rss_after = rss_bytes(*args.server_pid)
    connections = [sockets(pid) for pid in args.server_pid]

    def publish_and_wait(count: int) -> list[float]:
        nonlocal seq
        latencies = []
        for _ in range(count):
            event = tally.expect(seq)
            t0 = time.perf_counter()
            publisher.publish(seq)
            if not event.wait(WAIT_SECONDS):
                raise RuntimeError(
                    f"message {seq} reached {tally.counts[seq]}/{args.subscribers} subscribers"
                )
            latencies.append(tally.done[seq] - t0)
            seq += 1
        return latencies

    publish_and_wait(args.warmup)
    paced_cpu = cpu_seconds(*args.server_pid)
    latencies = publish_and_wait(args.messages)
    paced_cpu = cpu_seconds(*args.server_pid) - paced_cpu

    first = seq
    events = [tally.expect(first + i) for i in range(args.burst)]
    server_cpu, client_cpu = cpu_seconds(*args.server_pid), cpu_seconds(*client_pids)
    t0 = time.perf_counter()
    for i in range(args.burst):
        if i >= args.window and not events[i - args.window].wait(WAIT_SECONDS):
            raise RuntimeError(f"burst message {first + i - args.window} was not delivered")
        publisher.publish(first + i)
    if not events[-1].wait(WAIT_SECONDS) or not all(e.wait(WAIT_SECONDS) for e in events):
        raise RuntimeError("burst messages were not all delivered")
    elapsed = max(tally.done[first + i] for i in range(args.burst)) - t0
    server_cpu = cpu_seconds(*args.server_pid) - server_cpu
    client_cpu = cpu_seconds(*client_pids) - client_cpu
    seq += args.burst

    disconnected = tally.closed
    for greenlet in greenlets:
        greenlet.kill(block=False)
    if native is not None:
        native.close()
    return {
        "subscribers": args.subscribers,
        "connect_seconds": round(connect_seconds, 3),
        "rss_before": rss_before,
        "rss_after": rss_after,
        "bytes_per_subscriber": round((rss_after - rss_before) / args.subscribers),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "deliveries_per_second": round(args.subscribers * args.burst / elapsed),
        "server_cpu_share": round(server_cpu / elapsed, 2),
        "server_us_per_delivery": round(server_cpu * 1e6 / (args.subscribers * args.burst), 1),
        "paced_us_per_delivery": round(paced_cpu * 1e6 / (args.subscribers * args.messages), 1),
        "client_cpu_share": round(client_cpu / elapsed, 2),
        "messages": args.messages,
        "burst": args.burst,
        "disconnected": disconnected,
        "readers": args.readers,
        "sockets_per_process": connections,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--server-pid", type=int, nargs="+", required=True, help="every serving process"
    )
    parser.add_argument("--subscribe-path", required=True)
    parser.add_argument("--publish-path", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--token", default="", help="publisher JWT")
    parser.add_argument("--subscriber-token", default="")
    parser.add_argument("-n", "--subscribers", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument(
        "--readers",
        choices=("gevent", "native"),
        default="gevent",
        help="subscribers as greenlets here, or read by readers.c in a process of its own",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    json.dump(run(parse_args(sys.argv[1:])), sys.stdout)
    sys.stdout.write("\n")
