"""Reporting the bench: the environment, the table on stdout, the JSON files."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.receiver import event_loop_name

RESULTS = Path(__file__).resolve().parent / "results"
SERVICE = Path(__file__).resolve().parent.parent / "service"
AIM_P99_MS, AIM_RATIO = 500.0, 0.5


def version_of(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def service_digest() -> str:
    """A short digest of the service's source, naming the code measured (it is not committed)."""
    digest = hashlib.sha256()
    for path in sorted(SERVICE.rglob("*.py")):
        digest.update(path.relative_to(SERVICE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def environment() -> dict[str, Any]:
    return {
        "service_digest": service_digest(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "httpx": version_of("httpx"),
        "httpcore": version_of("httpcore"),
        "sniffio": version_of("sniffio"),
        "receiver_loop": event_loop_name(),
        "platform": platform.platform(),
    }


def aims(result: dict[str, Any]) -> dict[str, bool | None]:
    p99_aim = result["database"] == "postgres" and result["workers"] == 2
    return {
        f"p99_under_{AIM_P99_MS:g}ms": result["latency"]["p99_ms"] < AIM_P99_MS
        if p99_aim
        else None,
        f"throughput_at_least_{AIM_RATIO:g}x_baseline": result["ratio"] >= AIM_RATIO,
    }


def header(env: dict[str, Any]) -> str:
    return (
        f"Entente webhooks bench (service {env['service_digest']}): {env['cpus']} CPUs, "
        f"Python {env['python']}, "
        f"httpx {env['httpx']} (httpcore {env['httpcore']}), sniffio {env['sniffio']}, "
        f"receiver on {env['receiver_loop']}"
    )


COLUMNS = (
    f"{'db':<9}{'workers':>8}  {'latency ms p50/p90/p99/max':<28}{'deliveries':>11}"
    f"{'first ms':>10}{'last ms':>10}{'service/s':>11}{'bare/s':>9}{'ratio':>7}  signatures"
)


def row(result: dict[str, Any]) -> str:
    lat, thr, sig = result["latency"], result["throughput"], result["signatures"]
    latency = f"{lat['p50_ms']:.0f}/{lat['p90_ms']:.0f}/{lat['p99_ms']:.0f}/{lat['max_ms']:.0f}"
    return (
        f"{result['database']:<9}{result['workers']:>8}  {latency:<28}"
        f"{thr['unique']:>5}/{thr['expected']:<5}{thr['first_delivery_ms']:>10.0f}"
        f"{thr['last_delivery_ms']:>10.0f}{thr['per_second']:>11.0f}"
        f"{result['baseline']['per_second']:>9.0f}{result['ratio']:>7.2f}"
        f"  {sig['valid']}/{sig['checked']} valid"
    )


def trace_lines(result: dict[str, Any]) -> list[str]:
    lines = []
    for phase, workers in result.get("trace", {}).items():
        for name, found in workers.items():
            steps = ", ".join(
                f"{step} {v['calls']}x {v['busy_s']:.2f}s ({v['p50_ms']:.0f}/{v['max_ms']:.0f} ms)"
                for step, v in found["steps"].items()
            )
            lines.append(f"  {phase} {name} over {found['window_s']:.2f}s: {steps}")
    return lines


def stage_lines(result: dict[str, Any]) -> list[str]:
    lines = []
    for phase in ("latency", "throughput"):
        found = result[phase]["breakdown"]
        spans = ", ".join(
            f"{name} {v['p50_ms']:.0f}/{v['p90_ms']:.0f}/{v['max_ms']:.0f}"
            for name, v in found["stages"].items()
        )
        lines.append(
            f"  {phase} stages, ms p50/p90/max: {spans}; {found['record_transactions']} "
            f"recording transactions (median {found['record_batch_p50']:g} outcomes)"
        )
        used = ", ".join(f"{name} {cpus:.2f}" for name, cpus in result["cpu"][phase].items())
        lines.append(f"  {phase} CPUs used: {used}")
    return lines


def save(result: dict[str, Any], label: str = "") -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"webhooks-{result['database']}{'-' + label if label else ''}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
