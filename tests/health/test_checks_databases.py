"""Database checks against the real local PostgreSQL, MariaDB and SQLite, up and down;
passwords never appear in a result, a health+json document or a log line."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from berrys_monitoring.health import (
    HealthRegistry,
    HealthStatus,
    check_database_connection,
    check_mysql,
    check_postgres,
    check_sqlite,
)

SECRET = "Sup3rS3cretPassw0rd"


def test_postgres_up_passes_with_server_version(postgres_url: str) -> None:
    result = check_database_connection(postgres_url)()
    assert result.status is HealthStatus.HEALTHY, result.message
    assert result.message.startswith("PostgreSQL at ")
    assert int(result.details["server_version"].split(".")[0]) >= 10


def test_postgres_registered_reports_datastore_response_time(postgres_url: str) -> None:
    reg = HealthRegistry()
    reg.register("database")(check_database_connection(postgres_url))
    doc = reg.check_health().to_health_json()
    entry = doc["checks"]["database:responseTime"][0]
    assert doc["status"] == "pass"
    assert entry["componentType"] == "datastore" and entry["observedUnit"] == "ms"
    assert entry["observedValue"] > 0


def test_postgres_unreachable_fails_with_a_clear_message(refused_port: int) -> None:
    result = check_postgres(f"postgresql://postgres@127.0.0.1:{refused_port}/postgres")()
    assert result.status is HealthStatus.UNHEALTHY
    assert (
        f"PostgreSQL at postgresql://postgres@127.0.0.1:{refused_port}/postgres" in result.message
    )
    assert "is unreachable" in result.message and "refused" in result.message.lower()
    assert result.details["error"] == "OperationalError"


def test_postgres_unknown_database_fails_naming_it(postgres_url: str) -> None:
    url = postgres_url.rsplit("/", 1)[0] + "/no_such_database_xyz"
    result = check_postgres(url)()
    assert result.status is HealthStatus.UNHEALTHY
    assert "no_such_database_xyz" in result.message


@pytest.mark.parametrize("scheme", ["mysql", "mariadb", "mysql+pymysql"])
def test_mariadb_up_passes_for_mysql_and_mariadb_urls(mysql_url: str, scheme: str) -> None:
    url = scheme + "://" + mysql_url.split("://", 1)[1]
    result = check_database_connection(url)()
    assert result.status is HealthStatus.HEALTHY, result.message
    assert "MariaDB" in result.details["server_version"] or result.details["server_version"]


def test_mariadb_unreachable_fails_with_a_clear_message(refused_port: int) -> None:
    result = check_mysql(f"mariadb://root@127.0.0.1:{refused_port}/test")()
    assert result.status is HealthStatus.UNHEALTHY
    assert (
        f"MariaDB at mariadb://root@127.0.0.1:{refused_port}/test is unreachable" in result.message
    )
    assert "OperationalError" in result.message


def test_mariadb_wrong_password_fails_without_showing_it(mysql_url: str) -> None:
    url = mysql_url.replace("root@", f"root:{SECRET}@")
    result = check_mysql(url)()
    assert result.status is HealthStatus.UNHEALTHY
    assert "denied" in result.message.lower()
    assert SECRET not in json.dumps(result.to_dict())


def test_sqlite_file_passes_and_a_missing_file_fails_without_being_created(
    tmp_path: Path,
) -> None:
    db = tmp_path / "app.db"
    sqlite3.connect(db).close()
    assert check_sqlite(str(db))().is_healthy
    assert check_database_connection(f"sqlite:///{db}")().is_healthy
    missing = tmp_path / "missing.db"
    result = check_database_connection(f"sqlite:///{missing}")()
    assert result.status is HealthStatus.UNHEALTHY
    assert "unable to open database" in result.message
    assert not missing.exists()
    assert check_database_connection("sqlite:///:memory:")().is_healthy


@pytest.mark.parametrize(
    "make_url",
    [
        lambda port: f"postgresql://app:{SECRET}@127.0.0.1:{port}/app",
        lambda port: f"mysql://app:{SECRET}@127.0.0.1:{port}/app",
        lambda port: f"postgresql://app@127.0.0.1:{port}/app?password={SECRET}",
    ],
    ids=["postgres", "mysql", "postgres-query-param"],
)
def test_a_password_never_appears_in_results_documents_or_logs(
    make_url, refused_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = make_url(refused_port)
    check = check_database_connection(url)
    reg = HealthRegistry()
    reg.register("database")(check)
    report = reg.check_health()
    assert report.status is HealthStatus.UNHEALTHY
    result = report.checks["database"]
    assert "***" in result.message
    everything = "\n".join(
        [
            repr(check),
            repr(result),
            result.message,
            json.dumps(result.to_dict()),
            json.dumps(report.to_dict()),
            json.dumps(report.to_health_json()),
            report.output(),
            caplog.text,
        ]
    )
    assert SECRET not in everything
    assert any("health check database is unhealthy" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("oracle://scott:tiger@db/orcl", "unsupported database URL scheme 'oracle'"),
        ("localhost:5432", "unsupported database URL scheme"),
        ("sqlite://", "needs a path"),
    ],
)
def test_bad_database_urls_raise_at_configuration_time(url: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        check_database_connection(url)


def test_wrong_scheme_for_a_specific_check_raises() -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        check_postgres("mysql://root@127.0.0.1/test")
    with pytest.raises(ValueError, match="not a MySQL/MariaDB URL"):
        check_mysql("postgresql://x@127.0.0.1/x")


@pytest.mark.parametrize(
    ("module", "url", "extra"),
    [
        ("psycopg", "postgresql://x@127.0.0.1/x", "postgres"),
        ("pymysql", "mysql://x@127.0.0.1/x", "mysql"),
        ("redis", "redis://127.0.0.1:6379/0", "redis"),
    ],
)
def test_a_missing_driver_names_the_extra_to_install(module: str, url: str, extra: str) -> None:
    # A fresh interpreter where the driver cannot be imported (sys.modules entry None).
    factory = "check_redis_connection" if url.startswith("redis") else "check_database_connection"
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        f"from berrys_monitoring.health import {factory}\n"
        "try:\n"
        f"    {factory}({url!r})\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert f"pip install 'berrys-monitoring[{extra}]'" in out.stdout, out.stderr


def test_importing_health_imports_no_database_driver() -> None:
    code = (
        "import sys, berrys_monitoring.health\n"
        "print([m for m in ('psycopg', 'pymysql', 'redis') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
