"""Database checks: PostgreSQL (psycopg), MySQL/MariaDB (PyMySQL), SQLite (stdlib)."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from berrys_monitoring.health._checks_base import DEFAULT_CHECK_TIMEOUT, DependencyCheck, require
from berrys_monitoring.health._result import CheckResult
from berrys_monitoring.health._status import HealthStatus

__all__ = [
    "check_database_connection",
    "check_mysql",
    "check_postgres",
    "check_sqlite",
]

_POSTGRES = {"postgres", "postgresql"}
_MYSQL = {"mysql", "mariadb"}
_SQLITE = {"sqlite", "sqlite3"}


def _scheme(url: str) -> str:
    # SQLAlchemy-style URLs name a driver after '+': postgresql+psycopg://, mysql+pymysql://
    return urlsplit(url).scheme.lower().split("+", 1)[0]


class _Postgres(DependencyCheck):
    kind = "PostgreSQL"
    component_type = "datastore"

    def __init__(self, url: str, timeout: float, query: str) -> None:
        super().__init__(url, timeout)
        self._psycopg = require("psycopg", "postgres", "PostgreSQL")
        parts = urlsplit(url)
        self._dsn = parts._replace(scheme="postgresql").geturl()
        self._query = query

    def probe(self) -> CheckResult:
        # libpq counts connect_timeout in whole seconds (and treats 1 as 2).
        conn = self._psycopg.connect(
            self._dsn, connect_timeout=max(1, math.ceil(self.timeout)), autocommit=True
        )
        try:
            conn.execute(self._query).fetchone()
            version = conn.info.server_version
        finally:
            conn.close()
        major, minor = divmod(int(version), 10000)
        return CheckResult(
            status=HealthStatus.HEALTHY,
            message=f"PostgreSQL at {self.target} is reachable",
            details={"target": self.target, "server_version": f"{major}.{minor}"},
        )


class _MySQL(DependencyCheck):
    kind = "MySQL"
    component_type = "datastore"

    def __init__(self, url: str, timeout: float, query: str) -> None:
        super().__init__(url, timeout)
        self._pymysql = require("pymysql", "mysql", "MySQL/MariaDB")
        parts = urlsplit(url)
        if _scheme(url) == "mariadb":
            self.kind = "MariaDB"
        params = dict(parse_qsl(parts.query))
        self._kwargs: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 3306,
            "user": unquote(parts.username) if parts.username else "root",
            "password": unquote(parts.password) if parts.password else "",
            "database": parts.path.lstrip("/") or None,
            "connect_timeout": self.timeout,
            "read_timeout": self.timeout,
            "write_timeout": self.timeout,
        }
        if "unix_socket" in params:
            self._kwargs["unix_socket"] = params["unix_socket"]
        self._query = query

    def probe(self) -> CheckResult:
        conn = self._pymysql.connect(**self._kwargs)
        try:
            with conn.cursor() as cur:
                cur.execute(self._query)
                cur.fetchone()
            version = conn.get_server_info()
        finally:
            conn.close()
        return CheckResult(
            status=HealthStatus.HEALTHY,
            message=f"{self.kind} at {self.target} is reachable",
            details={"target": self.target, "server_version": version},
        )


class _SQLite(DependencyCheck):
    kind = "SQLite"
    component_type = "datastore"

    def __init__(self, path: str, timeout: float, query: str, display: str) -> None:
        super().__init__(display, timeout)
        self._path = path
        self._query = query

    def probe(self) -> CheckResult:
        if self._path == ":memory:":
            conn = sqlite3.connect(":memory:", timeout=self.timeout)
        else:
            # mode=rw: a missing database file is a failure, not a new empty database.
            uri = f"{Path(self._path).resolve().as_uri()}?mode=rw"
            conn = sqlite3.connect(uri, uri=True, timeout=self.timeout)
        try:
            conn.execute(self._query).fetchone()
        finally:
            conn.close()
        return CheckResult(
            status=HealthStatus.HEALTHY,
            message=f"SQLite database {self.target} is readable",
            details={"target": self.target, "sqlite_version": sqlite3.sqlite_version},
        )


def check_postgres(
    url: str, *, timeout: float = DEFAULT_CHECK_TIMEOUT, query: str = "SELECT 1"
) -> DependencyCheck:
    """A check that connects to PostgreSQL (psycopg 3) and runs ``query``.

    Needs ``pip install 'berrys-monitoring[postgres]'``.

    Example::

        >>> from berrys_monitoring.health import check_postgres
        >>> check = check_postgres("postgresql://postgres@127.0.0.1:5432/postgres")
        >>> check().status  # doctest: +SKIP
        <HealthStatus.HEALTHY: 'pass'>
    """
    if _scheme(url) not in _POSTGRES:
        raise ValueError(f"not a PostgreSQL URL: {urlsplit(url).scheme or url!r}")
    return _Postgres(url, timeout, query)


def check_mysql(
    url: str, *, timeout: float = DEFAULT_CHECK_TIMEOUT, query: str = "SELECT 1"
) -> DependencyCheck:
    """A check that connects to MySQL or MariaDB (PyMySQL) and runs ``query``.

    Accepts ``mysql://`` and ``mariadb://`` URLs. Needs ``pip install 'berrys-monitoring[mysql]'``.

    Example::

        >>> from berrys_monitoring.health import check_mysql
        >>> check = check_mysql("mariadb://root@127.0.0.1:3306/test")
        >>> check().is_healthy  # doctest: +SKIP
        True
    """
    if _scheme(url) not in _MYSQL:
        raise ValueError(f"not a MySQL/MariaDB URL: {urlsplit(url).scheme or url!r}")
    return _MySQL(url, timeout, query)


def check_sqlite(
    path: str, *, timeout: float = DEFAULT_CHECK_TIMEOUT, query: str = "SELECT 1"
) -> DependencyCheck:
    """A check that opens an existing SQLite database (never creates it) and runs ``query``.

    ``path`` is a file path, ``":memory:"`` or a ``sqlite:///relative`` /
    ``sqlite:////absolute`` URL.

    Example::

        >>> from berrys_monitoring.health import check_sqlite
        >>> check_sqlite(":memory:")().is_healthy
        True
    """
    display = path
    if "://" in path:
        parts = urlsplit(path)
        if _scheme(path) not in _SQLITE:
            raise ValueError(f"not a SQLite URL: {parts.scheme!r}")
        # sqlite:///app.db -> "app.db"; sqlite:////var/app.db -> "/var/app.db"
        path = unquote(path.split("://", 1)[1][1:]) if path.split("://", 1)[1] else ""
        if not path:
            raise ValueError(
                "a SQLite URL needs a path, e.g. sqlite:///app.db or sqlite:///:memory:"
            )
    return _SQLite(path, timeout, query, display)


def check_database_connection(
    url: str, *, timeout: float = DEFAULT_CHECK_TIMEOUT, query: str = "SELECT 1"
) -> DependencyCheck:
    """A check for the database at ``url``, chosen by its scheme: ``postgresql://``
    (psycopg), ``mysql://`` / ``mariadb://`` (PyMySQL) or ``sqlite:///`` (stdlib).

    Returns the check function; register it as the guide shows. The URL's password is
    masked in every result and log. Nothing connects until the check runs; a bad URL or a
    missing driver raises here, at configuration time.

    Example::

        >>> from berrys_monitoring.health import register_health_check, check_database_connection
        >>> _ = register_health_check("database")(
        ...     check_database_connection("postgresql://postgres@127.0.0.1:5432/postgres"))
    """
    scheme = _scheme(url)
    if scheme in _POSTGRES:
        return check_postgres(url, timeout=timeout, query=query)
    if scheme in _MYSQL:
        return check_mysql(url, timeout=timeout, query=query)
    if scheme in _SQLITE:
        return check_sqlite(url, timeout=timeout, query=query)
    raise ValueError(
        f"unsupported database URL scheme {scheme or '(none)'!r}: expected postgresql://, "
        "mysql://, mariadb:// or sqlite:///"
    )
