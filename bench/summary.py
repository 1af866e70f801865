"""From the rows of a run to ``bench/results/report.{md,json,png}``: medians, ratios, aims."""

from __future__ import annotations

import json
import platform
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import Aim, Row, median
from bench.report import RESULTS, environment, version_of

PACKAGES = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "asyncpg", "aiosqlite", "python-jose")


@dataclass
class Verdict:
    scenario: str
    database: str
    aim: Aim
    value: float | None

    @property
    def passed(self) -> bool | None:
        if self.value is None:
            return None
        at_least = self.aim.kind.endswith("at_least")
        return self.value >= self.aim.threshold if at_least else self.value <= self.aim.threshold

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "database": self.database,
            "metric": self.aim.metric,
            "kind": self.aim.kind,
            "threshold": self.aim.threshold,
            "label": self.aim.label,
            "value": self.value,
            "passed": self.passed,
        }


def medians(rows: list[Row]) -> dict[tuple[str, str, str, str], float]:
    """(scenario, database, subject, metric) -> median over the rounds."""
    grouped: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    for row in rows:
        grouped[(row.scenario, row.database, row.subject, row.metric)].append(row.value)
    return {key: median(values) for key, values in grouped.items()}


def judge(scenario: str, database: str, aim: Aim, found: dict) -> Verdict:
    if aim.kind.startswith("ratio"):
        mine = found.get((scenario, database, "project", aim.metric))
        theirs = found.get((scenario, database, "bare", aim.metric))
        value = mine / theirs if mine is not None and theirs else None
    else:
        value = found.get((scenario, database, aim.subject, aim.metric))
    return Verdict(scenario, database, aim, None if value is None else round(value, 3))


def verdicts(rows: list[Row], aims: dict[str, list[Aim]]) -> list[Verdict]:
    found = medians(rows)
    databases = sorted({row.database for row in rows})
    return [
        judge(scenario, database, aim, found)
        for scenario, listed in aims.items()
        for database in databases
        if any(r.scenario == scenario and r.database == database for r in rows)
        for aim in listed
    ]


# -- environment --------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def command_output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (
        (done.stdout or done.stderr).strip().splitlines()[0] if done.stdout or done.stderr else ""
    )


def full_environment() -> dict[str, Any]:
    return {
        **environment(),
        "cpu_model": cpu_model(),
        "git_revision": command_output(["git", "rev-parse", "--short", "HEAD"]),
        "git_dirty": bool(command_output(["git", "status", "--porcelain"])),
        "wrk": command_output(["wrk", "-v"]),
        "postgresql": command_output(["psql", "--version"]),
        **{package: version_of(package) for package in PACKAGES},
    }


# -- report -------------------------------------------------------------------------------------


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def scenario_table(scenario: str, rows: list[Row], found: dict) -> list[str]:
    keys = sorted({(r.database, r.metric, r.unit) for r in rows if r.scenario == scenario})
    lines = ["| database | metric | project | bare | project/bare | unit | rounds |"]
    lines.append("| --- | --- | ---: | ---: | ---: | --- | ---: |")
    for database, metric, unit in keys:
        mine = found.get((scenario, database, "project", metric))
        theirs = found.get((scenario, database, "bare", metric))
        ratio = mine / theirs if mine is not None and theirs else None
        count = sum(
            1
            for r in rows
            if (r.scenario, r.database, r.metric, r.subject)
            == (scenario, database, metric, "project")
        )
        lines.append(
            f"| {database} | {metric} | {fmt(mine)} | {fmt(theirs)} | "
            f"{fmt(ratio) if ratio is not None else '-'} | {unit} | {count} |"
        )
    derived = [(k, v) for k, v in found.items() if k[0] == scenario and k[2] == "derived"]
    lines += [f"| {k[1]} | {k[3]} ({k[2]}) | {fmt(v)} | | | | |" for k, v in sorted(derived)]
    return lines


def aims_table(found: list[Verdict]) -> list[str]:
    lines = ["| scenario | database | aim | value | result |", "| --- | --- | --- | ---: | --- |"]
    for v in found:
        result = {True: "**pass**", False: "**FAIL**", None: "not measured"}[v.passed]
        lines.append(f"| {v.scenario} | {v.database} | {v.aim.label} | {fmt(v.value)} | {result} |")
    return lines


def markdown(rows: list[Row], found: list[Verdict], env: dict, problems: list[str]) -> str:
    by_key = medians(rows)
    lines = [
        "# Entente benchmark",
        "",
        f"Service {env['service_digest']} (git {env['git_revision']}",
    ]
    lines[-1] += f"{', uncommitted changes' if env['git_dirty'] else ''}), {env['cpus']} CPUs "
    lines[-1] += f"({env['cpu_model']}), Python {env['python']}. Medians over the rounds."
    lines += ["", "## Aims", "", *aims_table(found)]
    for scenario in sorted({r.scenario for r in rows}):
        lines += ["", f"## {scenario}", "", *scenario_table(scenario, rows, by_key)]
    if problems:
        lines += ["", "## Not measured", "", *[f"- {p}" for p in problems]]
    return "\n".join(lines) + "\n"


def chart(found: list[Verdict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = [v for v in found if v.value is not None]
    if not measured:
        return
    labels = [f"{v.scenario} {v.database}: {v.aim.metric}" for v in measured]
    figure, axes = plt.subplots(figsize=(max(7, 0.9 * len(measured)), 5.5))
    colors = ["tab:green" if v.passed else "tab:red" for v in measured]
    heights = [v.value / v.aim.threshold for v in measured]
    bars = axes.bar(range(len(measured)), heights, color=colors)
    axes.bar_label(bars, labels=[fmt(v.value) for v in measured], fontsize=7)
    axes.axhline(1.0, color="black", linestyle="--", label="target")
    axes.set_xticks(range(len(measured)), labels, fontsize=7, rotation=35, ha="right")
    axes.set_ylabel("value / target (>= 1 good for 'at least', <= 1 for 'at most')")
    axes.set_title("Entente bench: each aim's figure relative to its target")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write(
    rows: list[Row],
    found: list[Verdict],
    problems: list[str],
    options: dict,
    directory: Path = RESULTS,
) -> Path:
    """``report.json``, ``report.md`` and ``report.png`` in ``directory``; the Markdown's path."""
    directory.mkdir(parents=True, exist_ok=True)
    env = full_environment()
    document = {
        "environment": env,
        "options": options,
        "aims": [v.as_dict() for v in found],
        "rows": [r.as_dict() for r in rows],
        "problems": problems,
    }
    (directory / "report.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    (directory / "report.md").write_text(markdown(rows, found, env, problems))
    chart(found, directory / "report.png")
    return directory / "report.md"
