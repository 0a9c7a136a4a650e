"""Log files (rotation, removal, replacement) and writes that fail never reach the caller."""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
from pathlib import Path

import pytest
from tests.logging.conftest import Lines

from berrys_monitoring import internal_error_counts
from berrys_monitoring.logging import SafeFileHandler, configure_logging, get_logger


def _read(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_log_file_gets_json_lines_even_with_a_human_console(tmp_path: Path, lines: Lines) -> None:
    path = tmp_path / "app.log"
    configure_logging(stream=lines, json_format=False, log_file=path, adopt_servers=False)
    get_logger("f").info("to both", extra={"n": 1})
    (rec,) = _read(path)
    assert rec["message"] == "to both" and rec["n"] == 1
    assert "to both" in lines.getvalue() and not lines.getvalue().startswith("{")


def test_log_file_rotates_by_size_and_keeps_backup_count_files(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    configure_logging(
        log_to_console=False, log_file=path, max_bytes=2_000, backup_count=2, adopt_servers=False
    )
    log = get_logger("rot")
    for i in range(200):
        log.info("line", extra={"seq": i})
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["app.log", "app.log.1", "app.log.2"]
    for name in files:
        assert (tmp_path / name).stat().st_size <= 2_000
    # oldest to newest, the retained lines are the most recent ones, in order
    kept = [
        r["seq"] for name in ("app.log.2", "app.log.1", "app.log") for r in _read(tmp_path / name)
    ]
    assert kept == list(range(200 - len(kept), 200))


def test_max_bytes_zero_never_rotates(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    configure_logging(log_to_console=False, log_file=path, max_bytes=0, adopt_servers=False)
    for i in range(300):
        get_logger("rot").info("line", extra={"seq": i})
    assert [p.name for p in tmp_path.iterdir()] == ["app.log"]
    assert len(_read(path)) == 300


def test_a_log_file_removed_mid_run_is_recreated(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    configure_logging(log_to_console=False, log_file=path, adopt_servers=False)
    _file_handler().check_interval = 0  # check the path before every line
    log = get_logger("gone")
    log.info("before")
    path.unlink()
    log.info("after 1")  # must not raise
    log.info("after 2")
    assert [r["message"] for r in _read(path)] == ["after 1", "after 2"]
    assert internal_error_counts().get("logging", 0) == 0


def test_a_log_file_renamed_by_logrotate_is_reopened(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    configure_logging(log_to_console=False, log_file=path, adopt_servers=False)
    _file_handler().check_interval = 0
    log = get_logger("rotate")
    log.info("old")
    path.rename(tmp_path / "app.log.0")
    log.info("new")
    assert [r["message"] for r in _read(tmp_path / "app.log.0")] == ["old"]
    assert [r["message"] for r in _read(path)] == ["new"]


def _file_handler() -> SafeFileHandler:
    return next(h for h in logging.getLogger().handlers if isinstance(h, SafeFileHandler))


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_path_is_checked_once_per_interval_not_per_line(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    clock = _Clock()
    handler = SafeFileHandler(path, clock=clock)
    assert handler.check_interval == 1.0
    record = logging.LogRecord("x", logging.INFO, "", 0, "line %s", ("a",), None)
    handler.emit(record)
    path.rename(tmp_path / "app.log.1")
    clock.now += 0.5
    # Within the interval the open file keeps the lines (what logrotate expects of a
    # process until it reopens); once the interval passed, the new path is used.
    handler.emit(logging.LogRecord("x", logging.INFO, "", 0, "line %s", ("b",), None))
    clock.now += 0.6
    handler.emit(logging.LogRecord("x", logging.INFO, "", 0, "line %s", ("c",), None))
    handler.close()
    assert (tmp_path / "app.log.1").read_text().splitlines() == ["line a", "line b"]
    assert path.read_text().splitlines() == ["line c"]


def test_each_line_is_in_the_file_when_the_call_returns(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    configure_logging(log_to_console=False, log_file=path, adopt_servers=False)
    log = get_logger("prompt")
    for i in range(3):
        log.info("line", extra={"i": i})
        # Read through another descriptor, nothing flushed or closed in between.
        assert [r["i"] for r in _read(path)] == list(range(i + 1))


def test_a_full_disk_is_counted_and_reported_once_never_raised(
    capfd: pytest.CaptureFixture[str],
) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full is needed to simulate a full disk")
    configure_logging(log_to_console=False, log_file="/dev/full", adopt_servers=False)
    log = get_logger("full")
    for i in range(5):
        log.info("cannot be written", extra={"i": i})
    assert internal_error_counts()["logging"] == 5
    err = capfd.readouterr().err
    assert err.count("cannot write to log file /dev/full") == 1
    assert "No space left on device" in err


def test_the_warning_is_written_once_with_a_console_beside_the_failing_file(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full is needed to simulate a full disk")
    configure_logging(stream=sys.stderr, log_file="/dev/full", adopt_servers=False)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [h for h in root.handlers if h in _ours()])
    get_logger("full").info("a line")
    assert capfd.readouterr().err.count("cannot write to log file /dev/full") == 1


def test_a_closed_stream_is_counted_and_never_raised(lines: Lines) -> None:
    configure_logging(stream=lines, adopt_servers=False)
    lines.close()
    log = get_logger("closed")
    log.info("one")
    log.warning("two")
    assert internal_error_counts()["logging"] == 2


class _BrokenPipe(Lines):
    def write(self, s: str) -> int:
        raise OSError(errno.EPIPE, "Broken pipe")


class _Exploding(Lines):
    def write(self, s: str) -> int:
        raise RuntimeError("stream implementation bug")


@pytest.mark.parametrize("stream_type", [_BrokenPipe, _Exploding])
def test_a_stream_whose_write_raises_never_breaks_the_caller_and_reports_once_to_stderr(
    stream_type: type[Lines], capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging(stream=stream_type(), adopt_servers=False)
    # Only our (broken) handler on the root (pytest's capture handler removed): the
    # report must still reach stderr once, without recursing through the broken handler.
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [h for h in root.handlers if h in _ours()])
    for _ in range(10):
        get_logger("broken").error("lost line")
    err = capfd.readouterr().err
    assert err.count("cannot write a log line to the stream") == 1
    assert internal_error_counts()["logging"] == 10


def _ours() -> list[logging.Handler]:
    from berrys_monitoring.logging import _config

    return list(_config._installed)


def test_file_handler_rejects_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        SafeFileHandler(tmp_path / "x.log", max_bytes=-5)
    with pytest.raises(ValueError, match="cannot open log file"):
        SafeFileHandler(tmp_path / "missing-dir" / "x.log")


def test_file_handler_works_standalone_with_any_formatter(tmp_path: Path) -> None:
    handler = SafeFileHandler(tmp_path / "plain.log")
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    lg = logging.getLogger("standalone")
    lg.addHandler(handler)
    lg.propagate = False
    try:
        lg.warning("plain line")
    finally:
        lg.removeHandler(handler)
        handler.close()
        lg.propagate = True
    assert (tmp_path / "plain.log").read_text() == "WARNING plain line\n"
