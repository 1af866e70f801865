"""Which webhook URLs may be reached, and the checked address to connect to (SSRF defence).

The approach, in order:

1. **Form.** Only ``http``/``https``; no credentials, no fragment (it is never sent, so a URL
   with one is refused rather than silently changed); at most 2048 characters; a port in
   1..65535; a host that is a valid name or an IP literal.
2. **Literals in any spelling.** A host whose last label is numeric is parsed here the way
   ``inet_aton`` and browsers do (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``),
   and such a host is never handed to a resolver: what we check is what we would connect to.
3. **Every address.** A host name is resolved (bounded in time) and *every* address is
   checked; one refused address refuses the URL, because the sender could otherwise be steered
   to it. IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are
   unwrapped and the embedded address is checked too. ``ipaddress.is_global`` is only the last
   net: on Python 3.11 it calls multicast and some reserved ranges global, so the ranges that
   matter are listed explicitly below.
4. **Connect to the checked address.** ``EgressPolicy.destination`` returns a ``Destination``
   carrying the address it checked; the sender connects there (``request_url``) and passes the
   name in the Host header and TLS SNI, so a DNS answer that changes between check and connect
   (rebinding) cannot redirect the request.

Not done here, and the sender's job: never follow redirects (a 3xx is a failure), ignore proxy
environment variables (``trust_env=False``), cap the bytes read and the time waited.

The operator allow-list (``ENTENTE_WEBHOOK_ALLOWED_NETWORKS``) admits named networks or host
names, because government receivers often live on private networks. Two limits hold whatever it
says: the unspecified address (``0.0.0.0``, ``::``, which reaches the local machine) is never
admitted, and a cloud metadata address is admitted only when listed as that single address
(not through a wider range, nor through an allow-listed host name).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna

from service.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}

_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f\\]")  # whitespace, controls, and '\' (read as '/')
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_NAME_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_PORT = re.compile(r"[0-9]{1,5}")

_UNSPECIFIED = "the unspecified address"
_METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254"))
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")

# First match wins, so narrow ranges come before the wider ones that contain them.
_SPECIAL_RANGES: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(network), reason)
    for network, reason in (
        ("0.0.0.0/32", _UNSPECIFIED),
        ("0.0.0.0/8", "a 'this network' address"),
        ("127.0.0.0/8", "a loopback address"),
        ("10.0.0.0/8", "a private address"),
        ("172.16.0.0/12", "a private address"),
        ("192.168.0.0/16", "a private address"),
        ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
        ("169.254.0.0/16", "a link-local address"),
        ("192.0.0.0/24", "a special-purpose (IETF protocol) address"),
        ("192.0.2.0/24", "a documentation address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("192.88.99.0/24", "a deprecated 6to4 relay address"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", _UNSPECIFIED),
        ("::1/128", "a loopback address"),
        ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("100::/64", "a discard-only address"),
        ("5f00::/16", "an SRv6 segment identifier"),
        # Translators and tunnels that are local or relay-dependent (checked after unwrapping).
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("2002::/16", "a 6to4 tunnel address"),
        ("2001::/23", "a special-purpose (IETF protocol or Teredo) address"),
    )
)


class RefusedUrl(InvalidInput):
    code = "webhook-url-refused"
    title = "Webhook URL refused"


@dataclass(frozen=True)
class Destination:
    """A checked webhook target: connect to ``address``, name ``host`` in Host and SNI."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    def request_url(self) -> str:
        """The registered URL aimed at the checked address (same port, path and query)."""
        parts = urlsplit(self.url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.scheme}://{self._authority(self.address)}{parts.path or '/'}{query}"

    def host_header(self) -> str:
        return self._authority(self.host)

    def extensions(self) -> dict[str, str]:
        """httpx request extensions: TLS must name (and verify) the host, not the address."""
        if self.scheme != "https" or _is_ip(self.host):
            return {}
        return {"sni_hostname": self.host.removesuffix(".")}

    def _authority(self, host: str) -> str:
        bracketed = f"[{host}]" if ":" in host else host
        return bracketed if self.port == DEFAULT_PORTS[self.scheme] else f"{bracketed}:{self.port}"


@dataclass(frozen=True)
class _Target:
    """A URL that passed the form checks."""

    scheme: str
    written: str  # the host as it appears in the URL, for messages
    host: str  # lower-cased IDNA name, or the literal in canonical form
    port: int
    literal: IPAddress | None
    zone: str = ""


async def system_resolver(host: str, port: int) -> list[str]:
    """The default resolver: the platform's getaddrinfo, run off the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class EgressPolicy:
    """Decides whether a webhook URL may be reached; see the module docstring."""

    def __init__(
        self,
        allowed: Sequence[str] = (),
        *,
        resolver: Resolver | None = None,
        resolve_timeout: float = 5.0,
        allow_http: bool = True,
    ) -> None:
        entries = [_allow_entry(entry) for entry in allowed]
        self._allow_http = allow_http
        self._networks = [entry for entry in entries if not isinstance(entry, str)]
        self._names = frozenset(entry for entry in entries if isinstance(entry, str))
        self._resolver = resolver or system_resolver
        self._resolve_timeout = resolve_timeout

    def check_form(self, url: str) -> None:
        """Checks that need no DNS: the URL's form, and the address when the host is a literal."""
        target = self._parse(url)
        if target.literal is not None:
            self._check_literal(target, target.literal)

    async def destination(self, url: str) -> Destination:
        """Form checks, then resolve and check every address; the first acceptable one wins."""
        target = self._parse(url)
        if target.literal is not None:
            self._check_literal(target, target.literal)
            addresses = [target.literal]
        else:
            addresses = await self._resolve(target)
            self._check_resolved(target, addresses)
        address = _unmapped(_preferred(addresses))
        return Destination(url, target.scheme, target.host, target.port, str(address))

    def _parse(self, url: str) -> _Target:
        target = _parse(url)
        if target.scheme == "http" and not self._allow_http:
            raise RefusedUrl("Only https webhook URLs are allowed here.")
        return target

    def _check_literal(self, target: _Target, literal: IPAddress) -> None:
        if reason := self._refusal(literal, host_allowed=False):
            subject = f"The host '{target.written}' is the address {literal}"
            raise RefusedUrl(f"{subject}, {reason}, which webhooks may not reach.")
        if target.zone:
            raise RefusedUrl(f"The host '{target.written}' has an IPv6 zone identifier.")

    def _check_resolved(self, target: _Target, addresses: list[IPAddress]) -> None:
        host_allowed = target.host.removesuffix(".") in self._names
        for address in addresses:
            if reason := self._refusal(address, host_allowed=host_allowed):
                subject = f"The host '{target.written}' resolves to {address}"
                raise RefusedUrl(f"{subject}, {reason}, which webhooks may not reach.")

    def _refusal(self, address: IPAddress, *, host_allowed: bool) -> str | None:
        """Why ``address`` may not be reached under this policy, or None if it may."""
        plain = _unmapped(address)
        if plain.is_unspecified:  # reaches the local machine: no allow-list can make it safe
            return _UNSPECIFIED
        if self._admits(plain) or (host_allowed and plain not in _METADATA):
            return None
        return why_not_global(address)

    def _admits(self, address: IPAddress) -> bool:
        if address in _METADATA:  # never admitted by a wide range someone wrote for receivers
            return any(address in net and net.num_addresses == 1 for net in self._networks)
        return any(address in net for net in self._networks)

    async def _resolve(self, target: _Target) -> list[IPAddress]:
        try:
            async with asyncio.timeout(self._resolve_timeout):
                answers = await self._resolver(target.host, target.port)
        except TimeoutError:
            raise RefusedUrl(
                f"The host '{target.written}' could not be resolved in time."
            ) from None
        except (OSError, UnicodeError, ValueError):
            raise RefusedUrl(f"The host '{target.written}' could not be resolved.") from None
        return _answers(target, answers)


def why_not_global(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None if it is one."""
    if address in _METADATA:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        for form, inner in _embedded_ipv4(address):
            if reason := why_not_global(inner):
                return f"{form} embedding {inner}, {reason}"
        if address.ipv4_mapped or address in _NAT64_WELL_KNOWN:
            return None  # traffic goes to the embedded address, just checked and public
    for network, reason in _SPECIAL_RANGES:
        if address in network:
            return reason
    return _fallback_reason(address)


def _fallback_reason(address: IPAddress) -> str | None:
    # The last net for anything the table above does not name (new IANA assignments...).
    if address.version == 6 and address not in _GLOBAL_UNICAST_V6:
        return "a reserved address"
    if not address.is_global or address.is_reserved or address.is_multicast:
        return "an address that is not globally routable"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, with the name of the form that carries them."""
    value = int(address)
    if address.ipv4_mapped:
        return [("an IPv4-mapped address", address.ipv4_mapped)]
    if 1 < value < 2**32:  # ::a.b.c.d, but not :: or ::1
        return [("an IPv4-compatible address", ipaddress.IPv4Address(value))]
    if _is_nat64(address):  # the usual /96 layout; other local-use layouts are refused anyway
        return [("a NAT64 address", ipaddress.IPv4Address(value & 0xFFFFFFFF))]
    if address.sixtofour:
        return [("a 6to4 address", address.sixtofour)]
    if address.teredo:
        server, client = address.teredo
        return [("a Teredo address", server), ("a Teredo address", client)]
    return []


def _is_nat64(address: ipaddress.IPv6Address) -> bool:
    return address in _NAT64_WELL_KNOWN or address in _NAT64_LOCAL


def _unmapped(address: IPAddress) -> IPAddress:
    """``::ffff:a.b.c.d`` is a.b.c.d on the wire: check and connect to it as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _preferred(addresses: list[IPAddress]) -> IPAddress:
    """The first IPv4 address if there is one (more often reachable), else the first."""
    return next((a for a in addresses if _unmapped(a).version == 4), addresses[0])


def _answers(target: _Target, answers: list[str]) -> list[IPAddress]:
    """The resolver's answers as addresses, in order, without duplicates."""
    try:
        # getaddrinfo may add a zone (fe80::1%eth0); the address alone decides.
        parsed = [ipaddress.ip_address(answer.partition("%")[0]) for answer in answers]
    except ValueError:
        raise RefusedUrl(
            f"The host '{target.written}' resolved to something that is not an IP address."
        ) from None
    if not parsed:
        raise RefusedUrl(f"The host '{target.written}' could not be resolved.")
    return list(dict.fromkeys(parsed))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# --- URL form -------------------------------------------------------------------------------


def _parse(url: str) -> _Target:
    scheme, netloc = _scheme_and_authority(url)
    if "@" in netloc:
        raise RefusedUrl(
            "The URL contains credentials (user information before '@'), which webhook URLs "
            "may not carry."
        )
    written, port_text = _split_authority(netloc)
    if not written:
        raise RefusedUrl("The URL has no host.")
    port = _port(port_text, scheme)
    if written.startswith("["):
        literal, zone = _ipv6_literal(written)
        return _Target(scheme, written, str(literal), port, literal, zone)
    host = _ascii_host(written)
    if _looks_numeric(host):
        literal = _ipv4_literal(host, written)
        return _Target(scheme, written, str(literal), port, literal)
    if not _valid_name(host):
        raise RefusedUrl(f"The host '{written}' is not a valid host name.")
    return _Target(scheme, written, host, port, None)


def _scheme_and_authority(url: str) -> tuple[str, str]:
    if len(url) > MAX_URL_LENGTH:
        raise RefusedUrl(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if _UNSAFE_CHARS.search(url):
        raise RefusedUrl("The URL contains spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise RefusedUrl("The URL is not valid.") from None
    if parts.scheme not in DEFAULT_PORTS:
        shown = f"'{parts.scheme}'" if parts.scheme else "missing"
        raise RefusedUrl(f"The scheme is {shown}; webhook URLs must use https or http.")
    if "#" in url:  # never sent to the receiver, so refuse rather than silently drop it
        raise RefusedUrl("The URL has a fragment ('#...'), which webhook URLs may not carry.")
    return parts.scheme, parts.netloc


def _split_authority(netloc: str) -> tuple[str, str]:
    """Host and port text; a bracketed IPv6 host keeps its brackets."""
    if netloc.startswith("["):
        end = netloc.find("]") + 1
        host, rest = netloc[:end], netloc[end:]
        if end == 0 or (rest and not rest.startswith(":")):
            raise RefusedUrl(f"The host '{netloc}' is not a valid IPv6 literal.")
        return host, rest[1:]
    host, _, port = netloc.partition(":")
    return host, port


def _port(text: str, scheme: str) -> int:
    if not text:
        return DEFAULT_PORTS[scheme]
    if not _PORT.fullmatch(text):
        raise RefusedUrl(f"The port '{text}' is not a number between 1 and 65535.")
    port = int(text)
    if not 1 <= port <= 65535:
        raise RefusedUrl(f"The port {port} is outside 1 to 65535.")
    return port


def _ipv6_literal(written: str) -> tuple[ipaddress.IPv6Address, str]:
    """The address inside ``[...]`` and its zone (RFC 6874 writes '%' as '%25')."""
    text, _, zone = written[1:-1].partition("%")
    try:
        return ipaddress.IPv6Address(text), zone
    except ValueError:
        raise RefusedUrl(f"The host '{written}' is not a valid IPv6 address.") from None


def _ascii_host(written: str) -> str:
    """Lower-cased and IDNA-encoded (UTS 46, as browsers do: full-width digits become ASCII)."""
    if written.isascii():
        return written.lower()
    try:
        return idna.encode(written, uts46=True).decode("ascii")
    except UnicodeError:
        raise RefusedUrl(f"The host '{written}' is not a valid host name.") from None


def _looks_numeric(host: str) -> bool:
    """True when resolvers and browsers would read the host as an IPv4 address (or fail)."""
    return bool(_NUMERIC_LABEL.fullmatch(host.removesuffix(".").rpartition(".")[2]))


def _ipv4_literal(host: str, written: str) -> ipaddress.IPv4Address:
    """Parse like inet_aton: 1-4 parts, each decimal, octal (0...) or hex (0x...)."""
    parts = [_ipv4_part(label) for label in host.removesuffix(".").split(".")]
    if len(parts) <= 4 and None not in parts:
        *head, last = [part for part in parts if part is not None]
        if all(part <= 255 for part in head) and last < 256 ** (4 - len(head)):
            value = sum(part << (8 * (3 - i)) for i, part in enumerate(head)) + last
            return ipaddress.IPv4Address(value)
    raise RefusedUrl(f"The host '{written}' looks like an IPv4 address but is not a valid one.")


def _ipv4_part(label: str) -> int | None:
    if label.startswith("0x"):
        return int(label[2:] or "0", 16) if re.fullmatch(r"[0-9a-f]*", label[2:]) else None
    if label.startswith("0") and len(label) > 1:
        return int(label, 8) if re.fullmatch(r"[0-7]+", label) else None
    return int(label) if re.fullmatch(r"[0-9]+", label) else None


def _valid_name(host: str) -> bool:
    name = host.removesuffix(".")
    return len(name) <= 253 and all(_NAME_LABEL.fullmatch(label) for label in name.split("."))


def _allow_entry(entry: str) -> IPNetwork | str:
    """One allow-list entry: a network (a bare address is a /32 or /128) or a host name."""
    text = entry.strip().lower()
    try:
        network = ipaddress.ip_network(text)
    except ValueError:
        pass
    else:
        if "%" not in text:  # a zone (fe80::1%eth0) would make the entry match nothing
            return network
    try:
        name = idna.encode(text, uts46=True).decode("ascii") if not text.isascii() else text
    except UnicodeError:
        name = ""
    name = name.removesuffix(".")
    if name and _valid_name(name) and not _looks_numeric(name):
        return name
    raise ValueError(
        f"Webhook allow-list entry {entry!r} is neither an IP address, a network in CIDR "
        "notation (with no host bits set) nor a host name."
    )
