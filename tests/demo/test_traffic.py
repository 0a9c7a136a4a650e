"""The traffic mix is read from a real FastAPI app's OpenAPI document."""

from __future__ import annotations

import random

from fastapi import FastAPI

from berrys_monitoring.demo._traffic import classify, fill, routes_from_openapi


def test_routes_come_from_get_operations_without_probes_and_docs():
    app = FastAPI()

    @app.get("/users/{user_id}")
    def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.get("/slow")
    def slow(ms: int = 250) -> None: ...

    @app.get("/error")
    def error() -> None: ...

    @app.post("/users")
    def create() -> None: ...

    @app.get("/health")
    def health() -> None: ...

    @app.get("/health/ready")
    def ready() -> None: ...

    routes = {r.template: r for r in routes_from_openapi(app.openapi())}
    assert {t: r.kind for t, r in routes.items()} == {
        "/users/{user_id}": "fast",
        "/slow": "slow",
        "/error": "failing",
    }
    assert routes["/slow"].delay_param == "ms"
    assert routes["/users/{user_id}"].delay_param is None


def test_path_parameters_are_filled_with_ids_some_of_which_do_not_exist():
    rng = random.Random(1)
    filled = {fill("/users/{user_id}/orders/{order_id}", rng) for _ in range(200)}
    assert all("{" not in p for p in filled)
    assert any("999999" in p for p in filled)
    assert any(p == "/users/1/orders/2" for p in filled)


def test_classify_names_slow_and_failing_routes():
    assert classify("/api/slow-report") == "slow"
    assert classify("/orders/{id}/fail") == "failing"
    assert classify("/users/{id}") == "fast"


def test_driver_sends_the_mix_to_a_real_server_and_counts_outcomes():
    from tests.support.servers import uvicorn_in_thread, wait_for

    from berrys_monitoring.demo._traffic import TrafficDriver

    app = FastAPI()
    seen: list[str] = []

    @app.get("/users/{user_id}")
    def user(user_id: int) -> dict[str, int]:
        seen.append(f"/users/{user_id}")
        return {"id": user_id}

    @app.get("/slow")
    def slow(ms: int = 0) -> dict[str, int]:
        seen.append(f"/slow?ms={ms}")
        return {"ms": ms}  # answers at once: the test is about the mix, not the delay

    with uvicorn_in_thread(app, log_level="error") as port:
        driver = TrafficDriver(f"http://127.0.0.1:{port}", rate=40.0, seed=7)
        try:
            driver.start()
            wait_for(
                lambda: (
                    {"200", "404"} <= set(driver.snapshot()[1])
                    and any(p.startswith("/slow?ms=") for p in seen)
                ),
                timeout=30,
                what="200s, 404s and a slow request",
            )
        finally:
            driver.stop()
    sent, by_status = driver.snapshot()
    assert sent == sum(by_status.values())
    assert {r.template for r in driver.routes} == {"/users/{user_id}", "/slow", "/no-such-page"}
    slow_ms = [int(p.split("=")[1]) for p in seen if p.startswith("/slow")]
    assert all(100 <= ms <= 800 for ms in slow_ms)
