from __future__ import annotations

import berrys_monitoring.logging as pkg


def test_public_names_are_pinned() -> None:
    assert sorted(pkg.__all__) == sorted(
        [
            "MASK",
            "guard_handlers",
            "ConsoleFormatter",
            "ContextToken",
            "JSONFormatter",
            "LogLevel",
            "Logger",
            "Redactor",
            "SafeFileHandler",
            "SafeStreamHandler",
            "adopt_server_loggers",
            "bind_context",
            "bound_context",
            "capture_logs",
            "clear_context",
            "configure_logging",
            "flush_logging",
            "get_context",
            "get_logger",
            "get_request_logger",
            "is_configured",
            "reset_context",
            "run_in_executor",
            "unbind_context",
            "uvicorn_log_config",
            "wrap_context",
        ]
    )


def test_every_public_name_exists_and_has_a_docstring_with_an_example() -> None:
    for name in pkg.__all__:
        obj = getattr(pkg, name)
        if name == "MASK":
            assert obj == "[REDACTED]"
            continue
        doc = obj.__doc__ or ""
        assert "Example" in doc or ">>>" in doc, f"{name} has no example in its docstring"
