import argparse

from app.cli import build_parser, main


def subcommands(parser: argparse.ArgumentParser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield prefix + (name,), helps.get(name), sub
                yield from subcommands(sub, prefix + (name,))


def test_every_command_has_help_text():
    missing = [" ".join(path) for path, help_text, _ in subcommands(build_parser()) if not help_text]
    assert missing == []


def test_every_command_option_has_help_text():
    missing = [
        f"{' '.join(path)} {action.option_strings or action.dest}"
        for path, _, sub in subcommands(build_parser())
        for action in sub._actions
        if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) and not action.help
    ]
    assert missing == []


def test_no_command_is_a_usage_error(capsys):
    try:
        main([])
    except SystemExit as exc:
        assert exc.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_python_dash_m_gives_the_same_one_line_error_as_the_entry_point(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "replay", str(tmp_path / "no-such-file.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("station: ")
    assert "Traceback" not in result.stderr


def test_station_commands_use_saved_settings_unless_a_flag_or_variable_says_otherwise(tmp_path, monkeypatch):
    from app.cli import station_settings
    from app.ui.saved_settings import SavedSettings, save

    save(
        tmp_path, SavedSettings(erp_url="http://clerk:s3cret@erp.saved:8123/returns", station_id="dock-saved")
    )
    monkeypatch.delenv("STATION_ERP_URL", raising=False)
    monkeypatch.delenv("STATION_ID", raising=False)

    saved = station_settings(argparse.Namespace(data_dir=str(tmp_path), erp_url=None, station_id=None))
    assert (saved.erp.host, saved.erp.port, saved.erp.user, saved.station_id) == (
        "erp.saved",
        8123,
        "clerk",
        "dock-saved",
    )

    flagged = station_settings(
        argparse.Namespace(
            data_dir=str(tmp_path), erp_url="http://a:b@erp.flag:9000/returns", station_id="dock-2"
        )
    )
    assert (flagged.erp.host, flagged.station_id) == ("erp.flag", "dock-2")

    monkeypatch.setenv("STATION_ERP_URL", "http://a:b@erp.env:9001/returns")
    from_env = station_settings(argparse.Namespace(data_dir=str(tmp_path), erp_url=None, station_id=None))
    assert (from_env.erp.host, from_env.station_id) == ("erp.env", "dock-saved")


def test_an_unusable_erp_url_is_a_one_line_command_error(tmp_path):
    from app.cli import CommandError, station_settings

    try:
        station_settings(
            argparse.Namespace(data_dir=str(tmp_path), erp_url="ftp://x/returns", station_id=None)
        )
    except CommandError as exc:
        assert "must look like http://" in str(exc)
    else:
        raise AssertionError("an ftp:// ERP URL was accepted")
