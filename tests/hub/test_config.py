"""The hub's settings: durations, sizes, YAML, precedence, the safety check."""

from __future__ import annotations

from pathlib import Path

import pytest

from berrys_monitoring.hub.config import ConfigError, HubConfig, parse_duration, parse_size


def test_durations_and_sizes_parse() -> None:
    assert parse_duration("12h") == 43200.0 and parse_duration("250ms") == 0.25
    assert parse_size("2GB") == 2 * 10**9 and parse_size("1KiB") == 1024
    for bad in ("", "7 days", "-1d"):
        with pytest.raises(ConfigError):
            parse_duration(bad)
    with pytest.raises(ConfigError):
        parse_size("lots")


def test_flags_override_the_environment_which_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text("hub:\n  port: 5000\n  token: from-file\n  retention: 1d\n  data-dir: /x\n")
    cfg = HubConfig.from_sources(
        config_file=config,
        overrides={"port": 6000, "retention": None},
        environ={"BERRYS_MONITORING_TOKEN": "from-env"},
    )
    assert (cfg.port, cfg.token, cfg.retention, cfg.data_dir) == (
        6000,
        "from-env",
        86400.0,
        Path("/x"),
    )
    assert "from-env" not in repr(cfg)


def test_unknown_yaml_keys_are_errors(tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text("prot: 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        HubConfig.from_sources(config_file=config, environ={})


def test_only_loopback_is_safe_without_a_token() -> None:
    for host in ("127.0.0.1", "::1", "localhost"):
        HubConfig(host=host, data_dir=Path("/tmp")).check_safe()
    HubConfig(host="0.0.0.0", token="t", data_dir=Path("/tmp")).check_safe()
    with pytest.raises(ConfigError, match="refusing"):
        HubConfig(host="0.0.0.0", data_dir=Path("/tmp")).check_safe()


def test_the_default_data_dir_is_the_users_data_dir() -> None:
    import platformdirs

    assert str(HubConfig().data_dir).startswith(platformdirs.user_data_dir("berrys-monitoring"))


def test_scrape_configs_are_read_as_prometheus_writes_them(tmp_path) -> None:
    path = tmp_path / "prometheus-like.yaml"
    path.write_text(
        "scrape_configs:\n"
        "  - job_name: api\n"
        "    scheme: https\n"
        "    metrics_path: /internal/metrics\n"
        "    static_configs:\n"
        "      - targets: ['192.0.2.3:8443', 'api-2:8443']\n"
        "        labels: {env: prod}\n"
    )
    config = HubConfig.from_sources(config_file=path, environ={})
    assert [t["url"] for t in config.scrape_targets] == [
        "https://192.0.2.3:8443",
        "https://api-2:8443",
    ]
    assert {t["metrics_path"] for t in config.scrape_targets} == {"/internal/metrics"}
    assert config.scrape_targets[0]["labels"] == {"env": "prod"}
    path.write_text("scrape_configs:\n  - static_configs: [{targets: ['a:1']}]\n")
    with pytest.raises(ConfigError, match="job_name"):
        HubConfig.from_sources(config_file=path, environ={})


# -- remote metrics and per-job intervals (promapi) --


def test_each_job_may_have_its_own_scrape_interval(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(
        "scrape_interval: 15s\n"
        "scrape_configs:\n"
        "  - job_name: fast\n    scrape_interval: 5s\n"
        "    static_configs: [{targets: ['a:1']}]\n"
        "  - job_name: default\n    static_configs: [{targets: ['b:1']}]\n"
    )
    config = HubConfig.from_sources(config_file=path, environ={})
    assert config.scrape_intervals == {"fast": 5.0}
    assert config.scrape_timeouts == {}
    path.write_text(
        "scrape_configs:\n  - job_name: x\n    scrape_interval: 5s\n    scrape_timeout: 2s\n"
        "    static_configs: [{targets: ['a:1']}]\n"
    )
    assert HubConfig.from_sources(config_file=path, environ={}).scrape_timeouts == {"x": 2.0}
    path.write_text(
        "scrape_configs:\n  - job_name: x\n    scrape_interval: 5s\n    scrape_timeout: 6s\n"
        "    static_configs: [{targets: ['a:1']}]\n"
    )
    with pytest.raises(ConfigError, match="no longer than scrape_interval"):
        HubConfig.from_sources(config_file=path, environ={})
    path.write_text(
        "scrape_configs:\n  - job_name: x\n    scrape_interval: 0s\n"
        "    static_configs: [{targets: ['a:1']}]\n"
    )
    with pytest.raises(ConfigError, match="scrape_interval must be positive"):
        HubConfig.from_sources(config_file=path, environ={})


def test_prometheus_url_is_checked_and_normalised() -> None:
    assert HubConfig(prometheus_url="http://prom:9090/").prometheus_url == "http://prom:9090"
    assert HubConfig(prometheus_url="").prometheus_url is None
    with pytest.raises(ConfigError, match="prometheus_url"):
        HubConfig(prometheus_url="prom:9090")
