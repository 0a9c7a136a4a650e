"""The alerts API (Prometheus' and Alertmanager's shapes where they exist):
``/api/v1/alerts`` (every source: rules, the library, Alertmanager pushes),
``/api/v1/alerts/{id}`` with its history, acknowledge and resolve by hand with a note,
``/api/v1/rules``, ``/api/v2/silences``, ``/api/v2/silence/{id}`` and ``/-/reload``."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal, cast

import anyio
import orjson
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from berrys_monitoring.alerts._payloads import ZERO_TIME
from berrys_monitoring.hub._time import format_rfc3339_ns
from berrys_monitoring.hub.config import HubConfig
from berrys_monitoring.hub.rules._evaluator import NEVER_NS, format_value
from berrys_monitoring.hub.rules._rulefile import AlertingRule
from berrys_monitoring.hub.rules._service import ReloadError, RulesService
from berrys_monitoring.hub.rules._silences import (
    SilenceError,
    silence_from_api,
    silence_to_api,
)
from berrys_monitoring.hub.store import AlertQuery, Store, StoreBusyError
from berrys_monitoring.hub.store._alerting import AlertEventRow

__all__ = ["install_rules"]


def _ts(ns: int | None) -> str:
    return format_rfc3339_ns(ns) if ns else ZERO_TIME


def _ok(data: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps({"status": "success", "data": data}), status, media_type="application/json"
    )


def _json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status, media_type="application/json")


class AlertsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["pending", "firing", "resolved"] | None = None
    label: list[str] = Field(default_factory=list, description="name=value, repeatable")
    limit: int = Field(100, ge=1, le=1000)

    @field_validator("label")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        for item in value:
            key, sep, _ = item.partition("=")
            if not sep or not key:
                raise ValueError(f"label {item!r} must be name=value")
        return value


class RulesParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["alert", "record"] | None = None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field("", max_length=200)
    note: str = Field("", max_length=10_000)


def _alert_json(a: dict[str, Any], muted: dict[str, str]) -> dict[str, Any]:
    fp = str(a["fingerprint"])
    ends = int(a["ends_ns"])
    return {
        "id": fp,
        "fingerprint": fp,
        "source": a["source"],
        "labels": a["labels"],
        "annotations": a["annotations"],
        "state": a["state"],
        "activeAt": _ts(a["active_ns"]),
        "value": format_value(a["value"]) if a["value"] is not None else None,
        "startsAt": _ts(a["starts_ns"]),
        "endsAt": None if ends >= NEVER_NS else _ts(ends),
        "generatorURL": a["generator_url"],
        "acknowledged": a["acknowledged_by"] is not None,
        "acknowledgedBy": a["acknowledged_by"],
        "acknowledgedAt": _ts(a["acknowledged_ns"]) if a["acknowledged_ns"] else None,
        "silenced": muted.get(fp) == "silenced",
        "inhibited": muted.get(fp) == "inhibited",
    }


def build_alerts_router(store: Store, rules: RulesService) -> APIRouter:
    router = APIRouter(tags=["alerts"])

    def muted(alerts: list[dict[str, Any]]) -> dict[str, str]:
        return rules.dispatcher.muted(alerts, rules.alerting, time.time_ns())

    @router.get(
        "/api/v1/alerts",
        summary="alerts of every source (rules, the library, pushes), newest first",
    )
    async def list_alerts(params: Annotated[AlertsParams, Query()]) -> Response:
        labels = tuple(tuple(item.split("=", 1)) for item in params.label)
        query = AlertQuery(state=params.state, labels=labels, limit=params.limit)  # type: ignore[arg-type]

        def load() -> list[dict[str, Any]]:
            alerts = [dict(a) for a in store.list_alerts(query)]
            why = muted(alerts)
            return [_alert_json(a, why) for a in alerts]

        return _ok({"alerts": await anyio.to_thread.run_sync(load)})

    def one(alert_id: str) -> dict[str, Any]:
        a = store.get_alert(alert_id)
        if a is None:
            raise HTTPException(404, f"no alert {alert_id}")
        alert = dict(a)
        out = _alert_json(alert, muted([alert]))
        out["history"] = [
            {"time": _ts(h["time_ns"]), "event": h["event"], "by": h["by"], "note": h["note"]}
            for h in cast("list[dict[str, Any]]", alert["history"])
        ]
        if not out["history"]:  # pushed alerts: their lifecycle is their start and end
            out["history"] = [{"time": out["startsAt"], "event": "firing", "by": "", "note": ""}]
        return out

    @router.get("/api/v1/alerts/{alert_id}", summary="one alert with its history")
    async def get_alert(alert_id: str) -> Response:
        return _ok(await anyio.to_thread.run_sync(one, alert_id))

    async def annotate(alert_id: str, body: NoteIn, event: str) -> Response:
        row = AlertEventRow(alert_id, time.time_ns(), event, body.by, body.note)

        def run() -> dict[str, Any]:
            try:
                found = store.annotate_alert(alert_id, row, resolve=event == "resolved").result(
                    timeout=60
                )
            except StoreBusyError as exc:
                raise HTTPException(503, f"the hub is busy ({exc}); retry later") from None
            if not found:
                raise HTTPException(404, f"no alert {alert_id}")
            rules.dispatcher.wake()
            return one(alert_id)

        return _ok(await anyio.to_thread.run_sync(run))

    @router.post("/api/v1/alerts/{alert_id}/acknowledge", summary="acknowledge, with a note")
    async def acknowledge(alert_id: str, body: NoteIn) -> Response:
        return await annotate(alert_id, body, "acknowledged")

    @router.post("/api/v1/alerts/{alert_id}/resolve", summary="resolve by hand, with a note")
    async def resolve(alert_id: str, body: NoteIn) -> Response:
        return await annotate(alert_id, body, "resolved")

    @router.get("/api/v1/rules", summary="rule groups and their rules' state (Prometheus' shape)")
    async def list_rules(params: Annotated[RulesParams, Query()]) -> Response:
        ev = rules.evaluator
        groups = []
        for g in ev.groups:
            out_rules = []
            for r in g.rules:
                st = ev.status(g, r)
                common = {
                    "name": r.name,
                    "query": r.expr,
                    "labels": dict(r.labels),
                    "health": st.health,
                    "lastError": st.last_error,
                    "evaluationTime": st.evaluation_time_s,
                    "lastEvaluation": _ts(int(st.last_evaluation_s * 1e9)),
                }
                if isinstance(r, AlertingRule):
                    if params.type == "record":
                        continue
                    alerts = ev.alerts(r, g)
                    states = {a.state for a in alerts}
                    state = next((s for s in ("firing", "pending") if s in states), "inactive")
                    out_rules.append(
                        {
                            "state": state,
                            **common,
                            "duration": r.for_s,
                            "keepFiringFor": r.keep_firing_for_s,
                            "annotations": dict(r.annotations),
                            "alerts": [
                                {
                                    "labels": a.labels,
                                    "annotations": a.annotations,
                                    "state": a.state,
                                    "activeAt": _ts(a.active_ns),
                                    "value": format_value(a.value),
                                }
                                for a in alerts
                            ],
                            "type": "alerting",
                        }
                    )
                elif params.type != "alert":
                    out_rules.append({**common, "type": "recording"})
            gs = ev.status(g)
            groups.append(
                {
                    "name": g.name,
                    "file": g.file,
                    "interval": g.interval_s,
                    "limit": g.limit,
                    "rules": out_rules,
                    "evaluationTime": gs.evaluation_time_s,
                    "lastEvaluation": _ts(int(gs.last_evaluation_s * 1e9)),
                }
            )
        return _ok({"groups": groups})

    @router.get("/api/v2/silences", summary="Alertmanager v2: every silence")
    async def list_silences() -> Response:
        now = time.time_ns()
        silences = await anyio.to_thread.run_sync(store.silences)
        return _json([silence_to_api(s, now) for s in silences])

    def find_silence(silence_id: str) -> dict[str, Any] | None:
        return next((dict(s) for s in store.silences() if s["id"] == silence_id), None)

    @router.post("/api/v2/silences", summary="Alertmanager v2: create or update a silence")
    async def post_silence(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, f"the body is not valid JSON: {exc}") from None
        existing = None
        if isinstance(body, dict) and body.get("id"):
            existing = await anyio.to_thread.run_sync(find_silence, str(body["id"]))
            if existing is None:
                raise HTTPException(404, f"no silence {body['id']}")
        try:
            silence = silence_from_api(body, existing=existing)
        except SilenceError as exc:
            raise HTTPException(400, str(exc)) from None
        await anyio.to_thread.run_sync(lambda: store.put_silence(silence).result(timeout=60))
        rules.dispatcher.wake()
        return _json({"silenceID": silence["id"]})

    @router.get("/api/v2/silence/{silence_id}", summary="Alertmanager v2: one silence")
    async def get_silence(silence_id: str) -> Response:
        silence = await anyio.to_thread.run_sync(find_silence, silence_id)
        if silence is None:
            raise HTTPException(404, f"no silence {silence_id}")
        return _json(silence_to_api(silence))

    @router.delete("/api/v2/silence/{silence_id}", summary="Alertmanager v2: expire a silence")
    async def expire_silence(silence_id: str) -> Response:
        silence = await anyio.to_thread.run_sync(find_silence, silence_id)
        if silence is None:
            raise HTTPException(404, f"no silence {silence_id}")
        now = time.time_ns()
        if silence["ends_ns"] > now:
            silence.update(ends_ns=max(now, silence["starts_ns"]), updated_ns=now)
            await anyio.to_thread.run_sync(lambda: store.put_silence(silence).result(timeout=60))
            rules.dispatcher.wake()
        return Response(status_code=200)

    @router.post(
        "/-/reload", tags=["hub"],
        summary="reload the rule files and the Alertmanager configuration (PUT too)",
    )  # fmt: skip
    async def reload() -> Response:
        try:
            groups = await anyio.to_thread.run_sync(rules.reload)
        except ReloadError as exc:
            raise HTTPException(400, f"reload failed, the running rules stay: {exc}") from None
        return _json({"status": "success", "groups": groups})

    # Prometheus takes PUT as well; one documented operation is enough
    router.add_api_route("/-/reload", reload, methods=["PUT"], include_in_schema=False)
    return router


def install_rules(
    app: FastAPI, config: HubConfig, store: Store
) -> Callable[[], Callable[[], None]]:
    """Build the rules side of ``app`` (raising at once for invalid rule files or routing)
    and include its API. Returns ``start``, to call in the lifespan, which returns ``stop``.
    """
    service = RulesService(config, store, lambda: getattr(app.state, "query_backend", None))
    app.state.rules = service
    app.include_router(build_alerts_router(store, service))

    def start() -> Callable[[], None]:
        service.start()
        previous: Any = None
        main = threading.current_thread() is threading.main_thread()
        if main and hasattr(signal, "SIGHUP"):

            def on_hup(signum: int, frame: object) -> None:
                threading.Thread(target=service.reload_logged, daemon=True).start()

            with contextlib.suppress(ValueError):
                previous = signal.signal(signal.SIGHUP, on_hup)

        def stop() -> None:
            if previous is not None:
                with contextlib.suppress(ValueError):
                    signal.signal(signal.SIGHUP, previous)
            service.stop()

        return stop

    return start
