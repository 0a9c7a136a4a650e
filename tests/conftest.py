"""Suite-wide fixtures: strict internal errors, fresh global state, real service URLs."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

# Internal bugs re-raise under test (operational failures are still swallowed); set before
# any subprocess starts so the servers the tests launch inherit it.
os.environ.setdefault("BERRYS_MONITORING_STRICT", "1")

from tests.support.servers import require_tcp

from berrys_monitoring import reset_internal_errors

POSTGRES_URL = os.environ.get(
    "BERRYS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
MYSQL_URL = os.environ.get("BERRYS_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("BERRYS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(autouse=True)
def _fresh_internal_errors():
    reset_internal_errors()
    yield


def _require_url(what: str, url: str, default_port: int, hint: str) -> str:
    parts = urlsplit(url)
    require_tcp(what, parts.hostname or "127.0.0.1", parts.port or default_port, hint)
    return url


@pytest.fixture
def postgres_url() -> str:
    """A reachable PostgreSQL URL (override with BERRYS_TEST_POSTGRES_URL)."""
    return _require_url("PostgreSQL", POSTGRES_URL, 5432, "apt-get install postgresql; start it")


@pytest.fixture
def mysql_url() -> str:
    """A reachable MariaDB/MySQL URL (override with BERRYS_TEST_MYSQL_URL)."""
    return _require_url("MariaDB", MYSQL_URL, 3306, "apt-get install mariadb-server; start it")


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis URL (override with BERRYS_TEST_REDIS_URL)."""
    return _require_url("Redis", REDIS_URL, 6379, "apt-get install redis-server; start it")
