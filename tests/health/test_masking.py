"""URL masking keeps user, host and query, and hides passwords and secret parameters."""

from __future__ import annotations

import pytest

from berrys_monitoring.health import mask_url


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://app:pw@db:5432/app", "postgresql://app:***@db:5432/app"),
        ("redis://:pw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("mysql://root@127.0.0.1/test", "mysql://root@127.0.0.1/test"),
        (
            "postgresql://db/app?sslmode=require&password=pw",
            "postgresql://db/app?sslmode=require&password=***",
        ),
        (
            "https://api.example.com/health?token=abc&x=1",
            "https://api.example.com/health?token=***&x=1",
        ),
        ("postgresql://u:p%40ss@db/app", "postgresql://u:***@db/app"),
        ("sqlite:///app.db", "sqlite:///app.db"),
        # Credentials under other common parameter names (OAuth, S3 presigned, Azure SAS).
        (
            "https://h/x?access_token=abc&client_secret=def&page=2",
            "https://h/x?access_token=***&client_secret=***&page=2",
        ),
        (
            "https://h/x?X-Amz-Signature=abc&X-Amz-Credential=def&X-Amz-Date=20260101",
            "https://h/x?X-Amz-Signature=***&X-Amz-Credential=***&X-Amz-Date=20260101",
        ),
        ("https://h/x?sv=2024&sig=abc%3D&se=1", "https://h/x?sv=2024&sig=***&se=1"),
        ("https://h/x?api-key=abc&monkey=1", "https://h/x?api-key=***&monkey=1"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_results_go_through_the_log_redactor_and_keep_the_url_mask() -> None:
    from berrys_monitoring.health import HealthRegistry

    reg = HealthRegistry()

    @reg.register("db")
    def db() -> bool:
        raise RuntimeError(
            "postgresql://app:***@db/app?sslmode=require&password=*** refused "
            "token=abc123 card 4111 1111 1111 1111"
        )

    message = reg.check_health("db").message
    assert message == (
        "RuntimeError: postgresql://app:***@db/app?sslmode=require&password=*** refused "
        "token=[REDACTED] card [REDACTED]"
    )


def test_a_registry_redacts_with_the_redactor_it_is_given() -> None:
    from berrys_monitoring.health import HealthRegistry
    from berrys_monitoring.logging import Redactor

    reg = HealthRegistry(redactor=Redactor(patterns=[r"tenant-\d+"]))
    reg.register("c", lambda: (False, "tenant-42 is over quota", {"owner": "tenant-42"}))
    result = reg.check_health("c")
    assert result.message == "[REDACTED] is over quota"
    assert result.details == {"owner": "[REDACTED]"}
    plain = HealthRegistry(redactor=Redactor(enabled=False))
    plain.register("c", lambda: (False, "password=x"))
    assert plain.check_health("c").message == "password=x"
