"""The alerts API's shapes and its answers to bad input (4xx with a clear message, never
a 5xx), on a hub whose rules run on its own PromQL engine."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.support.servers import uvicorn_in_thread, wait_for

from berrys_monitoring.hub import HubConfig, create_app

RULES = {
    "groups": [
        {
            "name": "always",
            "interval": "1s",
            "rules": [
                {"alert": "Always", "expr": "vector(3)", "labels": {"severity": "info"},
                 "annotations": {"summary": "value {{ $value }}"}},
                {"record": "always:three", "expr": "vector(3)"},
            ],
        },
        {
            "name": "limited",
            "interval": "1s",
            "limit": 1,
            "rules": [{"alert": "TooMany", "expr": 'label_replace(vector(1), "a", "1", "", "") '
                                                   'or label_replace(vector(1), "a", "2", "", "")'}],
        },
    ]
}  # fmt: skip


@contextlib.contextmanager
def _hub(tmp_path: Path, **settings: Any) -> Iterator[httpx.Client]:
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(RULES))
    config = HubConfig(
        data_dir=tmp_path / "hub", grpc_port=0, scrape_interval=0, rule_files=[str(rules)],
        **settings,
    )  # fmt: skip
    with uvicorn_in_thread(create_app(config), log_config=None) as port:
        headers = {"Authorization": f"Bearer {settings['token']}"} if "token" in settings else {}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as c:
            yield c


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with _hub(tmp_path_factory.mktemp("api")) as c:
        yield c


def test_rules_in_prometheus_shape(client: httpx.Client) -> None:
    def evaluated() -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = client.get("/api/v1/rules").json()["data"]["groups"]
        return groups if groups[1]["rules"][0]["health"] == "err" else []

    always, limited = wait_for(evaluated, timeout=20, what="an evaluation")
    alert, record = always["rules"]
    assert alert["type"] == "alerting" and alert["state"] == "firing" and alert["health"] == "ok"
    assert alert["alerts"][0]["value"] == "3e+00"
    assert alert["alerts"][0]["annotations"] == {"summary": "value 3"}
    assert record["type"] == "recording" and record["query"] == "vector(3)"
    assert always["interval"] == 1.0 and always["lastEvaluation"] != "0001-01-01T00:00:00Z"
    assert limited["rules"][0]["lastError"] == "exceeded limit of 1 with 2 alerts"
    only = client.get("/api/v1/rules", params={"type": "record"}).json()["data"]["groups"]
    assert [r["type"] for g in only for r in g["rules"]] == ["recording"]
    value = client.get("/api/v1/query", params={"query": "always:three"}).json()
    assert value["data"]["result"][0]["value"][1] == "3"


def test_alerts_list_filters_and_contract_fields(client: httpx.Client) -> None:
    wait_for(lambda: client.get("/api/v1/alerts", params={"state": "firing"}).json()["data"][
        "alerts"], timeout=20, what="the rule's alert")  # fmt: skip
    [a] = client.get(
        "/api/v1/alerts", params={"label": ["alertname=Always", "severity=info"]}
    ).json()["data"]["alerts"]
    assert set(a) >= {
        "labels", "annotations", "state", "activeAt", "value", "id", "fingerprint", "source",
        "startsAt", "endsAt", "acknowledged", "acknowledgedBy", "silenced",
    }  # fmt: skip
    assert a["source"] == "rule" and a["endsAt"] is None and a["state"] == "firing"
    assert client.get("/api/v1/alerts", params={"label": "alertname=Nope"}).json()["data"] == {
        "alerts": []
    }


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "message"),
    [
        ("get", "/api/v1/alerts", {"params": {"state": "sleeping"}}, 400, "state"),
        ("get", "/api/v1/alerts", {"params": {"label": "novalue"}}, 400, "name=value"),
        ("get", "/api/v1/alerts", {"params": {"limit": 0}}, 400, "limit"),
        ("get", "/api/v1/rules", {"params": {"type": "x"}}, 400, "type"),
        ("post", "/api/v2/silences", {"content": b"{"}, 400, "not valid JSON"),
        ("post", "/api/v2/silences", {"json": []}, 400, "JSON object"),
        ("post", "/api/v2/silences", {"json": {"matchers": []}}, 400, "non-empty"),
        (
            "post",
            "/api/v2/silences",
            {"json": {"matchers": [{"name": "a", "value": "", "isRegex": False}]}},
            400,
            "must not match the empty string",
        ),
        (
            "post",
            "/api/v2/silences",
            {"json": {"matchers": [{"name": "a", "value": "(", "isRegex": True}]}},
            400,
            "invalid regex",
        ),
        (
            "post",
            "/api/v2/silences",
            {
                "json": {
                    "matchers": [{"name": "a", "value": "b", "isRegex": False}],
                    "startsAt": "now",
                }
            },
            400,
            "RFC 3339",
        ),
        (
            "post",
            "/api/v2/silences",
            {"json": {"matchers": [{"name": "a", "value": "b", "isRegex": "yes"}]}},
            400,
            "isRegex must be true or false",
        ),
        ("post", "/api/v2/silences", {"json": {"id": "nope"}}, 404, "no silence"),
        ("get", "/api/v2/silence/nope", {}, 404, "no silence nope"),
        ("delete", "/api/v2/silence/nope", {}, 404, "no silence nope"),
        ("post", "/api/v1/alerts/nope/acknowledge", {"json": {"by": "a"}}, 404, "no alert"),
        ("post", "/api/v1/alerts/x/acknowledge", {"json": {"by": 1}}, 400, "by"),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    client: httpx.Client, method: str, path: str, kwargs: dict[str, Any], status: int,
    message: str,
) -> None:  # fmt: skip
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == status and message in r.json()["error"], r.text


def test_a_silence_is_updated_in_place_and_expired(client: httpx.Client) -> None:
    now = dt.datetime.now(dt.timezone.utc)

    def iso(d: dt.timedelta) -> str:
        return (now + d).isoformat().replace("+00:00", "Z")

    body = {"matchers": [{"name": "alertname", "value": "Always", "isRegex": False}],
            "startsAt": iso(dt.timedelta()), "endsAt": iso(dt.timedelta(hours=1)),
            "createdBy": "ana", "comment": "quiet"}  # fmt: skip
    sid = client.post("/api/v2/silences", json=body).json()["silenceID"]
    wait_for(lambda: client.get("/api/v1/alerts", params={"label": "alertname=Always"}).json()[
        "data"]["alerts"][0]["silenced"], timeout=10, what="the silence to apply")  # fmt: skip
    updated = client.post("/api/v2/silences", json={**body, "id": sid, "comment": "longer"})
    assert updated.json()["silenceID"] == sid
    assert client.get(f"/api/v2/silence/{sid}").json()["comment"] == "longer"
    assert client.delete(f"/api/v2/silence/{sid}").status_code == 200
    assert client.get(f"/api/v2/silence/{sid}").json()["status"]["state"] == "expired"
    r = client.post("/api/v2/silences", json={**body, "id": sid})
    assert r.status_code == 400 and "expired" in r.json()["error"]
    [a] = client.get("/api/v1/alerts", params={"label": "alertname=Always"}).json()["data"][
        "alerts"
    ]
    assert a["silenced"] is False


def test_a_silence_until_the_end_of_time_is_kept(client: httpx.Client) -> None:
    body = {"matchers": [{"name": "alertname", "value": "Never", "isRegex": False}],
            "startsAt": "0001-01-01T00:00:00Z", "endsAt": "9999-12-31T23:59:59Z",
            "createdBy": "ana", "comment": "for good"}  # fmt: skip
    r = client.post("/api/v2/silences", json=body)
    assert r.status_code == 200, r.text
    silence = client.get(f"/api/v2/silence/{r.json()['silenceID']}").json()
    assert silence["status"]["state"] == "active" and silence["endsAt"].startswith("2262-")


def test_the_alerts_api_needs_the_token(tmp_path: Path) -> None:
    with _hub(tmp_path, token="s3cret") as c:
        for path in ("/api/v1/alerts", "/api/v1/rules", "/api/v2/silences"):
            assert c.get(path).status_code == 200
            assert httpx.get(str(c.base_url) + path).status_code == 401
        assert httpx.post(str(c.base_url) + "/-/reload").status_code == 401
