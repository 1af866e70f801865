"""The app's routes as a flat list, whether or not FastAPI keeps included routers nested."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import routing
from starlette.routing import BaseRoute, get_route_path
from starlette.types import Scope


def flat_routes(routes: Sequence[BaseRoute]) -> list[Any]:
    iterate = getattr(routing, "iter_route_contexts", None)  # FastAPI that nests routers
    return list(iterate(routes)) if iterate else list(routes)


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route serves at this request's path (for a 405's ``Allow``).

    Starlette answers 405 from the first route whose path matches, so its ``Allow`` names that
    route's methods only, though GET and POST of one path are usually two routes.
    """
    path = get_route_path(scope)
    methods: set[str] = set()
    for context in flat_routes(routes):
        regex = getattr(context, "path_regex", None)
        route = getattr(context, "original_route", context)
        if regex is not None and regex.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)
