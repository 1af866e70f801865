"""A Hypothesis state machine over one dialogue, driving the real API as random parties.

Every rule is an HTTP call by a party drawn at random (one likely to succeed two times in
three, anyone the third), so many attempts are refused; the model predicts each answer's
status and the invariants (``tests.stateful.invariants``) are checked after every step.

Hypothesis runs rules synchronously, so the machine runs in a worker thread and hands each call
to the test's event loop. Each example works inside a SAVEPOINT of the test's connection, rolled
back at teardown: a fresh dialogue for every example without building the world again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, ClassVar
from uuid import uuid4

import httpx
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
)

from service.api.pagination import encode_position
from tests.assurances.helpers import certificate, request_body, submission
from tests.consultations.helpers import in_days, new_consultation
from tests.domain import permit_body
from tests.notices.helpers import notice_body
from tests.stateful.invariants import Start, check_all, start_of
from tests.stateful.model import HIDDEN_FROM_OBSERVERS, Assurance, Consultation, Model, Notice
from tests.stateful.parties import (
    AUTHORITY,
    COUNTERPART,
    LATE_OBSERVER,
    OBSERVER,
    OUTSIDER,
    PARTIES,
    Stage,
    allowed,
)

API = "/api/v1"
NUMBERS = ["EXP-1", "EXP-2", "EXP-3", "exp-1", "EXP-4", "EXP-5", "EXP-6"]
KINDS = ["suspension", "reinstatement", "cancellation", "general"]
STRAYS = [None, None, None, "unknown", "foreign"]  # a reference outside the dialogue, at times
STEP_RULES = {  # assurance step -> (action of SPEC section 2, status it starts from, result)
    "submit": ("submit", "requested", "submitted"),
    "accept": ("decide", "submitted", "accepted"),
    "reject": ("decide", "submitted", "rejected"),
    "withdraw": ("submit", "submitted", "withdrawn"),
}
STEP_BODIES = {
    "submit": certificate(),
    "accept": {},
    "reject": {"reason": "The end user named is not the one on the permit."},
    "withdraw": {},
}
OBSERVER_CANDIDATES = [LATE_OBSERVER, OBSERVER, COUNTERPART, OUTSIDER]
MAX_PERMITS = 8


def party(*likely: str) -> st.SearchStrategy[str]:
    """A party likely to succeed two times in three (so the workflow gets deep), else anyone."""
    likely_one = st.sampled_from(likely)
    return st.one_of(likely_one, likely_one, st.sampled_from(sorted(PARTIES)))


def refs(bundle: Bundle, *, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    """Up to three ids of the bundle, each once (repeats dropped rather than filtered out)."""
    drawn = st.lists(bundle, min_size=min_size, max_size=3)
    return drawn.map(lambda ids: list(dict.fromkeys(ids)))


async def savepoint(connection: Any) -> Any:
    return await connection.begin_nested()


class DialogueMachine(RuleBasedStateMachine):
    stage: ClassVar[Stage]
    loop: ClassVar[asyncio.AbstractEventLoop]
    random_refusals: ClassVar[dict[tuple[str, str], dict[str, Any]]] = {}

    permits = Bundle("permits")
    assurances = Bundle("assurances")
    consultations = Bundle("consultations")
    notices = Bundle("notices")

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.dialogue = str(self.stage.world.dialogue_id)
        self.savepoint = self.run(savepoint(self.stage.connection))
        self.start: Start = self.run(start_of(self.stage.app.state.database))
        self.touched: list[tuple[str, str]] = []
        self.last_post: tuple[str, dict, Any, httpx.Response] | None = None

    def teardown(self) -> None:
        self.run(self.savepoint.rollback())

    # -- plumbing

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def call(
        self, method: str, path: str, who: str, expected: int, json: Any = None, probe: bool = False
    ) -> httpx.Response:
        headers = dict(self.stage.people[who].headers)
        if method == "POST":  # every POST may be retried (``retry_last_post``)
            headers["Idempotency-Key"] = str(uuid4())
        response = self.send(method, path, headers, json)
        assert response.status_code == expected, (
            f"{method} {path} as {who}: expected {expected}, "
            f"got {response.status_code}: {response.text[:600]}"
        )
        if expected in (403, 404):
            self.model.denials += 1  # each refusal is an audit entry (SPEC section 5)
        if method == "POST":
            self.last_post = (path, headers, json, response)
        if not probe:
            event(f"{method} {path.split('/')[1]}…{path.rsplit('/', 1)[-1][:12]} -> {expected}")
        return response

    def send(self, method: str, path: str, headers: dict, json: Any) -> httpx.Response:
        request = self.stage.client.request(method, API + path, json=json, headers=headers)
        return self.run(request)

    def look(self, path: str, who: str, expected: int) -> Any:
        """A probe of the invariants: a GET whose answer is checked, its body."""
        return self.call("GET", path, who, expected, probe=True).json()

    def side(self, who: str) -> str | None:
        return self.model.side(PARTIES[who])

    def stray(self, kind: str | None) -> list[str]:
        if kind == "unknown":
            return [str(uuid4())]
        return [self.stage.foreign_permit_id] if kind == "foreign" else []

    def created(self, kind: str, entity_id: str, event: str | None) -> str:
        if event:
            self.model.events[(event, entity_id)] += 1
        self.touched.append((kind, entity_id))
        return entity_id

    # -- permits

    @precondition(lambda self: len(self.model.permits) < MAX_PERMITS)
    @rule(
        target=permits,
        who=party("officer", "permit_system", "gac_system"),
        number=st.sampled_from(NUMBERS),
    )
    def register_permit(self, who: str, number: str) -> Any:
        expected = self.model.in_dialogue(PARTIES[who], "register", hidden_from_observers=False)
        if expected is None:
            expected = 409 if number.casefold() in self.model.numbers else 201
        path = f"/dialogues/{self.dialogue}/permits"
        response = self.call("POST", path, who, expected, json=permit_body(number))
        if expected != 201:
            return multiple()
        body = response.json()
        assert body["status"] == "active"
        self.model.permits[body["id"]] = "active"
        self.model.numbers.add(number.casefold())
        return self.created("permit", body["id"], "permit.registered")

    @precondition(lambda self: len(self.model.permits) < MAX_PERMITS)
    @rule(
        target=permits,
        who=party("officer", "gac_system"),
        numbers=st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=3),
    )
    def register_bulk(self, who: str, numbers: list[str]) -> Any:
        """All or nothing: one number taken or repeated and none is stored (409)."""
        expected = self.model.in_dialogue(PARTIES[who], "register", hidden_from_observers=False)
        keys = [number.casefold() for number in numbers]
        if expected is None:
            clash = len(set(keys)) < len(keys) or bool(set(keys) & self.model.numbers)
            expected = 409 if clash else 201
        body = {"permits": [permit_body(number) for number in numbers]}
        path = f"/dialogues/{self.dialogue}/permits/bulk"
        response = self.call("POST", path, who, expected, json=body)
        if expected != 201:
            return multiple()
        ids = [item["id"] for item in response.json()["items"]]
        for permit_id in ids:
            self.model.permits[permit_id] = "active"
            self.created("permit", permit_id, "permit.registered")
        self.model.numbers.update(keys)
        return multiple(*ids)

    # -- assurances

    def create_expectation(self, who: str, shape: str, permit_ids: list[str]) -> int:
        """POST .../assurances: the authority requests, the counterpart submits (SPEC 8)."""
        side = self.side(who)
        if side is None or side == "observer":
            return 404
        action = "request" if side == "authority" else "submit"
        if not allowed(PARTIES[who], side, action):
            return 403
        if shape != action or self.model.unknown(permit_ids, []):
            return 422
        return 201

    @precondition(lambda self: self.model.permits)  # lists of a bundle need a member
    @rule(
        target=assurances,
        who=party("officer", "gac_system", "diplomat", "tr_system"),
        shape=st.sampled_from(["request", "submit"]),
        permit_ids=refs(permits, min_size=1),
        stray=st.sampled_from(STRAYS),
    )
    def create_assurance(self, who: str, shape: str, permit_ids: list[str], stray: str) -> Any:
        permit_ids = permit_ids + self.stray(stray)
        expected = self.create_expectation(who, shape, permit_ids)
        body = request_body(permit_ids) if shape == "request" else submission(permit_ids)
        path = f"/dialogues/{self.dialogue}/assurances"
        response = self.call("POST", path, who, expected, json=body)
        if expected != 201:
            return multiple()
        created = response.json()
        status = "requested" if shape == "request" else "submitted"
        assert created["status"] == status
        self.model.assurances[created["id"]] = Assurance(status, permit_ids)
        return self.created("assurance", created["id"], f"assurance.{status}")

    @rule(
        who=party("officer", "diplomat", "tr_officer", "tr_system", "gac_system"),
        assurance=assurances,
        step=st.sampled_from(sorted(STEP_RULES)),
    )
    def move_assurance(self, who: str, assurance: str, step: str) -> None:
        action, from_status, to_status = STEP_RULES[step]
        current = self.model.assurances[assurance]
        expected = self.model.on_object(PARTIES[who], "assurance", action)
        if expected is None:
            expected = 409 if current.status != from_status else 200
        path = f"/assurances/{assurance}/{step}"
        response = self.call("POST", path, who, expected, json=STEP_BODIES[step])
        if expected == 200:
            assert response.json()["status"] == to_status
            current.status = to_status
            self.created("assurance", assurance, f"assurance.{to_status}")

    # -- consultations

    @precondition(lambda self: self.model.permits)  # lists of a bundle need a member
    @rule(
        target=consultations,
        who=party("officer", "diplomat", "tr_system"),
        permit_ids=refs(permits),
        stray=st.sampled_from(STRAYS),
    )
    def open_consultation(self, who: str, permit_ids: list[str], stray: str) -> Any:
        permit_ids = permit_ids + self.stray(stray)
        expected = self.model.in_dialogue(PARTIES[who], "consult", hidden_from_observers=True)
        if expected is None:
            expected = 422 if self.model.unknown(permit_ids, []) else 201
        body = new_consultation(permit_ids=permit_ids)
        path = f"/dialogues/{self.dialogue}/consultations"
        response = self.call("POST", path, who, expected, json=body)
        if expected != 201:
            return multiple()
        created = response.json()
        assert created["status"] == "open"
        self.model.consultations[created["id"]] = Consultation()
        return self.created("consultation", created["id"], "consultation.opened")

    @rule(
        who=party("officer", "diplomat", "tr_officer", "gac_system"),
        consultation=consultations,
        asks=st.booleans(),
    )
    def post_message(self, who: str, consultation: str, asks: bool) -> None:
        current = self.model.consultations[consultation]
        expected = self.model.on_object(PARTIES[who], "consultation", "consult")
        if expected is None:
            expected = 409 if current.status == "closed" else 201
        body = {"body": "Please confirm where the turrets are."}
        if asks:
            body["response_requested_by"] = in_days(7)
        path = f"/consultations/{consultation}/messages"
        self.call("POST", path, who, expected, json=body)
        if expected == 201:
            self.model.message_posted(consultation, self.side(who), asks)
            self.created("consultation", consultation, "consultation.message_posted")

    @rule(
        who=party("officer", "tr_officer", "diplomat"),
        consultation=consultations,
        outcome=st.sampled_from(["resolved", "no_action"]),
    )
    def close_consultation(self, who: str, consultation: str, outcome: str) -> None:
        current = self.model.consultations[consultation]
        expected = self.model.on_object(PARTIES[who], "consultation", "close")
        if expected is None:
            expected = 409 if current.status == "closed" else 200
        path = f"/consultations/{consultation}/close"
        response = self.call("POST", path, who, expected, json={"outcome": outcome})
        if expected == 200:
            assert response.json()["status"] == "closed"
            current.status, current.awaiting = "closed", None
            self.created("consultation", consultation, "consultation.closed")

    # -- notices

    def draft(
        self, who: str, kind: str, permit_ids: list[str], assurance_ids: list[str], stray: str
    ) -> Any:
        permit_ids = permit_ids + self.stray(stray)
        expected = self.model.in_dialogue(PARTIES[who], "draft", hidden_from_observers=False)
        if expected is None:
            expected = 422 if self.model.unknown(permit_ids, assurance_ids) else 201
        body = notice_body(kind, permit_ids, breached_assurance_ids=assurance_ids)
        path = f"/dialogues/{self.dialogue}/notices"
        response = self.call("POST", path, who, expected, json=body)
        if expected != 201:
            return multiple()
        created = response.json()
        assert (created["status"], created["reference"]) == ("draft", None)
        notice = Notice(kind, permit_ids, assurance_ids, authors={who})
        self.model.notices[created["id"]] = notice
        return self.created("notice", created["id"], None)

    @precondition(lambda self: self.model.permits)  # lists of a bundle need a member
    @rule(
        target=notices,
        who=party("officer", "lead", "gac_system"),
        kind=st.sampled_from(KINDS),
        permit_ids=refs(permits, min_size=1),
        stray=st.sampled_from(STRAYS),
    )
    def draft_notice(self, who: str, kind: str, permit_ids: list[str], stray: str) -> Any:
        return self.draft(who, kind, permit_ids, [], stray)

    @precondition(lambda self: self.model.permits and self.model.assurances)
    @rule(
        target=notices,
        who=party("officer", "lead"),
        kind=st.sampled_from(KINDS),
        permit_ids=refs(permits, min_size=1),
        assurance_ids=refs(assurances, min_size=1),
    )
    def draft_finding(
        self, who: str, kind: str, permit_ids: list[str], assurance_ids: list[str]
    ) -> Any:
        """A notice that finds assurances breached."""
        return self.draft(who, kind, permit_ids, assurance_ids, None)

    @rule(
        who=party("officer", "lead", "approver"),
        notice=notices,
        kind=st.none() | st.sampled_from(KINDS),
        permit_ids=st.none() | refs(permits),
    )
    def edit_notice(
        self, who: str, notice: str, kind: str | None, permit_ids: list[str] | None
    ) -> None:
        current = self.model.notices[notice]
        new_kind = kind or current.kind
        new_permits = current.permit_ids if permit_ids is None else permit_ids
        expected = self.model.on_notice(PARTIES[who], notice, "draft")
        if expected is None and current.status != "draft":
            expected = 409
        if expected is None:
            expected = 422 if new_kind != "general" and not new_permits else 200
        body = {"kind": kind, "permit_ids": permit_ids}
        body = {name: value for name, value in body.items() if value is not None}
        self.call("PATCH", f"/notices/{notice}", who, expected, json=body or {"summary": "New."})
        if expected == 200:
            current.kind, current.permit_ids = new_kind, new_permits
            current.authors.add(who)  # whoever changed a draft may not issue it either
            self.touched.append(("notice", notice))

    @rule(who=party("approver", "approver", "lead", "gac_system"), notice=notices)
    def issue_notice(self, who: str, notice: str) -> None:
        current = self.model.notices[notice]
        expected = self.model.on_notice(PARTIES[who], notice, "issue")
        if expected is None and who in current.authors:
            expected = 403  # four-eyes
        if expected is None:
            expected = 409 if self.model.issue_conflict(current) else 200
        response = self.call("POST", f"/notices/{notice}/issue", who, expected, json={})
        if expected == 200:
            body = response.json()
            assert body["status"] == "issued"
            assert body["reference"].startswith(f"{AUTHORITY}-")
            self.model.issued(notice)
            self.touched.append(("notice", notice))

    @rule(who=party("diplomat", "tr_officer", "tr_system"), notice=notices)
    def acknowledge_notice(self, who: str, notice: str) -> None:
        current = self.model.notices[notice]
        expected = self.model.on_notice(PARTIES[who], notice, "acknowledge")
        if expected is None:
            expected = 409 if current.status != "issued" else 200
        response = self.call("POST", f"/notices/{notice}/acknowledge", who, expected, json={})
        if expected == 200:
            assert response.json()["status"] == "acknowledged"
            current.status = "acknowledged"
            self.created("notice", notice, "notice.acknowledged")

    # -- reading

    @precondition(lambda self: self.model.permits)
    @rule(who=party("cbsa_officer", "ssb_officer", "diplomat", "tr_auditor"), data=st.data())
    def read(self, who: str, data: st.DataObject) -> None:
        kind, entity_id = data.draw(st.sampled_from(self.model.objects()), label="object")
        if kind == "notice":
            expected = self.model.on_notice(PARTIES[who], entity_id, "read_notices")
        else:
            expected = self.model.on_object(PARTIES[who], kind, f"read_{kind}s")
        response = self.call("GET", f"/{kind}s/{entity_id}", who, expected or 200)
        if expected is None:
            body = response.json()
            assert body["status"] == self.model.status_of(kind, entity_id)
            if kind == "consultation":
                assert body["awaiting_side"] == self.model.consultations[entity_id].awaiting

    @rule(
        who=party("diplomat", "cbsa_officer", "tr_system", "permit_system"),
        kind=st.sampled_from(["permit", "assurance", "consultation", "notice"]),
    )
    def list_dialogue(self, who: str, kind: str) -> None:
        """A dialogue's list holds what the caller's side may see of it, all of it."""
        hidden = kind in HIDDEN_FROM_OBSERVERS
        expected = self.model.in_dialogue(
            PARTIES[who], f"read_{kind}s", hidden_from_observers=hidden
        )
        path = f"/dialogues/{self.dialogue}/{kind}s?limit=200"
        response = self.call("GET", path, who, expected or 200)
        if expected is None:
            listed = {item["id"]: item["status"] for item in response.json()["items"]}
            visible = {
                entity_id: self.model.status_of(kind, entity_id)
                for each_kind, entity_id in self.model.objects()
                if each_kind == kind
            }
            if kind == "notice" and self.side(who) != "authority":
                visible = {i: status for i, status in visible.items() if status != "draft"}
            assert listed == visible

    # -- retries

    @precondition(lambda self: self.last_post is not None)
    @rule()
    def retry_last_post(self) -> None:
        """The same Idempotency-Key and body: the first answer again, and nothing changes."""
        path, headers, json, first = self.last_post
        again = self.send("POST", path, headers, json)
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert again.headers.get("idempotent-replayed") == "true"
        event(f"retry -> {first.status_code}")

    # -- observers

    # Once the dialogue has content (what a new observer sees of it matters then), until the
    # late observer has joined.
    @precondition(lambda self: self.model.permits and LATE_OBSERVER not in self.model.observers)
    @rule(who=party("host_admin", "tr_admin"), org=st.sampled_from(OBSERVER_CANDIDATES))
    def add_observer(self, who: str, org: str) -> None:
        side, caller = self.side(who), PARTIES[who]
        if side is None:
            expected = 404
        elif caller.org != AUTHORITY or "admin" not in caller.roles or caller.scopes is not None:
            expected = 403
        elif org not in (OBSERVER, LATE_OBSERVER):
            expected = 422
        else:
            expected = 409 if org in self.model.observers else 200
        body = {"observer_ids": [self.stage.org_ids[org]]}
        self.call("POST", f"/dialogues/{self.dialogue}/observers", who, expected, json=body)
        if expected == 200:
            self.model.add_observer(org)
            self.touched.append(("dialogue", self.dialogue))

    # -- invariants

    @invariant()
    def records_agree(self) -> None:
        database = self.stage.app.state.database
        self.run(check_all(database, self.stage.world.dialogue_id, self.start, self.model))

    @invariant()
    def nothing_leaks(self) -> None:
        """Outsiders see none of the dialogue; observers see only permits and notices.

        Lists and objects are asked for again only after a step that changed something: after
        a refusal, ``records_agree`` has shown that nothing but the refusal's audit entry was
        written, and that entry is what the audit probe looks at.
        """
        self.outsiders_see_no_audit()
        if not self.touched:
            return
        self.outsiders_see_nothing()
        self.observer_feed_is_permits_and_notices()
        for kind, entity_id in dict.fromkeys(self.touched):
            self.unknown_to_outsiders(kind, entity_id)
        self.touched.clear()

    def outsiders_see_nothing(self) -> None:
        listed = self.look("/dialogues?limit=200", "other_admin", 200)["items"]
        assert self.dialogue not in {item["id"] for item in listed}
        feed = self.look("/events?limit=200", "gb_system", 200)["items"]
        assert all(event["dialogue_id"] != self.dialogue for event in feed)

    def outsiders_see_no_audit(self) -> None:
        path = f"/audit?dialogue_id={self.dialogue}&limit=200"
        entries = self.look(path, "other_auditor", 200)["items"]
        # Only its own refused attempts, which it knows of already.
        outsider_org = self.stage.org_ids[OUTSIDER]
        assert all(
            (e["org_id"], e["action"]) == (outsider_org, "access.denied") for e in entries
        ), entries

    def observer_feed_is_permits_and_notices(self) -> None:
        after = encode_position(self.start.outbox_seq) if self.start.outbox_seq else ""
        path = f"/events?limit=200&after={after}" if after else "/events?limit=200"
        expected = sorted(
            event_type
            for (event_type, _), count in self.model.events.items()
            for _ in range(count)
            if event_type.startswith(("permit.", "notice."))
        )
        watchers = ["cbsa_officer"] + (
            ["ssb_officer"] if LATE_OBSERVER in self.model.observers else []
        )
        for who in watchers:
            feed = self.look(path, who, 200)["items"]
            seen = sorted(e["type"] for e in feed if e["dialogue_id"] == self.dialogue)
            assert seen == expected, who

    def unknown_to_outsiders(self, kind: str, entity_id: str) -> None:
        """Whoever may not see the object gets the very answer a random id gets (SPEC 6)."""
        outsiders = self.model.outsiders()
        hidden_from = [outsiders[len(self.model.events) % len(outsiders)]]
        if kind in HIDDEN_FROM_OBSERVERS:
            hidden_from.append("cbsa_officer")
        if kind == "notice" and self.model.notices[entity_id].status == "draft":
            hidden_from += ["cbsa_officer", "diplomat"]  # drafts are the authority's own
        for who in hidden_from:
            self.same_as_random(who, kind, entity_id)

    def same_as_random(self, who: str, kind: str, entity_id: str) -> None:
        known = self.refusal(f"/{kind}s/{entity_id}", who)
        if (who, kind) not in self.random_refusals:  # the same for every random id: ask once
            self.random_refusals[(who, kind)] = self.refusal(f"/{kind}s/{uuid4()}", who)
        assert known == self.random_refusals[(who, kind)], who

    def refusal(self, path: str, who: str) -> dict[str, Any]:
        """A 404's body without what differs per request."""
        body = self.look(path, who, 404)
        return {key: value for key, value in body.items() if key not in ("request_id", "instance")}
