"""Profile a server under the write scenario's load with py-spy.

Run: ``.venv/bin/python -m bench.profile [--db postgres] [--subject project] [--seconds 15]``.
Starts a fresh target, seeds the parties, opens the write scenario's consultations, then runs
wrk (32 connections) against the project (or the bare app) while ``py-spy record`` samples the
server. Writes ``bench/results/profile-<db>-<subject>.txt`` (the functions with the most own
and total samples) and ``.speedscope.json`` (open it at https://www.speedscope.app or in any
speedscope viewer) and prints the load's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import cpu
from bench.harness import Context, bare, project, seed_parties
from bench.scenarios import write

RESULTS = Path(__file__).parent / "results"


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: pip install -e '.[bench]'")
    return found


def top_functions(speedscope: Path, count: int = 40) -> str:
    """Own and total samples per function from a speedscope file, as a plain table."""
    document = json.loads(speedscope.read_text())
    frames = document["shared"]["frames"]
    own, total, samples = Counter(), Counter(), 0
    for profile in document["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            samples += weight
            if stack:
                own[stack[-1]] += weight
            for index in set(stack):
                total[index] += weight

    def name(index: int) -> str:
        frame = frames[index]
        where = frame.get("file", "").replace(str(Path.cwd()) + "/", "")
        return f"{frame['name']} ({where}:{frame.get('line', '?')})"

    lines = [f"{samples} samples", "", "own %   function"]
    lines += [f"{100 * n / samples:5.1f}   {name(i)}" for i, n in own.most_common(count)]
    lines += ["", "total % function"]
    lines += [f"{100 * n / samples:5.1f}   {name(i)}" for i, n in total.most_common(count)]
    return "\n".join(lines) + "\n"


async def record(pid: int, seconds: int, output: Path) -> asyncio.subprocess.Process:
    command = [py_spy(), "record", "--pid", str(pid), "--duration", str(seconds)]
    command += ["--format", "speedscope", "--output", str(output), "--rate", "100"]
    return await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )


async def profile(ctx: Context, subject: str, seconds: int, sample: bool = True) -> None:
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"profile-{ctx.database}-{subject}"
    speedscope = stem.with_suffix(".speedscope.json")
    async with ctx.target() as target:
        dialogue_id = await seed_parties(target)
        async with project(target) as api, bare(target) as base:
            consultations, tokens = await write.prepare(api, dialogue_id)
            server, prefix = (api, "/api/v1") if subject == "project" else (base, "/write")
            load = write.requests(prefix, consultations, tokens)
            await write.check(server, load[0])
            await ctx.load(server, load, duration=3)  # warm caches before sampling
            spy = await record(server.pid, seconds, speedscope) if sample else None
            database = target.url.rsplit("/", 1)[1] if target.kind == "postgres" else None
            before, started = cpu.snapshot({subject: server.pid}, database), time.time()
            threads_before = cpu.threads(server.pid)
            result = await ctx.load(server, load, duration=seconds)
            threads = cpu.usage(threads_before, cpu.threads(server.pid), time.time() - started)
            used = cpu.usage(
                before, cpu.snapshot({subject: server.pid}, database), time.time() - started
            )
            _, errors = await spy.communicate() if spy else (None, b"")
    print(f"{subject} on {ctx.database}: {result.rps:.0f} req/s, p99 {result.p99_ms:.1f} ms")
    print("CPUs used: " + ", ".join(f"{name} {value:.2f}" for name, value in used.items()))
    busiest = sorted(threads.items(), key=lambda item: -item[1])[:4]
    print(f"{subject}'s busiest threads: " + ", ".join(f"{n} {v:.2f}" for n, v in busiest))
    if spy is None:
        return
    if spy.returncode != 0:
        raise SystemExit(f"py-spy failed: {errors.decode()[-2000:]}")
    stem.with_suffix(".txt").write_text(top_functions(speedscope))
    print(f"wrote {stem}.txt and {speedscope.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--subject", choices=("project", "bare"), default="project")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--no-sample", action="store_true", help="only the load and CPU use")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="entente-profile-") as tmp:
        ctx = Context(options.db, Path(tmp), rounds=1, warmup=1)
        asyncio.run(profile(ctx, options.subject, options.seconds, not options.no_sample))


if __name__ == "__main__":
    main()
