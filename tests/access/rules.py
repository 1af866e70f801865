"""The words the access tables are written in, and the status each rule implies for a caller.

A rule says who may know the object at all (``sees``: anyone else gets 404, as for an id that
does not exist), who may do the thing (``may``: anyone else who sees it gets 403) and the status
of success. Anonymous callers get 401 (the web client: a redirect to sign in) unless the route is
public. SPEC.md section 2 is the source of every entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.access.callers import AUT, CTP, OBS, OUT, Caller

ANY_ROLE = frozenset({"officer", "approver", "diplomat", "auditor", "admin"})
SIGN_IN = "sign-in"  # the web client's answer to strangers: 303 to /app/login?next=...


@dataclass(frozen=True)
class Who:
    """A named set of callers."""

    label: str
    test: Callable[[Caller], bool] = field(compare=False)
    scope: str | None = None  # the scope that admits API clients, if one does

    def __call__(self, caller: Caller) -> bool:
        return self.test(caller)

    def __or__(self, other: Who) -> Who:
        return Who(
            f"{self.label} or {other.label}",
            lambda caller: self(caller) or other(caller),
            self.scope or other.scope,
        )

    def __repr__(self) -> str:
        return self.label


def sides(*names: str) -> Who:
    """Everyone of the organizations on these sides of the dialogue, people and systems."""
    return Who("/".join(names), lambda caller: caller.side in names)


def members(on: str | tuple[str, ...], *roles: str, scope: str | None = None) -> Who:
    """People holding one of ``roles`` (any role if none named), or systems holding ``scope``."""
    on = (on,) if isinstance(on, str) else on
    wanted = frozenset(roles) or ANY_ROLE

    def test(caller: Caller) -> bool:
        if caller.side not in on:
            return False
        if caller.is_client:
            return scope is not None and scope in caller.scopes
        return bool(caller.roles & wanted)

    label = f"{'/'.join(on)} {'/'.join(sorted(roles)) or 'anyone'}"
    return Who(label + (f" or {scope}" if scope else ""), test, scope)


def granted(*roles: str, scope: str | None = None) -> Who:
    """Whoever holds one of ``roles`` or ``scope``, in any organization."""
    return members((AUT, CTP, OBS, OUT), *roles, scope=scope)


EVERYONE = Who("everyone signed in", lambda caller: True)
NOBODY = Who("nobody", lambda caller: False)
PEOPLE = Who("people (not systems)", lambda caller: not caller.is_client)
ALL_SIDES = sides(AUT, CTP, OBS)
PARTIES = sides(AUT, CTP)  # observers never see assurances or consultations
HOST_ADMIN = Who("the host's admins", lambda caller: caller.host_admin and not caller.is_client)
ADMINS = granted("admin")


@dataclass(frozen=True)
class Rule:
    may: Who
    sees: Who = EVERYONE
    ok: int = 200
    ids: dict[str, str] = field(default_factory=dict)  # path parameter -> object in the scene
    body: Any = None  # JSON (API) or form fields (web); a callable takes (scene, caller)
    form: bool = False  # the API route takes a form, not JSON
    public: bool = False
    role_first: bool = False  # refuses the role before looking for the object: 403, not 404

    @property
    def scope(self) -> str | None:
        return self.may.scope

    def expected(self, caller: Caller, *, unauthenticated: int | str = 401) -> int | str:
        if self.public:
            return self.ok
        if caller.anonymous:
            return unauthenticated
        if self.role_first and not self.may(caller):
            return 403
        if not self.sees(caller):
            return 404
        return self.ok if self.may(caller) else 403


def public(ok: int = 200, **options: Any) -> Rule:
    return Rule(may=EVERYONE, ok=ok, public=True, **options)
