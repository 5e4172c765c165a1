"""The `tapegrad` command itself: help with examples, version, `python -m tapegrad`, exit codes."""
import os
import subprocess
import sys

import pytest

import tapegrad
from tapegrad.cli import main

SRC = os.path.dirname(os.path.dirname(tapegrad.__file__))


def run(*argv):
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "tapegrad", *argv], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.parametrize("command", ["demo", "grad", "minimize"])
def test_each_command_has_help_with_examples(capsys, command):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"usage: tapegrad {command}" in out and "examples:" in out and f"tapegrad {command}" in out
    assert "exit status" in out


def test_top_level_help_lists_the_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(c in out for c in ("demo", "grad", "minimize", "examples:"))


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: tapegrad" in capsys.readouterr().err


def test_unknown_command_exits_2(capsys):
    assert main(["gradient"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tapegrad {tapegrad.__version__}"


def test_python_dash_m_runs_the_command_with_its_exit_codes():
    ok = run("grad", "x**2 + b**2", "--at", "x=20", "b=10")
    assert ok.returncode == 0 and "df/dx  40" in ok.stdout and ok.stderr == ""
    bad = run("grad", "open('x')", "--at", "x=1")
    assert bad.returncode == 2 and "unknown function 'open'" in bad.stderr and bad.stdout == ""
    failed = run("grad", "log(x)", "--at", "x=0")
    assert failed.returncode == 1 and "not finite" in failed.stderr


def test_importing_tapegrad_does_not_import_the_command_line():
    code = "import sys, tapegrad; print('tapegrad.cli' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=SRC)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60).stdout
    assert out.strip() == "False"
