"""The code stays ruff clean (pyproject.toml's [tool.ruff] rules) and ruff-formatted: a lint
finding or an unformatted file fails CI here, with ruff's own words, rather than waiting for
someone to run it. Ruff is pinned in pyproject.toml, so a new release's style cannot fail CI."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_tree_is_ruff_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_tree_is_ruff_formatted():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--no-cache", "--check", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, "run: ruff format .\n" + result.stdout + result.stderr
