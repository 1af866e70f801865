"""What every ``entente`` command shares: failing with a message, reading the settings."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from service.config import Settings


def fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def settings() -> Settings:
    try:
        current = Settings()
    except ValidationError as exc:
        problems = "\n".join(
            f"  ENTENTE_{str(error['loc'][0]).upper()}: {error['msg']}" for error in exc.errors()
        )
        fail(f"invalid configuration:\n{problems}")
    if current.is_sqlite:
        current.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return current
