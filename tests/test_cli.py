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
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("station: ")
    assert "Traceback" not in result.stderr
