"""LogNotifier writes real log records; the default manager flushes at interpreter exit."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest

from berrys_monitoring.alerts import AlertManager, LogNotifier


def test_log_level_follows_severity_and_fields_go_in_extra(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="my.alerts")
    m = AlertManager(notifiers=[LogNotifier(logger="my.alerts")])
    info_id = m.trigger("Cache cold", "hit ratio 12%", "info", {"cache": "s"})
    crit_id = m.trigger("DB down", "refused", "critical", {"db": "orders"})
    m.resolve(crit_id, "failover done")
    assert m.flush(5)
    records = [r for r in caplog.records if r.name == "my.alerts"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.INFO, "alert triggered: [INFO] Cache cold: hit ratio 12%"),
        (logging.CRITICAL, "alert triggered: [CRITICAL] DB down: refused"),
        (logging.INFO, "alert resolved: [CRITICAL] DB down: failover done"),
    ]
    assert records[0].alert_id == info_id  # type: ignore[attr-defined]
    assert records[1].alert_context == {"db": "orders"}  # type: ignore[attr-defined]
    assert records[2].alert_state == "resolved"  # type: ignore[attr-defined]
    m.shutdown(1)


def test_queued_notifications_are_delivered_at_interpreter_exit(http_receiver) -> None:
    rec = http_receiver()
    code = f"""
        from berrys_monitoring.alerts import configure_alerts, trigger_alert, WebhookNotifier
        configure_alerts(notifiers=[WebhookNotifier({rec.url + "/exit"!r})])
        trigger_alert("Last words", "the process is exiting", "error", {{}})
        # no flush(): the atexit hook must deliver it
        """
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, timeout=60)
    [body] = rec.bodies()
    assert body["alerts"][0]["labels"]["alertname"] == "Last words"
