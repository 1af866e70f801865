"""``entente keys``: stage, rotate, list and prune the key that signs our tokens and notices."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from service.cli_support import fail, settings
from service.config import Settings

keys_app = typer.Typer(help="The key that signs our tokens and notices.", no_args_is_help=True)


def key_paths(current: Settings) -> tuple[Path, Path]:
    key_file = current.resolved_signing_key_file
    if not key_file.is_file():
        fail(f"no signing key at {key_file} (the service creates it on first start)")
    return key_file, current.resolved_signing_key_retired_dir


@keys_app.command("stage")
def keys_stage() -> None:
    """Create the next key and publish its public JWK: accepted everywhere, not yet signed with."""
    from service.auth import rotation

    key_file, retired_dir = key_paths(settings())
    try:
        staging = rotation.stage(key_file, retired_dir)
    except (OSError, ValueError) as exc:
        fail(f"cannot stage: {exc}")
        raise
    kid = staging.key.kid
    if not staging.written:
        typer.echo(f"next {kid} is staged already: {rotation.next_file(key_file)}")
    else:
        typer.echo(f"staged next {kid}: private key in {rotation.next_file(key_file)}")
    for path in staging.written:
        typer.echo(f"published {path}")
    typer.echo("once every replica publishes it, run `entente keys rotate` to sign with it")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Retire the current key (still published); the staged next key, or a new one, replaces it."""
    from service.auth import rotation

    current = settings()
    key_file, retired_dir = key_paths(current)
    try:
        rotated = rotation.rotate(key_file, retired_dir)
    except (OSError, ValueError) as exc:
        fail(f"cannot rotate: {exc}")
        raise
    old, new = rotated.old, rotated.new
    typer.echo(f"retired {old.kid}: public JWK in {retired_dir / f'{old.kid}.json'}")
    typer.echo(f"current {new.kid}{' (was staged)' if rotated.staged else ''}: {key_file}")
    typer.echo(f"the retired key stays published for {current.signing_key_publish_days} days")
    if not rotated.staged:
        typer.echo(
            "hint: with several replicas, run `entente keys stage` first and rotate once every "
            "replica publishes the next key; then no replica refuses a token signed with it"
        )


@keys_app.command("list")
def keys_list() -> None:
    """The current key, the staged next one, the retired ones and how long each is published."""
    from service.auth import rotation

    current = settings()
    key_file, retired_dir = key_paths(current)
    listed = rotation.statuses(
        key_file, retired_dir, publish_days=current.signing_key_publish_days, now=utcnow()
    )
    typer.echo(f"{'kid':<44} {'status':<8} {'retired at':<21} published until")
    for key in listed:
        typer.echo(
            f"{key.kid:<44} {key.status:<8} {moment(key.retired_at):<21} "
            f"{moment(key.published_until)}"
        )


@keys_app.command("prune")
def keys_prune() -> None:
    """Delete the retired keys whose publication window has passed."""
    from service.auth import rotation

    current = settings()
    key_file, retired_dir = key_paths(current)
    removed = rotation.prune(
        key_file, retired_dir, publish_days=current.signing_key_publish_days, now=utcnow()
    )
    for key in removed:
        typer.echo(f"deleted {key.kid} (retired {moment(key.retired_at)})")
    typer.echo(f"{len(removed)} retired key(s) pruned")


def utcnow() -> datetime:
    return datetime.now(UTC)


def moment(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else "-"
