"""The benchmark suite: every scenario beside its bare baseline, on SQLite and PostgreSQL.

Run: ``.venv/bin/python -m bench.run [--db both] [--scenarios write,read,notify,audit,footprint]
[--rounds 3] [--duration 10] [--quick]`` (``make bench``). Writes ``bench/results/report.md``,
``report.json`` and ``report.png``; ``bench/README.md`` says what each scenario measures.

A scenario is a module ``bench/scenarios/<name>.py`` with ``async def run(ctx) -> list[Row]``
(``bench.harness.Context``, ``bench.harness.Row``) and, optionally, ``AIMS: list[Aim]``. It is
run once per database, within ``--deadline`` seconds; a scenario that fails or runs out of time
is reported as not measured and the others go on.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from bench.harness import Aim, Context, Row
from bench.summary import verdicts, write

SCENARIOS = ("write", "read", "notify", "audit", "footprint")


@dataclass
class Options:
    databases: list[str]
    scenarios: list[str]
    rounds: int = 3
    duration: float = 10.0
    warmup: float = 3.0
    quick: bool = False
    deadline: float = 900.0
    problems: list[str] = field(default_factory=list)


def load_scenario(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"bench.scenarios.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"bench.scenarios.{name}":
            raise
        return None


async def run_one(module: ModuleType, name: str, ctx: Context, options: Options) -> list[Row]:
    started = time.perf_counter()
    print(f"{name} on {ctx.database} ...", file=sys.stderr, flush=True)
    try:
        async with asyncio.timeout(options.deadline):
            rows = await module.run(ctx)
    except Exception as exc:
        reason = f"not done within {options.deadline:g} s" if isinstance(exc, TimeoutError) else exc
        traceback.print_exc()
        options.problems.append(f"{name} on {ctx.database}: {type(exc).__name__}: {reason}")
        return []
    print(f"{name} on {ctx.database}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return rows


def context(database: str, workdir: Path, options: Options) -> Context:
    return Context(
        database=database,
        workdir=workdir,
        rounds=options.rounds,
        duration=options.duration,
        warmup=options.warmup,
        quick=options.quick,
    )


async def bench(options: Options) -> tuple[list[Row], dict[str, list[Aim]]]:
    rows: list[Row] = []
    aims: dict[str, list[Aim]] = {}
    for name in options.scenarios:
        module = load_scenario(name)
        if module is None:
            options.problems.append(f"{name}: no module bench/scenarios/{name}.py")
            continue
        aims[name] = list(getattr(module, "AIMS", []))
        for database in options.databases:
            with tempfile.TemporaryDirectory(prefix=f"entente-bench-{name}-") as tmp:
                rows += await run_one(module, name, context(database, Path(tmp), options), options)
    return rows, aims


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per subject (3)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run (10)")
    parser.add_argument("--warmup", type=float, default=3, help="uncounted seconds before (3)")
    parser.add_argument("--deadline", type=float, default=900, help="seconds per scenario (900)")
    parser.add_argument("--quick", action="store_true", help="smoke check: 1 round of 1 s")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    options = Options(
        databases=["sqlite", "postgres"] if args.db == "both" else [args.db],
        scenarios=args.scenarios.split(","),
        rounds=args.rounds,
        duration=args.duration,
        warmup=args.warmup,
        deadline=args.deadline,
    )
    if args.quick:
        options.quick, options.rounds, options.duration, options.warmup = True, 1, 1, 1
    return options


def main(argv: list[str] | None = None) -> None:
    options = parse(argv)
    rows, aims = asyncio.run(bench(options))
    found = verdicts(rows, aims)
    settings = {k: v for k, v in vars(options).items() if k != "problems"}
    path = write(rows, found, options.problems, settings)
    print(path.read_text())
    sys.exit(1 if options.problems else 0)


if __name__ == "__main__":
    main()
