"""The demo's alert through the library, for a hub that does not evaluate rule files.

The demo watches the gateway's error ratio (the same number its summary shows, from the
gateway's ``/metrics``) and, when it stays above the threshold for ``for_s`` seconds, raises
the alert with :class:`~berrys_monitoring.alerts.AlertManager`, which pushes it to the hub
through :class:`~berrys_monitoring.alerts.AlertmanagerNotifier` (the hub takes Alertmanager
v2 pushes at ``/api/v2/alerts``). It is resolved when the ratio falls back below.
It is the same rule as the hub's ``rules.yml``, evaluated on the client side.
"""

from __future__ import annotations

from berrys_monitoring.alerts import AlertManager, AlertmanagerNotifier, AlertSeverity
from berrys_monitoring.demo._hub import ALERT_NAME, GATEWAY_JOB


class ErrorRatioWatch:
    """``ratio > threshold`` held for ``for_s`` seconds raises the alert; below, resolves it.

    Example::

        >>> watch = ErrorRatioWatch(None, threshold=0.1, for_s=5)
        >>> [watch.observe(r, t) for r, t in [(0.5, 0), (0.5, 4), (0.5, 6), (0.0, 7)]]
        ['pending', 'pending', 'firing', 'inactive']
    """

    def __init__(self, hub_url: str | None, *, threshold: float, for_s: float) -> None:
        self.threshold = threshold
        self.for_s = for_s
        notifiers = [AlertmanagerNotifier(hub_url, timeout=3.0)] if hub_url else []
        self.manager = AlertManager(None, notifiers, max_attempts=3, backoff_max=2.0)
        self._since: float | None = None
        self._alert_id: str | None = None

    def observe(self, ratio: float | None, now: float) -> str:
        """Feed one reading; returns the state: ``inactive``, ``pending`` or ``firing``."""
        if ratio is None or not ratio > self.threshold:
            self._since = None
            if self._alert_id is not None:
                self.manager.resolve(self._alert_id, f"error ratio back under {self.threshold:.0%}")
                self._alert_id = None
            return "inactive"
        if self._since is None:
            self._since = now
        if now - self._since < self.for_s:
            return "pending"
        self._alert_id = self.manager.trigger(
            ALERT_NAME,
            f"More than {self.threshold:.0%} of the gateway's requests failed (now {ratio:.1%})",
            AlertSeverity.WARNING,
            {"service": GATEWAY_JOB},
            rule="gateway error ratio",
            value=ratio,
        )
        return "firing"

    def close(self) -> None:
        """Deliver what is queued (a few seconds at most), then stop the delivery thread."""
        self.manager.shutdown(timeout=5.0)
