"""Fuzz the alerts API of a real hub (the shared hub process): random silences, notes and
query parameters never cause a 5xx."""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
KEYS = ["matchers", "name", "value", "isRegex", "isEqual", "startsAt", "endsAt", "createdBy",
        "comment", "id", "by", "note"]  # fmt: skip
TIMES = st.sampled_from(
    ["2030-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "soon", ""]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TIMES
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=6),
    max_leaves=20,
)  # fmt: skip


def _check(r: httpx.Response) -> None:
    assert r.status_code < 500, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"


@SETTINGS
@given(
    path=st.sampled_from(
        ["/api/v2/silences", "/api/v1/alerts/x/acknowledge", "/api/v1/alerts/x/resolve"]
    ),
    document=json_values,
)
def test_random_json_never_causes_a_5xx(client: httpx.Client, path: str, document: object) -> None:
    body = json.dumps(document)
    _check(client.post(path, content=body, headers={"Content-Type": "application/json"}))


@SETTINGS
@given(
    path=st.sampled_from(
        ["/api/v1/alerts", "/api/v1/rules", "/api/v2/silences", "/api/v1/alerts/%00",
         "/api/v2/silence/x"]
    ),
    params=st.dictionaries(
        st.sampled_from(["state", "label", "limit", "type", "x"]),
        st.text(max_size=12) | st.sampled_from(["firing", "a=b", "=", "0", "-1", "alert"]),
        max_size=3,
    ),
)  # fmt: skip
def test_random_parameters_never_cause_a_5xx(
    client: httpx.Client, path: str, params: dict[str, str]
) -> None:
    _check(client.get(path, params=params))


EXTREME_TIMES = TIMES | st.sampled_from(
    ["0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2262-04-11T23:47:17Z",
     "2030-01-01T00:00:00.123456789+14:00", "2030-02-30T00:00:00Z"]
)  # fmt: skip


@SETTINGS
@given(
    starts=EXTREME_TIMES,
    ends=EXTREME_TIMES,
    name=st.text(max_size=8),
    value=st.text(max_size=8),
    is_regex=st.booleans(),
    is_equal=st.booleans(),
)
def test_well_formed_silences_with_any_times_never_cause_a_5xx(
    client: httpx.Client, starts: str, ends: str, name: str, value: str, is_regex: bool,
    is_equal: bool,
) -> None:  # fmt: skip
    body = {
        "matchers": [{"name": name, "value": value, "isRegex": is_regex, "isEqual": is_equal}],
        "startsAt": starts, "endsAt": ends, "createdBy": "fuzz", "comment": "fuzz",
    }  # fmt: skip
    r = client.post("/api/v2/silences", json=body)
    _check(r)
    if r.status_code == 200:
        _check(client.get("/api/v2/silences"))
        _check(client.delete(f"/api/v2/silence/{r.json()['silenceID']}"))
