"""The bare app: ``uvicorn bench.bare.app:create_app --factory`` (``bench.harness.start_bare``).

Environment: ``BENCH_DATABASE_URL`` (the project's migrated database) and ``BENCH_KEY_FILE``
(the project's ES256 signing key, PEM). Routes: ``/healthz``, the write scenario's
``bench.bare.write.router``, and ``bench.bare.read.router`` when that module exists.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, FastAPI

from bench.bare import write
from bench.bare.common import public_key
from service.db import build_engine

OPTIONAL_ROUTERS = ("bench.bare.read",)


def optional_routers() -> list[APIRouter]:
    found = []
    for name in OPTIONAL_ROUTERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists but something it imports does not
                raise
            continue
        found.append(module.router)
    return found


def create_app() -> FastAPI:
    url = os.environ["BENCH_DATABASE_URL"]
    key = public_key(Path(os.environ["BENCH_KEY_FILE"]).read_text())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = build_engine(url)
        app.state.key = key
        yield
        await app.state.engine.dispose()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for router in [write.router, *optional_routers()]:
        app.include_router(router)
    return app
