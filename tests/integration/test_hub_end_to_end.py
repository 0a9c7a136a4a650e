"""The example services, started with BERRYS_MONITORING_HUB_URL and nothing else about the
hub, register with a real hub, are scraped and probed by it, and send it their spans and
logs: one trace id joins both services' spans and log lines in the hub's answers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.hub.conftest import start_hub
from tests.integration._services import gateway_service, users_service
from tests.support.servers import wait_for

pytestmark = pytest.mark.slow


def test_one_trace_id_joins_both_services_spans_and_logs_in_the_hub(tmp_path: Path) -> None:
    with start_hub(tmp_path / "hub", "--scrape-interval", "0.3s") as hub:
        env = {"BERRYS_MONITORING_HUB_URL": hub.url}
        # Neither is told its own address: each learns it from its first request.
        with users_service(env) as (users_base, _users):
            with gateway_service(users_base, env) as (gateway_base, _gateway):
                response = httpx.get(f"{gateway_base}/users/1", timeout=10)
                assert response.status_code == 200
                trace_id = response.headers["X-Trace-Id"]
                # Both registered themselves as scrape and probe targets.
                with hub.client() as client:
                    wait_for(
                        lambda: (
                            {t["job"] for t in client.get("/api/v1/targets").json()["targets"]}
                            >= {"api-gateway", "user-service"}
                        ),
                        what="both services registered with the hub",
                    )

                    def scraped_and_healthy(job: str) -> bool:
                        found = []
                        for name in ("up", "berrys_health_status"):
                            params = {"name": name, "label": f"job={job}"}
                            series = client.get("/api/v1/metrics/samples", params=params)
                            found += [s["samples"][-1][1] for s in series.json()["series"]]
                        return found == [1.0, 1.0]

                    for job in ("api-gateway", "user-service"):
                        wait_for(lambda j=job: scraped_and_healthy(j), what=f"{job} scraped")
        # Stopping the services flushed what they had queued.
        with hub.client() as client:

            def joined() -> dict[str, set[str]] | None:
                trace = client.get(f"/api/v1/traces/{trace_id}")
                logs = client.get("/api/v1/logs", params={"trace_id": trace_id})
                if trace.status_code != 200 or logs.status_code != 200:
                    return None
                found = {
                    "spans": {s["service"] for s in trace.json()["spans"]},
                    "logs": {r["service"] for r in logs.json()["logs"]},
                }
                wanted = {"api-gateway", "user-service"}
                return found if found["spans"] >= wanted and found["logs"] >= wanted else None

            found = wait_for(joined, timeout=20, what="both services' spans and logs")
            assert found["spans"] >= {"api-gateway", "user-service"}
