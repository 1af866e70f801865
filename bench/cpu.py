"""CPU time of the processes taking part, read from ``/proc`` (Linux; empty elsewhere).

Comparing two snapshots over a phase tells whether a process was busy (CPU-bound: near 1.0 CPU)
or waiting (on the database, on locks, on being woken). PostgreSQL's share is the sum over the
server processes serving the bench's database (found by its name in their command line).
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROC = Path("/proc")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far; 0 when it cannot be read."""
    try:
        return cpu_seconds_of(PROC / str(pid) / "stat")
    except OSError:
        return 0.0


def cpu_seconds_of(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def backends_of(database: str) -> list[int]:
    """PostgreSQL server processes connected to ``database``."""
    found = []
    for entry in PROC.glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if command.startswith(b"postgres:") and f" {database} ".encode() in command:
            found.append(int(entry.name))
    return found


def snapshot(processes: dict[str, int], database: str | None) -> dict[str, float]:
    """CPU seconds so far, by name; ``postgres`` sums the database's server processes."""
    seconds = {name: cpu_seconds(pid) for name, pid in processes.items()}
    if database:
        seconds["postgres"] = sum(cpu_seconds(pid) for pid in backends_of(database))
    return seconds


def usage(before: dict[str, float], after: dict[str, float], window: float) -> dict[str, float]:
    """CPUs used on average over ``window`` seconds, by name."""
    return {
        name: round((after[name] - before.get(name, 0.0)) / window, 2)
        for name in after
        if window > 0
    }


def threads(pid: int) -> dict[str, float]:
    """CPU seconds so far of each thread of ``pid``, by "<name> <thread id>" (the first is the
    main thread: for a server, its event loop)."""
    found = {}
    for task in sorted((PROC / str(pid) / "task").glob("[0-9]*"), key=lambda t: int(t.name)):
        try:
            name = (task / "comm").read_text().strip()
            found[f"{name} {task.name}"] = cpu_seconds_of(task / "stat")
        except OSError:
            continue
    return found
