"""Who may do what with parties: pure functions over hand-built principals."""

from uuid import UUID, uuid4

import pytest

from service.auth.principal import Principal
from service.errors import NotAllowed
from service.parties import policies

HOST, AUTHORITY, COUNTERPART, OBSERVER = uuid4(), uuid4(), uuid4(), uuid4()
KIND = {
    HOST: "licensing_authority",
    AUTHORITY: "licensing_authority",
    COUNTERPART: "counterpart_ministry",
    OBSERVER: "observer",
}


def user(org: UUID, *roles: str) -> Principal:
    return Principal(
        kind="user",
        id=uuid4(),
        name="someone",
        org_id=org,
        org_kind=KIND[org],
        org_is_host=org == HOST,
        roles=frozenset(roles),
    )


def api_client(org: UUID, *scopes: str) -> Principal:
    return Principal(
        kind="client",
        id=uuid4(),
        name="system",
        org_id=org,
        org_kind=KIND[org],
        org_is_host=org == HOST,
        scopes=frozenset(scopes),
    )


def test_only_host_admin_creates_organizations():
    assert policies.can_create_organization(user(HOST, "admin"))
    assert not policies.can_create_organization(user(HOST, "officer", "approver", "auditor"))
    assert not policies.can_create_organization(user(AUTHORITY, "admin"))
    assert not policies.can_create_organization(user(COUNTERPART, "admin"))


def test_client_of_host_cannot_create_organizations():
    assert not policies.can_create_organization(api_client(HOST, "permits:write", "audit:read"))


def test_org_admin_manages_only_own_members():
    admin = user(COUNTERPART, "admin")
    assert policies.can_manage_members(admin, COUNTERPART)
    assert not policies.can_manage_members(admin, AUTHORITY)
    assert not policies.can_manage_members(admin, HOST)


def test_host_admin_manages_every_org():
    admin = user(HOST, "admin")
    assert all(policies.can_manage_members(admin, org) for org in KIND)


@pytest.mark.parametrize("roles", [("officer",), ("auditor", "diplomat"), ()])
def test_non_admins_manage_no_one(roles):
    assert not policies.can_manage_members(user(HOST, *roles), HOST)
    assert not policies.can_manage_members(user(COUNTERPART, *roles), COUNTERPART)


def test_clients_manage_no_one():
    every_scope = ("permits:write", "audit:read", "notices:write")
    assert not policies.can_manage_members(api_client(HOST, *every_scope), HOST)


@pytest.mark.parametrize(
    ("kind", "roles", "fits"),
    [
        ("licensing_authority", ["officer", "approver", "diplomat", "auditor", "admin"], True),
        ("counterpart_ministry", ["officer", "diplomat", "auditor", "admin"], True),
        ("counterpart_ministry", ["approver"], False),
        ("counterpart_ministry", ["diplomat", "approver"], False),
        ("observer", ["officer", "admin"], True),
        ("observer", ["auditor"], False),
        ("observer", ["diplomat"], False),
        ("licensing_authority", ["superuser"], False),
    ],
)
def test_roles_fit_the_org_kind(kind, roles, fits):
    assert policies.roles_fit(kind, roles) is fits


def test_authority_admin_opens_dialogues_for_itself_only():
    admin = user(AUTHORITY, "admin")
    assert policies.can_open_dialogue(admin, AUTHORITY)
    assert not policies.can_open_dialogue(admin, HOST)
    assert policies.can_open_dialogue(user(HOST, "admin"), HOST)
    assert not policies.can_open_dialogue(user(HOST, "admin"), AUTHORITY)


@pytest.mark.parametrize(
    "caller",
    [
        user(AUTHORITY, "officer", "approver", "auditor"),
        user(COUNTERPART, "admin"),
        user(OBSERVER, "admin"),
        api_client(AUTHORITY, "permits:write"),
    ],
)
def test_others_never_open_dialogues(caller):
    assert not policies.can_open_dialogue(caller, caller.org_id)


def test_side_of_each_party():
    assert policies.side(AUTHORITY, AUTHORITY, COUNTERPART) == "authority"
    assert policies.side(COUNTERPART, AUTHORITY, COUNTERPART) == "counterpart"
    assert policies.side(OBSERVER, AUTHORITY, COUNTERPART) == "observer"


def test_auditors_and_audit_scoped_clients_read_the_audit():
    assert policies.can_read_audit(user(AUTHORITY, "auditor"))
    assert policies.can_read_audit(user(COUNTERPART, "auditor"))
    assert policies.can_read_audit(api_client(AUTHORITY, "audit:read"))


@pytest.mark.parametrize(
    "caller",
    [
        user(HOST, "admin"),
        user(AUTHORITY, "officer", "approver", "diplomat"),
        api_client(AUTHORITY, "permits:read", "permits:write"),
        api_client(OBSERVER, "audit:read"),
    ],
)
def test_others_do_not_read_the_audit(caller):
    assert not policies.can_read_audit(caller)


def test_a_client_cannot_pose_as_a_role():
    assert not policies.can_read_audit(
        Principal(
            kind="client",
            id=uuid4(),
            name="system",
            org_id=AUTHORITY,
            org_kind="licensing_authority",
            roles=frozenset({"auditor", "admin"}),
        )
    )


def test_require_refuses_with_not_allowed():
    policies.require(True)
    with pytest.raises(NotAllowed):
        policies.require(False)
