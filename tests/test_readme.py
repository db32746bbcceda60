"""The README's two commands stay true: CI runs the README's test command verbatim."""
from __future__ import annotations

import re

from tests.conftest import REPO


def _commands():
    readme = (REPO / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S)[:2]


def test_readme_opens_with_two_commands():
    run, test = _commands()
    assert "torch==2.13.0" in run and run.index("torch==2.13.0") < run.index("pip install -e .")
    assert "app.py" in run
    assert "pytest" in test and "torch==2.13.0" in test


def test_ci_runs_readme_test_command():
    _, test = _commands()
    ci = (REPO / ".ci" / "run").read_text()
    assert test in ci.splitlines()
