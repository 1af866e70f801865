"""What the deployment tests share: the repository root, the CLI and the settings they must match.

These tests read files and run linters; they use no database fixture, so they run alike under
``--db=sqlite`` and ``--db=postgres``.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pytest
import typer

from service import cli
from service.config import AdminPassword, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
APP_UID = 10001


def tool(name: str) -> str:
    """A dev tool installed beside this Python (the venv's bin/), else on PATH; fail if absent."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: install the dev extras (pip install -e '.[dev]')")
    return found


def run(command: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed tools, arguments from this repository
        list(command), capture_output=True, text=True, check=False, timeout=120, **kwargs
    )


def entente_command(args: Sequence[str]) -> str:
    """The command that ``entente <args>`` runs ("db upgrade"), its options parsed as the CLI
    would parse them.

    Raises ValueError for an unknown command, and the CLI's usage error for an unknown option,
    a bad value or a missing one. (Typer ships its own copy of click: only duck typing here.)
    """
    command = typer.main.get_command(cli.app)
    remaining, path = list(args), ["entente"]
    while hasattr(command, "commands"):
        if not remaining:
            raise ValueError(f"`{' '.join(path)}` needs a subcommand")
        name = remaining.pop(0)
        if name not in command.commands:
            raise ValueError(f"`{' '.join(path)}` has no command {name!r}")
        command, path = command.commands[name], [*path, name]
    command.make_context(" ".join(path), remaining)
    return " ".join(path[1:])


def option(args: Sequence[str], name: str) -> str | None:
    """The value of ``--name value`` in an argument list."""
    for flag, value in itertools.pairwise(args):
        if flag == name:
            return value
    return None


def settings_variables() -> set[str]:
    fields = [*Settings.model_fields, *AdminPassword.model_fields]
    return {f"ENTENTE_{field.upper()}" for field in fields}


def unknown_variables(names: Iterable[str]) -> list[str]:
    """ENTENTE_* names that no setting reads (``X__Y`` is the nested field Y of setting X)."""
    known = settings_variables()
    return sorted(
        name for name in names if name.startswith("ENTENTE_") and name.split("__")[0] not in known
    )


def settings_from(
    variables: Mapping[str, str], monkeypatch: pytest.MonkeyPatch, **extra: str
) -> Settings:
    """Settings as a process given exactly these ENTENTE_* variables would read them."""
    for name in [name for name in os.environ if name.startswith("ENTENTE_")]:
        monkeypatch.delenv(name)
    for name, value in {**variables, **extra}.items():
        monkeypatch.setenv(name, interpolated(value))
    return Settings()


def interpolated(value: str) -> str:
    """A Compose value with its ${VARIABLE...} references filled with a stand-in."""
    return re.sub(r"\$\{[^}]*\}", "stand-in", value)
