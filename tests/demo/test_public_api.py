from __future__ import annotations

import pytest

import berrys_monitoring.demo as demo
from berrys_monitoring.cli import COMMANDS, build_parser


def test_demo_exports_exactly_its_public_names():
    assert sorted(demo.__all__) == ["configure_parser", "run", "run_demo"]
    for name in demo.__all__:
        assert getattr(demo, name).__doc__


def test_demo_is_a_registered_cli_command_with_a_duration_option():
    assert COMMANDS["demo"][0] == "berrys_monitoring.demo"
    args = build_parser().parse_args(["demo", "--duration", "3"])
    assert args.duration == 3.0
    assert build_parser().parse_args(["demo"]).duration is None  # default: until Ctrl-C


@pytest.mark.parametrize(
    "argv",
    [["--duration", "0"], ["--rate", "-1"], ["--error-rate", "1.5"], ["--duration", "soon"]],
)
def test_bad_demo_options_are_rejected_when_parsed(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["demo", *argv])
    assert exc.value.code == 2
    assert argv[0] in capsys.readouterr().err
