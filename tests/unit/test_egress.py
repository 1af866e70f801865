"""Which webhook URLs may be reached: every name goes through an injected resolver, no network."""

from __future__ import annotations

import asyncio
import re
import socket

import httpx
import pytest

from service.errors import InvalidInput
from service.webhooks.egress import Destination, EgressPolicy, RefusedUrl, Resolver

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:4700:4700::1111"
UNSPECIFIED = "0.0.0.0"  # noqa: S104 (a DNS answer to refuse, not an address to bind)


def resolver(table: dict[str, list[str]]) -> Resolver:
    """A resolver answering from ``table``; any other name does not exist."""

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


async def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host!r} must not be resolved: it is an IP literal or malformed")


async def refusal(policy: EgressPolicy, url: str) -> str:
    with pytest.raises(RefusedUrl) as refused:
        await policy.destination(url)
    return refused.value.detail or ""


# URLs refused on their form or on their literal address: no DNS needed, nor consulted.
REFUSED_WITHOUT_DNS = [
    ("http://2130706433/", "is the address 127.0.0.1, a loopback address"),
    ("http://0x7f000001/", "is the address 127.0.0.1, a loopback address"),
    ("http://0X7F000001/", "is the address 127.0.0.1, a loopback address"),
    ("http://017700000001/", "is the address 127.0.0.1, a loopback address"),
    ("http://0177.0.0.1/", "is the address 127.0.0.1, a loopback address"),
    ("http://127.1/", "is the address 127.0.0.1, a loopback address"),
    ("http://127.0.0.1./", "a loopback address"),
    ("http://0/", "the unspecified address"),
    ("http://0.0.0.0/", "the unspecified address"),
    ("http://0.1.2.3/", "a 'this network' address"),
    ("http://[::1]/", "a loopback address"),
    ("http://[0:0:0:0:0:0:0:1]/", "a loopback address"),
    ("http://[::]/", "the unspecified address"),
    ("http://[::ffff:127.0.0.1]/", "an IPv4-mapped address embedding 127.0.0.1, a loopback"),
    ("http://[::ffff:7f00:1]/", "an IPv4-mapped address embedding 127.0.0.1, a loopback"),
    ("http://[::ffff:0.0.0.0]/", "the unspecified address"),
    ("http://[::7f00:1]/", "an IPv4-compatible address embedding 127.0.0.1, a loopback"),
    ("http://[::1.1.1.1]/", "a reserved address"),
    ("http://[64:ff9b::7f00:1]/", "a NAT64 address embedding 127.0.0.1, a loopback"),
    ("http://[64:ff9b::a00:1]/", "a NAT64 address embedding 10.0.0.1, a private"),
    ("http://[64:ff9b:1::a9fe:a9fe]/", "embedding 169.254.169.254, a cloud metadata"),
    ("http://[64:ff9b:1::101:101]/", "a local-use NAT64 address"),
    ("http://[2002:7f00:1::]/", "a 6to4 address embedding 127.0.0.1, a loopback"),
    ("http://[2002:101:101::1]/", "a 6to4 tunnel address"),
    ("http://[2001:0:a00:1::1]/", "a Teredo address embedding 10.0.0.1, a private"),
    ("http://[2001:0:101:101::80ff:fffe]/", "a Teredo address embedding 127.0.0.1"),
    ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
    ("http://[::ffff:169.254.169.254]/", "a cloud metadata address"),
    ("http://[fd00:ec2::254]/", "a cloud metadata address"),
    ("http://169.254.1.1/", "a link-local address"),
    ("http://[fe80::1%25eth0]/", "a link-local address"),
    ("http://[fec0::1]/", "a site-local address"),
    ("http://[fd12:3456::1]/", "a private (unique local) address"),
    ("http://100.64.0.1/", "a carrier-grade NAT (shared) address"),
    ("http://192.168.1.10/", "a private address"),
    ("http://10.0.0.1/", "a private address"),
    ("http://172.16.0.1/", "a private address"),
    ("http://224.0.0.1/", "a multicast address"),  # is_global says True on 3.11
    ("http://[ff02::1]/", "a multicast address"),  # likewise
    ("http://255.255.255.255/", "the broadcast address"),
    ("http://240.0.0.1/", "a reserved address"),
    ("http://192.0.2.1/", "a documentation address"),
    ("http://[2001:db8::1]/", "a documentation address"),
    ("http://[3fff::1]/", "a documentation address"),  # is_global says True on 3.11
    ("http://198.18.0.1/", "a benchmarking address"),
    ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "the address 127.0.0.1"),  # full-width
    ("http://%31%32%37.0.0.1/", "looks like an IPv4 address but is not a valid one"),
    ("http://1.2.3.4.5/", "looks like an IPv4 address but is not a valid one"),
    ("http://08.0.0.1/", "looks like an IPv4 address but is not a valid one"),
    ("http://256.0.0.1/", "looks like an IPv4 address but is not a valid one"),
    ("http://example.123/", "looks like an IPv4 address but is not a valid one"),
    ("http://[2606:4700:4700::1111%25eth0]/", "zone identifier"),
    ("http://[v1.fe]/", "not a valid IPv6"),
    ("ftp://example.org/", "scheme is 'ftp'"),
    ("file:///etc/passwd", "scheme is 'file'"),
    ("gopher://example.org:70/", "scheme is 'gopher'"),
    ("example.org/hook", "scheme is missing"),
    ("http://user:pass@example.org/", "credentials"),
    ("https://token@example.org/", "credentials"),
    ("http:///hook", "no host"),
    ("http://example.org:0/", "port 0 is outside 1 to 65535"),
    ("http://example.org:65536/", "port 65536 is outside 1 to 65535"),
    ("http://example.org:http/", "port 'http' is not a number"),
    ("http://example.org/hook#part", "fragment"),
    ("http://exa mple.org/", "spaces"),
    ("http://example.org\\@127.0.0.1/", "backslashes"),
    ("http://exam!ple.org/", "not a valid host name"),
    ("https://example.org/" + "a" * 2048, "longer than 2048 characters"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED_WITHOUT_DNS)
async def test_refused_without_resolving(url: str, reason: str) -> None:
    policy = EgressPolicy(resolver=no_dns)

    assert reason in await refusal(policy, url)
    with pytest.raises(RefusedUrl, match=re.escape(reason)):
        policy.check_form(url)


# Names that pass the form checks but resolve somewhere webhooks may not go.
REFUSED_AFTER_DNS = [
    ("http://localhost./", ["127.0.0.1"], "host 'localhost.' resolves to 127.0.0.1, a loopback"),
    ("http://LOCALHOST/", ["::1", "127.0.0.1"], "resolves to ::1, a loopback address"),
    ("http://internal.example/", ["10.1.2.3"], "resolves to 10.1.2.3, a private address"),
    ("http://mixed.example/", [PUBLIC_V4, "10.0.0.7"], "resolves to 10.0.0.7, a private"),
    ("http://mixed.example/", [PUBLIC_V6, "fe80::1%eth0"], "fe80::1, a link-local address"),
    ("http://meta.example/", ["169.254.169.254"], "a cloud metadata address"),
    ("http://mapped.example/", ["::ffff:10.0.0.1"], "IPv4-mapped address embedding 10.0.0.1"),
    ("http://zero.example/", [UNSPECIFIED], "the unspecified address"),
]


@pytest.mark.parametrize(("url", "answers", "reason"), REFUSED_AFTER_DNS)
async def test_refused_after_resolving(url: str, answers: list[str], reason: str) -> None:
    host = url.split("/")[2].lower()
    policy = EgressPolicy(resolver=resolver({host: answers}))

    policy.check_form(url)  # nothing wrong with the name itself
    detail = await refusal(policy, url)

    assert reason in detail
    assert detail.endswith("which webhooks may not reach.")


def test_refusal_is_an_invalid_input_problem() -> None:
    with pytest.raises(InvalidInput) as refused:
        EgressPolicy().check_form("ftp://example.org/")

    assert refused.value.status == 422
    assert refused.value.code == "webhook-url-refused"
    assert refused.value.title == "Webhook URL refused"


async def test_public_https_name_is_admitted_with_its_checked_address() -> None:
    policy = EgressPolicy(resolver=resolver({"receiver.example": [PUBLIC_V4]}))

    destination = await policy.destination("https://Receiver.Example:8443/hooks/in?x=1&y=2")

    assert destination == Destination(
        url="https://Receiver.Example:8443/hooks/in?x=1&y=2",
        scheme="https",
        host="receiver.example",
        port=8443,
        address=PUBLIC_V4,
    )
    assert destination.request_url() == f"https://{PUBLIC_V4}:8443/hooks/in?x=1&y=2"
    assert destination.host_header() == "receiver.example:8443"
    assert destination.extensions() == {"sni_hostname": "receiver.example"}


async def test_plain_http_on_the_default_port() -> None:
    policy = EgressPolicy(resolver=resolver({"receiver.example": [PUBLIC_V4]}))

    destination = await policy.destination("http://receiver.example")

    assert destination.port == 80
    assert destination.request_url() == f"http://{PUBLIC_V4}/"
    assert destination.host_header() == "receiver.example"
    assert destination.extensions() == {}


async def test_ipv6_only_receiver_is_reached_in_brackets() -> None:
    policy = EgressPolicy(resolver=resolver({"v6.example": [PUBLIC_V6]}))

    destination = await policy.destination("https://v6.example/hook")

    assert destination.address == PUBLIC_V6
    assert destination.request_url() == f"https://[{PUBLIC_V6}]/hook"


async def test_ipv4_is_preferred_when_both_families_are_acceptable() -> None:
    policy = EgressPolicy(resolver=resolver({"dual.example": [PUBLIC_V6, "1.1.1.1"]}))

    assert (await policy.destination("https://dual.example/")).address == "1.1.1.1"


@pytest.mark.parametrize(
    ("url", "host", "address", "request_url"),
    [
        ("https://1.1.1.1/hook", "1.1.1.1", "1.1.1.1", "https://1.1.1.1/hook"),
        ("http://16843009:8080/", "1.1.1.1", "1.1.1.1", "http://1.1.1.1:8080/"),
        ("https://[2606:4700:4700:0::1111]/", PUBLIC_V6, PUBLIC_V6, f"https://[{PUBLIC_V6}]/"),
        ("http://[::ffff:1.1.1.1]/", "::ffff:101:101", "1.1.1.1", "http://1.1.1.1/"),
        (
            "http://[64:ff9b::101:101]/",
            "64:ff9b::101:101",
            "64:ff9b::101:101",
            "http://[64:ff9b::101:101]/",
        ),
    ],
)
async def test_public_ip_literals_are_admitted_without_resolving(
    url: str, host: str, address: str, request_url: str
) -> None:
    destination = await EgressPolicy(resolver=no_dns).destination(url)

    assert (destination.host, destination.address) == (host, address)
    assert destination.extensions() == {}  # no SNI for an address
    assert destination.request_url() == request_url


async def test_international_names_are_resolved_in_their_idna_form() -> None:
    policy = EgressPolicy(resolver=resolver({"xn--fa-hia.example": [PUBLIC_V4]}))

    destination = await policy.destination("https://faß.example/")

    assert destination.host_header() == "xn--fa-hia.example"
    assert destination.extensions() == {"sni_hostname": "xn--fa-hia.example"}


async def test_the_sender_connects_to_the_checked_address_and_names_the_host() -> None:
    policy = EgressPolicy(resolver=resolver({"receiver.example": [PUBLIC_V4]}))
    destination = await policy.destination("https://receiver.example/hook")
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        await client.post(
            destination.request_url(),
            headers={"Host": destination.host_header()},
            extensions=destination.extensions(),
        )

    assert seen[0].url.host == PUBLIC_V4
    assert seen[0].headers["host"] == "receiver.example"
    assert seen[0].extensions["sni_hostname"] == "receiver.example"


# --- the operator allow-list ----------------------------------------------------------------


async def test_allow_listed_loopback_address() -> None:
    policy = EgressPolicy(["127.0.0.1"], resolver=no_dns)

    destination = await policy.destination("http://127.0.0.1:8123/hook")

    assert destination.address == "127.0.0.1"
    assert destination.request_url() == "http://127.0.0.1:8123/hook"
    assert "a loopback address" in await refusal(policy, "http://127.0.0.2/")


async def test_localhost_is_admitted_only_if_every_address_is_allow_listed() -> None:
    only_v4 = EgressPolicy(["127.0.0.1"], resolver=resolver({"localhost": ["127.0.0.1"]}))
    both = EgressPolicy(["127.0.0.1"], resolver=resolver({"localhost": ["127.0.0.1", "::1"]}))

    assert (await only_v4.destination("http://localhost:8123/")).address == "127.0.0.1"
    assert "resolves to ::1, a loopback address" in await refusal(both, "http://localhost:8123/")


async def test_allow_listed_ipv6_loopback() -> None:
    policy = EgressPolicy(["::1"], resolver=no_dns)

    destination = await policy.destination("http://[::1]:9000/in")

    assert destination.request_url() == "http://[::1]:9000/in"
    assert destination.host_header() == "[::1]:9000"


async def test_allow_listed_network() -> None:
    policy = EgressPolicy(
        [" 10.20.0.0/16 "], resolver=resolver({"gateway.gc.example": ["10.20.3.4"]})
    )

    assert (await policy.destination("https://gateway.gc.example/")).address == "10.20.3.4"
    assert (await policy.destination("http://10.20.255.1/")).address == "10.20.255.1"
    assert "a private address" in await refusal(policy, "http://10.21.0.1/")


async def test_allow_listed_host_name_is_admitted_whatever_it_resolves_to() -> None:
    answers = {"receiver.cbsa.internal.": ["10.9.8.7", "127.0.0.1"]}
    policy = EgressPolicy(["Receiver.CBSA.internal"], resolver=resolver(answers))

    destination = await policy.destination("https://RECEIVER.cbsa.internal./hook")

    assert destination.address == "10.9.8.7"
    assert destination.extensions() == {"sni_hostname": "receiver.cbsa.internal"}


async def test_allow_listed_host_name_admits_no_other_host() -> None:
    answers = {"other.cbsa.internal": ["10.9.8.7"], "receiver.cbsa.internal.evil": ["10.0.0.1"]}
    policy = EgressPolicy(["receiver.cbsa.internal."], resolver=resolver(answers))

    assert "a private address" in await refusal(policy, "https://other.cbsa.internal/")
    assert "a private address" in await refusal(policy, "https://receiver.cbsa.internal.evil/")


@pytest.mark.parametrize("answers", [[UNSPECIFIED], ["10.9.8.7", "::"], ["::ffff:0.0.0.0"]])
async def test_allow_listed_host_name_never_reaches_the_unspecified_address(
    answers: list[str],
) -> None:
    policy = EgressPolicy(
        ["receiver.cbsa.internal"], resolver=resolver({"receiver.cbsa.internal": answers})
    )

    assert "the unspecified address" in await refusal(policy, "https://receiver.cbsa.internal/")


async def test_unspecified_address_is_never_admitted_by_a_network_either() -> None:
    policy = EgressPolicy(["0.0.0.0/8", "::/0"], resolver=no_dns)

    assert "the unspecified address" in await refusal(policy, "http://0.0.0.0/")
    assert "the unspecified address" in await refusal(policy, "http://[::]/")


async def test_metadata_is_admitted_only_when_listed_on_its_own() -> None:
    wide = EgressPolicy(["169.254.0.0/16"], resolver=no_dns)
    named_host = EgressPolicy(
        ["meta.internal"], resolver=resolver({"meta.internal": ["169.254.169.254"]})
    )
    exact = EgressPolicy(["169.254.169.254"], resolver=no_dns)
    url = "http://169.254.169.254/latest/meta-data/"

    assert (await wide.destination("http://169.254.10.10/")).address == "169.254.10.10"
    assert "a cloud metadata address" in await refusal(wide, url)
    assert "a cloud metadata address" in await refusal(named_host, "http://meta.internal/")
    assert (await exact.destination(url)).address == "169.254.169.254"


def test_check_form_applies_the_allow_list_to_literals() -> None:
    EgressPolicy(["127.0.0.1"]).check_form("http://127.0.0.1:8123/hook")
    EgressPolicy().check_form("https://receiver.example/hook")  # names wait for resolution


@pytest.mark.parametrize(
    "entry",
    ["", "  ", "10.0.0.0/33", "10.0.0.1/8", "300.1.1.1", "0177.0.0.1", "fe80::1%eth0", "a b"],
)
def test_bad_allow_list_entries_are_named(entry: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(entry))):
        EgressPolicy(["127.0.0.1", entry])


# --- resolution -----------------------------------------------------------------------------


async def test_unknown_name_is_refused() -> None:
    policy = EgressPolicy(resolver=resolver({}))

    detail = await refusal(policy, "https://nowhere.example/")

    assert detail == "The host 'nowhere.example' could not be resolved."


@pytest.mark.parametrize("answers", [[], ["not-an-address"]])
async def test_useless_answers_are_refused(answers: list[str]) -> None:
    policy = EgressPolicy(resolver=resolver({"odd.example": answers}))

    assert "The host 'odd.example' " in await refusal(policy, "https://odd.example/")


async def test_slow_resolver_is_refused_in_time() -> None:
    async def slow(host: str, port: int) -> list[str]:
        await asyncio.sleep(30)
        return [PUBLIC_V4]

    policy = EgressPolicy(resolver=slow, resolve_timeout=0.01)

    detail = await refusal(policy, "https://slow.example/")

    assert detail == "The host 'slow.example' could not be resolved in time."


async def test_default_resolver_asks_getaddrinfo_for_a_stream_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, int, int]] = []

    async def fake_getaddrinfo(host: str, port: int, *, type: int = 0) -> list[tuple]:
        calls.append((host, port, type))
        return [
            (socket.AF_INET6, type, 6, "", (PUBLIC_V6, port, 0, 0)),
            (socket.AF_INET, type, 6, "", (PUBLIC_V4, port)),
        ]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake_getaddrinfo)

    destination = await EgressPolicy().destination("https://receiver.example:8443/")

    assert calls == [("receiver.example", 8443, socket.SOCK_STREAM)]
    assert destination.address == PUBLIC_V4


async def test_default_resolver_failure_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def failing_getaddrinfo(host: str, port: int, *, type: int = 0) -> list[tuple]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", failing_getaddrinfo)

    assert "could not be resolved" in await refusal(EgressPolicy(), "https://gone.example/")


def test_plain_http_is_refused_unless_the_operator_allows_it():
    with pytest.raises(RefusedUrl, match="Only https"):
        EgressPolicy(allow_http=False).check_form("http://1.1.1.1/hook")
    EgressPolicy(allow_http=True).check_form("http://1.1.1.1/hook")
