"""``entente worker`` with the steps of its loops timed, for ``python -m bench.webhooks --trace``.

Run as ``python -m bench.trace_worker --name w1`` (the same arguments as ``entente worker``).
It wraps, without changing them, the functions the worker calls: ``fanout.fan_out``,
``queue.claim``, ``record`` (one recording transaction), ``Sender.send`` and ``Worker.sleep``
(the dispatch loop waiting to be woken), and at exit writes one JSON line per call (step,
start, end as ``time.time()``, and a count: deliveries fanned out, claimed or recorded) to
``$BENCH_TRACE_DIR/<name>.jsonl``.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.cli import main as entente
from service.webhooks import fanout, queue
from service.webhooks import worker as worker_module
from service.webhooks.sender import Sender

TRACE: list[tuple[str, float, float, int]] = []


def count_of(result: Any) -> int:
    if isinstance(result, int | bool):
        return int(result)
    try:
        return len(result)
    except TypeError:
        return 1


def timed(step: str, function: Callable[..., Any], counted_arg: int | None = None) -> Any:
    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.time()
        result = await function(*args, **kwargs)
        n = count_of(args[counted_arg]) if counted_arg is not None else count_of(result)
        TRACE.append((step, start, time.time(), n))
        return result

    return wrapper


def install() -> None:
    # The worker calls fanout.fan_out and queue.claim through their modules, and its own
    # imported name ``record``, so replacing these attributes is enough.
    fanout.fan_out = timed("fan_out", fanout.fan_out)
    queue.claim = timed("claim", queue.claim)
    worker_module.record = timed("record", worker_module.record, counted_arg=2)
    Sender.send = timed("send", Sender.send)
    worker_module.Worker.sleep = timed("sleep", worker_module.Worker.sleep)


def write(name: str) -> None:
    directory = Path(os.environ.get("BENCH_TRACE_DIR", "."))
    with (directory / f"{name}.jsonl").open("w") as out:
        for step, start, end, n in TRACE:
            out.write(json.dumps({"step": step, "start": start, "end": end, "n": n}) + "\n")


def main() -> None:
    name = sys.argv[sys.argv.index("--name") + 1] if "--name" in sys.argv else str(os.getpid())
    install()
    atexit.register(write, name)
    sys.argv = ["entente", "worker", *sys.argv[1:]]
    entente()


if __name__ == "__main__":
    main()
