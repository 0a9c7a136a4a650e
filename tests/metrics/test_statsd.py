"""The STATSD backend, read back as exact datagrams from a real UDP socket on 127.0.0.1."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from berrys_monitoring import internal_error_counts
from berrys_monitoring._internal import event_counts
from berrys_monitoring.metrics import (
    MetricsBackend,
    configure_metrics,
    flush_metrics,
    gauge,
    histogram,
    increment_counter,
    record_timer,
)


@pytest.fixture
def udp() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock
    sock.close()


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def test_dogstatsd_lines_for_each_metric_type(udp: socket.socket) -> None:
    configure_metrics(
        MetricsBackend.STATSD,
        prefix="berrys_agents",
        default_tags={"env": "prod"},
        statsd_port=port_of(udp),
    )
    increment_counter("api_requests_total", {"endpoint": "/users", "method": "GET"})
    gauge("active_connections", 42, {"service": "api-gateway"})
    histogram("response_size_bytes", 1024)
    with record_timer("function_execution_time"):
        pass
    flush_metrics()
    lines = udp.recv(65536).decode().split("\n")
    assert lines[0] == "berrys_agents.api_requests_total:1|c|#env:prod,endpoint:/users,method:GET"
    assert lines[1] == "berrys_agents.active_connections:42|g|#env:prod,service:api-gateway"
    assert lines[2] == "berrys_agents.response_size_bytes:1024|h|#env:prod"
    name, rest = lines[3].split(":", 1)
    value, kind, tags = rest.split("|")
    assert name == "berrys_agents.function_execution_time"
    assert kind == "ms" and tags == "#env:prod"
    assert 0 <= float(value) < 5000
    assert len(lines) == 4


def test_separators_in_names_and_tags_cannot_break_the_protocol(udp: socket.socket) -> None:
    configure_metrics(MetricsBackend.STATSD, statsd_port=port_of(udp))
    increment_counter("a|b:c", {"k,x": "v#1|2", "flag": ""})
    flush_metrics()
    assert udp.recv(65536) == b"a_b_c:1|c|#k_x:v_1_2,flag"


def test_lines_are_packed_into_packets_under_the_size_limit(udp: socket.socket) -> None:
    configure_metrics(MetricsBackend.STATSD, statsd_port=port_of(udp), statsd_max_packet_size=200)
    for i in range(50):
        increment_counter("n", {"i": i})
    flush_metrics()
    received: list[str] = []
    packets = 0
    while len(received) < 50:
        data = udp.recv(65536)
        assert len(data) <= 200
        packets += 1
        received.extend(data.decode().split("\n"))
    assert received == [f"n:1|c|#i:{i}" for i in range(50)]
    assert packets >= 3


def test_buffer_is_flushed_by_the_interval_without_an_explicit_flush(udp: socket.socket) -> None:
    configure_metrics(MetricsBackend.STATSD, statsd_port=port_of(udp), statsd_flush_interval=0.05)
    increment_counter("ticks")
    assert udp.recv(65536) == b"ticks:1|c"


def test_sample_rate_is_written_and_applied(udp: socket.socket) -> None:
    configure_metrics(MetricsBackend.STATSD, statsd_port=port_of(udp), statsd_sample_rate=0.5)
    for _ in range(400):
        increment_counter("sampled")
    gauge("level", 3)
    flush_metrics()
    udp.settimeout(0.5)
    lines: list[str] = []
    try:
        while True:
            lines.extend(udp.recv(65536).decode().split("\n"))
    except TimeoutError:
        pass
    sampled = [ln for ln in lines if ln.startswith("sampled")]
    assert all(ln == "sampled:1|c|@0.5" for ln in sampled)
    assert 100 < len(sampled) < 300  # about half of 400; bounds 10 sigma wide
    assert "level:3|g" in lines  # gauges are never sampled


def test_unreachable_host_never_raises(udp: socket.socket) -> None:
    # A port where nothing listens: UDP sends succeed or fail silently; nothing reaches us.
    port = port_of(udp)
    udp.close()
    configure_metrics(MetricsBackend.STATSD, statsd_port=port)
    for _ in range(1000):
        increment_counter("lost", {"k": "v"})
    flush_metrics()


def test_unresolvable_host_never_raises_and_counts_the_failure() -> None:
    configure_metrics(
        MetricsBackend.STATSD, statsd_host="statsd.invalid", statsd_max_packet_size=64
    )
    for _ in range(100):
        increment_counter("lost_total", {"k": "v"})
    flush_metrics()
    assert internal_error_counts()["metrics"] >= 1
    assert event_counts()[("metrics", "statsd_packets_dropped")] >= 1


def test_buffer_survives_fork_and_child_sends_its_own_lines(udp: socket.socket) -> None:
    configure_metrics(MetricsBackend.STATSD, statsd_port=port_of(udp))
    increment_counter("parent")
    pid = os.fork()
    if pid == 0:  # child: the parent's buffered line must not be sent twice
        try:
            increment_counter("child")
            flush_metrics()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    flush_metrics()
    got = {udp.recv(65536), udp.recv(65536)}
    assert got == {b"child:1|c", b"parent:1|c"}


def test_unhashable_tag_values_are_sent_as_strings(udp: socket.socket) -> None:
    configure_metrics(MetricsBackend.STATSD, statsd_port=port_of(udp))
    increment_counter("odd", {"ids": [1, 2]})
    flush_metrics()
    assert udp.recv(65536) == b"odd:1|c|#ids:[1__2]"  # "," and " " are protocol characters


def test_buffered_lines_are_sent_at_interpreter_exit(udp: socket.socket) -> None:
    import subprocess
    import sys

    script = (
        "from berrys_monitoring.metrics import configure_metrics, increment_counter\n"
        f"configure_metrics('statsd', statsd_port={port_of(udp)}, statsd_flush_interval=3600)\n"
        "increment_counter('at_exit', {'k': 'v'})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert udp.recv(65536) == b"at_exit:1|c|#k:v"


def test_a_hanging_dns_lookup_does_not_hold_up_interpreter_exit() -> None:
    import subprocess
    import sys

    # Fault injection: this machine's resolver fails fast, so the script makes lookups of
    # one host name hang the way they do when a DNS server drops packets.
    script = (
        "import socket, time\n"
        "real = socket.getaddrinfo\n"
        "def hanging(host, *a, **kw):\n"
        "    numeric = len(a) > 4 and a[4] & socket.AI_NUMERICHOST  # never a DNS query\n"
        "    if host == 'statsd.hanging.test' and not numeric:\n"
        "        time.sleep(600)\n"
        "    return real(host, *a, **kw)\n"
        "socket.getaddrinfo = hanging\n"
        "from berrys_monitoring.metrics import configure_metrics, increment_counter\n"
        "configure_metrics('statsd', statsd_host='statsd.hanging.test',\n"
        "                  statsd_flush_interval=3600)\n"
        "increment_counter('lost', {'k': 'v'})\n"
        "print('recorded', flush=True)\n"
    )
    # Without a bound the exit hook would wait the full 600 s; 120 s leaves ample margin
    # for a loaded machine and still fails if the hook waits on the lookup.
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "recorded\n"


def test_agent_address_comes_from_the_datadog_environment_variables(
    udp: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DD_AGENT_HOST", "127.0.0.1")
    monkeypatch.setenv("DD_DOGSTATSD_PORT", str(port_of(udp)))
    configure_metrics(MetricsBackend.STATSD)
    increment_counter("from_env")
    flush_metrics()
    assert udp.recv(65536) == b"from_env:1|c"


def test_bad_port_in_the_environment_raises_at_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATSD_PORT", "eighty")
    with pytest.raises(ValueError, match="'eighty'"):
        configure_metrics(MetricsBackend.STATSD)
