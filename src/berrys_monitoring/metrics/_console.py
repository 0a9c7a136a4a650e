"""The CONSOLE backend: one readable line per recording, through stdlib logging."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from berrys_monitoring._internal import is_strict, report_internal_error
from berrys_monitoring.metrics._names import COUNTER, GAUGE, HISTOGRAM, TIMER, metric_name

__all__ = ["ConsoleBackend"]

LOGGER_NAME = "berrys_monitoring.metrics"


class ConsoleBackend:
    """Development output: ``metric counter app_api_requests_total +1 endpoint=/users``."""

    name = "console"

    def __init__(
        self,
        prefix: str = "",
        default_tags: Mapping[str, object] | None = None,
        *,
        level: int = logging.INFO,
        logger: logging.Logger | None = None,
    ) -> None:
        self.prefix = prefix
        self.default_tags = dict(default_tags or {})
        self.level = level
        self.logger = logger or logging.getLogger(LOGGER_NAME)
        self._names: dict[tuple[str, str], str] = {}
        self._handler: logging.Handler | None = None
        if self.logger.level == logging.NOTSET:
            self.logger.setLevel(level)
        if not self.logger.hasHandlers():
            # Nothing configured logging yet: without a handler these development lines
            # would vanish (stdlib's last resort shows warnings only).
            self._handler = logging.StreamHandler()
            self._handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
            self.logger.addHandler(self._handler)

    def _line(self, kind: str, name: str, tags: Mapping[str, object] | None, text: str) -> None:
        try:
            if not self.logger.isEnabledFor(self.level):
                return
            full = self._names.get((kind, name))
            if full is None:
                full = metric_name(self.prefix, name, kind)
                if kind == COUNTER:
                    full += "_total"
                self._names[(kind, name)] = full
            merged = {**self.default_tags, **tags} if tags else self.default_tags
            labels = " ".join(f"{k}={v}" for k, v in merged.items())
            self.logger.log(self.level, "metric %s %s %s %s", kind, full, text, labels)
        except Exception as exc:
            report_internal_error("metrics", exc, "cannot log a console metric")
            if is_strict():
                raise

    def increment(self, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        self._line(COUNTER, name, tags, f"+{value}")

    def gauge(self, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        self._line(GAUGE, name, tags, f"={value}")

    def observe(self, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        self._line(HISTOGRAM, name, tags, f"observe {value}")

    def timing(self, name: str, tags: Mapping[str, object] | None, seconds: float) -> None:
        self._line(TIMER, name, tags, f"{seconds:.6f}s")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self._handler is not None:
            self.logger.removeHandler(self._handler)
            self._handler = None
