"""The hub's configuration: one dataclass, filled from defaults, a YAML file, the
environment and command-line flags (in that order of precedence, the last one wins)."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from pathlib import Path
from typing import Any

__all__ = [
    "ENV_TOKEN",
    "ConfigError",
    "HubConfig",
    "load_yaml",
    "parse_duration",
    "parse_size",
]

ENV_TOKEN = "BERRYS_MONITORING_TOKEN"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.I)
_SIZE_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


class ConfigError(ValueError):
    """A configuration value is missing, malformed or unsafe; the message says which."""


def parse_duration(value: str | float | int) -> float:
    """Seconds in ``"7d"``, ``"12h"``, ``"90m"``, ``"30s"``, ``"250ms"`` or a bare number.

    Example::

        >>> parse_duration("7d")
        604800.0
        >>> parse_duration(90)
        90.0
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if m is None:
            raise ConfigError(f"not a duration: {value!r} (examples: 7d, 12h, 30m, 45s)")
        seconds = float(m.group(1)) * _DURATION_UNITS[m.group(2) or "s"]
    if seconds < 0:
        raise ConfigError(f"a duration cannot be negative: {value!r}")
    return seconds


def parse_size(value: str | int) -> int:
    """Bytes in ``"2GB"``, ``"512MiB"``, ``"16M"``, ``"100k"`` or a bare number.

    Example::

        >>> parse_size("2GB")
        2000000000
        >>> parse_size("16MiB")
        16777216
    """
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        m = _SIZE.match(str(value))
        if m is None:
            raise ConfigError(f"not a size: {value!r} (examples: 2GB, 512MiB, 16M)")
        unit = (m.group(2) or "").lower()
        binary = "i" in unit
        letter = unit[:1] if unit not in ("b", "") else ""
        factor = 1024 ** "kmgt".index(letter) * 1024 if binary and letter else _SIZE_UNITS[letter]
        size = int(float(m.group(1)) * factor)
    if size < 0:
        raise ConfigError(f"a size cannot be negative: {value!r}")
    return size


def _default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("berrys-monitoring", appauthor=False)) / "hub"


@dataclasses.dataclass
class HubConfig:
    """Everything the hub can be told; every field is also a YAML key and most are flags.

    Example::

        >>> cfg = HubConfig(data_dir=Path("/tmp/hub"), retention="3d", max_size="1GB")
        >>> cfg.retention, cfg.max_size
        (259200.0, 1000000000)
    """

    host: str = "127.0.0.1"
    port: int = 4318
    grpc_port: int | None = 4317
    data_dir: Path | None = None
    token: str | None = dataclasses.field(default=None, repr=False)
    retention: float | str = 7 * 86400.0
    max_size: int | str = 2 * 10**9
    max_body_size: int | str = 16 * 1024 * 1024
    queue_size: int = 64
    log_level: str = "info"
    retention_interval: float | str = 60.0
    scrape_interval: float | str = 15.0
    #: Prometheus' own ``scrape_configs`` (``job_name``, ``metrics_path``, ``scheme``,
    #: ``static_configs`` with ``targets`` and ``labels``), pasted as they are.
    scrape_configs: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # -- rules: alert and recording rules, notification routing ------------------------
    #: Prometheus' ``rule_files``: globs of rule files, reloaded on SIGHUP and /-/reload.
    rule_files: list[str] = dataclasses.field(default_factory=list)
    #: How often a rule group without its own ``interval`` is evaluated (Prometheus' 1m).
    evaluation_interval: float | str = 60.0
    #: An Alertmanager configuration file (route, receivers, inhibit_rules) ...
    alertmanager_config: str | None = None
    #: ... or the same inline; Prometheus' ``alerting: {alertmanagers: ...}`` works too.
    alerting: dict[str, Any] | None = None
    # -- remote metrics (promapi) --
    #: A Prometheus-compatible server (Prometheus, Mimir, Thanos, VictoriaMetrics) that
    #: answers the metric queries; the hub's own scraper is then off.
    prometheus_url: str | None = None
    #: Headers sent with every request to ``prometheus_url`` (a bearer token, basic auth,
    #: Mimir's ``X-Scope-OrgID``); only in the file, never on the command line.
    prometheus_headers: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.retention = parse_duration(self.retention)
        self.max_size = parse_size(self.max_size)
        self.max_body_size = parse_size(self.max_body_size)
        self.retention_interval = parse_duration(self.retention_interval)
        self.scrape_interval = parse_duration(self.scrape_interval)
        if self.scrape_interval < 0:
            raise ConfigError("scrape_interval must be positive, or 0 for no scraping")
        if self.retention_interval <= 0:
            raise ConfigError("retention_interval must be positive")
        if self.data_dir is None:
            self.data_dir = _default_data_dir()
        self.data_dir = Path(self.data_dir).expanduser()
        if not 0 <= int(self.port) <= 65535:
            raise ConfigError(f"port out of range: {self.port}")
        self.port = int(self.port)
        if self.grpc_port is not None:
            if not 0 <= int(self.grpc_port) <= 65535:
                raise ConfigError(f"grpc_port out of range: {self.grpc_port}")
            # 0 turns OTLP/gRPC off (an HTTP-only hub)
            self.grpc_port = int(self.grpc_port) or None
        if int(self.queue_size) < 1:
            raise ConfigError("queue_size must be at least 1")
        if int(self.max_body_size) < 1:
            raise ConfigError("max_body_size must be at least 1 byte")
        if self.token == "":
            self.token = None
        self.scrape_targets = scrape_targets(self.scrape_configs)
        self.evaluation_interval = parse_duration(self.evaluation_interval)
        if self.evaluation_interval <= 0:
            raise ConfigError("evaluation_interval must be positive")
        if isinstance(self.rule_files, str) or not all(isinstance(f, str) for f in self.rule_files):
            raise ConfigError("rule_files must be a list of file names or globs")
        if self.alerting is not None and not isinstance(self.alerting, dict):
            raise ConfigError("alerting must be a mapping (Alertmanager's configuration)")
        # -- remote metrics (promapi) --
        if self.prometheus_url == "":
            self.prometheus_url = None
        if self.prometheus_url is not None:
            url = str(self.prometheus_url).rstrip("/")
            if not re.match(r"^https?://[^/\s]+", url):
                raise ConfigError(
                    f"prometheus_url must be an http(s) URL, got {self.prometheus_url!r}"
                )
            self.prometheus_url = url
        if not isinstance(self.prometheus_headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.prometheus_headers.items()
        ):
            raise ConfigError("prometheus_headers must map header names to strings")

    @property
    def scrape_timeouts(self) -> dict[str, float]:
        """Each job's own ``scrape_timeout`` (job name to seconds)."""
        return {
            t["job"]: t["scrape_timeout"]
            for t in self.scrape_targets
            if t.get("scrape_timeout") is not None
        }

    @property
    def scrape_intervals(self) -> dict[str, float]:
        """Each job's own ``scrape_interval`` from ``scrape_configs`` (job name to seconds)."""
        return {
            t["job"]: t["scrape_interval"]
            for t in self.scrape_targets
            if t.get("scrape_interval") is not None
        }

    @property
    def retention_seconds(self) -> float:
        return float(self.retention)

    @property
    def max_size_bytes(self) -> int:
        return int(self.max_size)

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_size)

    @property
    def data_path(self) -> Path:
        assert self.data_dir is not None
        return Path(self.data_dir)

    def check_safe(self) -> None:
        """Refuse a non-loopback address without a token: the hub would take telemetry
        from, and show it to, anyone who can reach the port."""
        if self.token is None and not is_loopback(self.host):
            raise ConfigError(
                f"refusing to listen on {self.host} without a token: anyone who can reach "
                f"the port could send and read telemetry. Give --token (or set {ENV_TOKEN}), "
                "or bind 127.0.0.1"
            )

    @classmethod
    def from_sources(
        cls,
        *,
        config_file: str | os.PathLike[str] | None = None,
        overrides: dict[str, Any] | None = None,
        environ: dict[str, str] | None = None,
    ) -> HubConfig:
        """Defaults, then the YAML file, then ``BERRYS_MONITORING_TOKEN``, then ``overrides``
        (the flags that were given; ``None`` values are ignored)."""
        values: dict[str, Any] = {}
        if config_file is not None:
            values.update(load_yaml(config_file))
        env = os.environ if environ is None else environ
        if env.get(ENV_TOKEN):
            values["token"] = env[ENV_TOKEN]
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        return cls(**values)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_FIELDS = {f.name for f in dataclasses.fields(HubConfig)}


def scrape_targets(configs: Any) -> list[dict[str, Any]]:
    """The targets of Prometheus ``scrape_configs``: one dict per static target with its
    ``url``, ``job``, ``metrics_path``, ``health_path`` and ``labels``. Keys the hub does not
    use (``relabel_configs``, ``scrape_timeout``, ...) are accepted and ignored, so the
    scrape section of a Prometheus configuration can be pasted as it is.

    Example::

        >>> scrape_targets([{"job_name": "api", "static_configs": [
        ...     {"targets": ["127.0.0.1:8000"], "labels": {"team": "web"}}]}])[0]["url"]
        'http://127.0.0.1:8000'
    """
    if not isinstance(configs, list):
        raise ConfigError("scrape_configs must be a list of jobs, as in Prometheus")
    out: list[dict[str, Any]] = []
    for job in configs:
        if not isinstance(job, dict) or not isinstance(job.get("job_name"), str):
            raise ConfigError(f"every scrape_configs entry needs a job_name: {job!r}")
        name = job["job_name"]
        scheme = str(job.get("scheme", "http"))
        if scheme not in ("http", "https"):
            raise ConfigError(f"scrape_configs {name!r}: scheme must be http or https")
        path = str(job.get("metrics_path", "/metrics"))
        if not path.startswith("/"):
            raise ConfigError(f"scrape_configs {name!r}: metrics_path must start with /")
        interval = parse_duration(job["scrape_interval"]) if "scrape_interval" in job else None
        if interval is not None and interval <= 0:
            raise ConfigError(f"scrape_configs {name!r}: scrape_interval must be positive")
        timeout = parse_duration(job["scrape_timeout"]) if "scrape_timeout" in job else None
        if timeout is not None and (timeout <= 0 or (interval and timeout > interval)):
            raise ConfigError(
                f"scrape_configs {name!r}: scrape_timeout must be positive and no longer "
                "than scrape_interval"
            )
        for static in job.get("static_configs") or []:
            if not isinstance(static, dict) or not isinstance(static.get("targets"), list):
                raise ConfigError(f"scrape_configs {name!r}: static_configs need targets")
            labels = {str(k): str(v) for k, v in (static.get("labels") or {}).items()}
            for target in static["targets"]:
                if not isinstance(target, str) or not target or "/" in target:
                    raise ConfigError(
                        f"scrape_configs {name!r}: a target is host:port, got {target!r}"
                    )
                out.append(
                    {
                        "url": f"{scheme}://{target}",
                        "job": name,
                        "metrics_path": path,
                        "health_path": str(job.get("health_path", "/health")),
                        "labels": labels,
                        "scrape_interval": interval,
                        "scrape_timeout": timeout,
                    }
                )
    return out


def load_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The hub's settings in a YAML file: a mapping whose keys are the flags' names
    (``data-dir`` or ``data_dir``). Unknown keys are an error, so a typo never goes unseen."""
    import yaml

    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of settings")
    hub = data.get("hub", data)
    if not isinstance(hub, dict):
        raise ConfigError(f"{path}: 'hub' must be a mapping of settings")
    if hub is not data and "scrape_configs" in data:  # Prometheus' place for it
        hub = {**hub, "scrape_configs": data["scrape_configs"]}
    for key in ("rule_files", "alerting"):  # Prometheus' places for them
        if hub is not data and key in data:
            hub = {**hub, key: data[key]}
    out: dict[str, Any] = {}
    for key, value in hub.items():
        name = str(key).replace("-", "_")
        if name not in _FIELDS:
            known = ", ".join(sorted(f.replace("_", "-") for f in _FIELDS))
            raise ConfigError(f"{path}: unknown setting {key!r} (known: {known})")
        out[name] = value
    return out
