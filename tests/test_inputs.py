"""What users type: names, addresses and server endpoints; bad input is a UsageError (exit 2)."""

from __future__ import annotations

import pytest

from aksdiag.errors import UsageError
from aksdiag.exitcodes import ExitCode
from aksdiag.facts import Endpoint
from aksdiag.inputs import parse_endpoint, parse_fqdn, parse_ip


def usage_error(parse: object, text: str) -> UsageError:
    """The UsageError `parse(text)` raises; it must say exit 2."""
    with pytest.raises(UsageError) as e:
        parse(text)  # type: ignore[operator]
    assert e.value.exit_code is ExitCode.USAGE and int(e.value.exit_code) == 2
    assert e.value.message and "\n" not in e.value.message
    return e.value


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("api.example.com", "api.example.com"),
        ("api.example.com.", "api.example.com"),
        ("API.Example.COM.", "api.example.com"),
        ("  api.example.com\n", "api.example.com"),
        ("aks-x.5e2c.privatelink.eastus.azmk8s.io", "aks-x.5e2c.privatelink.eastus.azmk8s.io"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.Example.", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("_dns.example", "_dns.example"),
        ("localhost", "localhost"),
    ],
)
def test_valid_names(given: str, name: str) -> None:
    assert parse_fqdn(given) == name


def test_length_limits_are_inclusive() -> None:
    label63 = "a" * 63
    assert parse_fqdn(f"{label63}.example") == f"{label63}.example"
    name253 = ".".join(["b" * 63] * 3 + ["c" * 61])
    assert len(name253) == 253
    assert parse_fqdn(name253) == name253
    assert parse_fqdn(name253 + ".") == name253, "the trailing dot does not count"


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (".", "empty label"),
        ("a..b", "empty label"),
        (".example", "empty label"),
        ("a" * 64 + ".example", "at most 63"),
        ("api." + "a" * 64, "at most 63"),
        (".".join(["a" * 60] * 5), "at most 253"),
        (".".join(["b" * 63] * 3 + ["c" * 62]), "at most 253"),
        ("bad name.example", "not a valid DNS label"),
        ("bad!.example", "not a valid DNS label"),
        ("a/b.example", "not a valid DNS label"),
        ("*.example", "not a valid DNS label"),
        ("ab\n.example", "not a valid DNS label"),
        ("-lead.example", "not a valid DNS label"),
        ("api.-lead.example", "not a valid DNS label"),
        ("trail-.example", "not a valid DNS label"),
        ("https://api.example.com", "not a valid DNS label"),
    ],
)
def test_bad_names(given: str, says: str) -> None:
    assert says in usage_error(parse_fqdn, given).message


@pytest.mark.parametrize("given", ["10.0.0.4", "10.0.0.4.", " 10.0.0.4 ", "fd00::4", "::1"])
def test_an_ip_is_not_a_name(given: str) -> None:
    error = usage_error(parse_fqdn, given)
    assert "is an IP address, not a name" in error.message
    assert "--expect" in error.hint, "the hint says where an address goes"


def test_idn_label_that_idna_cannot_write() -> None:
    assert "IDNA" in usage_error(parse_fqdn, "ü" * 70 + ".example").message


# ---------------------------------------------------------------- server endpoints


@pytest.mark.parametrize(
    ("given", "endpoint"),
    [
        ("10.1.0.4", Endpoint("10.1.0.4", 53)),
        ("10.1.0.4:5353", Endpoint("10.1.0.4", 5353)),
        ("10.1.0.4#5353", Endpoint("10.1.0.4", 5353)),
        ("10.1.0.4:1", Endpoint("10.1.0.4", 1)),
        ("10.1.0.4:65535", Endpoint("10.1.0.4", 65535)),
        ("[fd00::4]:53", Endpoint("fd00::4", 53)),
        ("[fd00::4]:5353", Endpoint("fd00::4", 5353)),
        ("[fd00::4]", Endpoint("fd00::4", 53)),
        ("fd00::4", Endpoint("fd00::4", 53)),
        ("FD00:0::4", Endpoint("fd00::4", 53)),
        (" 127.0.0.1 ", Endpoint("127.0.0.1", 53)),
    ],
)
def test_endpoints(given: str, endpoint: Endpoint) -> None:
    assert parse_endpoint(given) == endpoint


def test_endpoint_default_port() -> None:
    assert parse_endpoint("10.1.0.4", default_port=5353) == Endpoint("10.1.0.4", 5353)
    assert parse_endpoint("10.1.0.4:53", default_port=5353) == Endpoint("10.1.0.4", 53)


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("dns.contoso.com", "not a DNS server address"),
        ("dns.contoso.com:53", "not a DNS server address"),
        ("1.2.3", "not a DNS server address"),
        ("", "not a DNS server address"),
        ("10.1.0.4:0", "from 1 to 65535"),
        ("10.1.0.4:70000", "from 1 to 65535"),
        ("10.1.0.4:abc", "from 1 to 65535"),
        ("10.1.0.4:", "from 1 to 65535"),
        ("10.1.0.4:-1", "from 1 to 65535"),
        ("10.1.0.4#x", "from 1 to 65535"),
        ("10.1.0.4:²", "from 1 to 65535"),
        ("[fd00::4]:99999", "from 1 to 65535"),
        ("[fd00::4", "missing ']'"),
        ("[fd00::4]53", "expected ':PORT'"),
    ],
)
def test_bad_endpoints(given: str, says: str) -> None:
    assert says in usage_error(parse_endpoint, given).message


def test_endpoint_prints_as_people_write_it() -> None:
    assert str(Endpoint("fd00::4", 53)) == "[fd00::4]:53"
    assert str(Endpoint("10.1.0.4", 5353)) == "10.1.0.4:5353"
    assert Endpoint("10.1.0.4").short == "10.1.0.4"
    assert Endpoint("10.1.0.4", 5353).short == "10.1.0.4:5353"
    for text in ("10.1.0.4:5353", "[fd00::4]:5353"):
        assert str(parse_endpoint(text)) == text


# ---------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("given", "address"),
    [(" 10.224.0.4 ", "10.224.0.4"), ("FD00:0:0::4", "fd00::4"), ("fd00:0000::0004", "fd00::4")],
)
def test_ip(given: str, address: str) -> None:
    assert parse_ip(given) == address


@pytest.mark.parametrize("given", ["10.224.0", "10.224.0.256", "api.example.com", "", "10.0.0.0/8"])
def test_bad_ip(given: str) -> None:
    assert "not an IP address" in usage_error(parse_ip, given).message


def test_bad_ip_names_what_it_was_for() -> None:
    assert "not an IP address for --expect" in usage_error(lambda t: parse_ip(t, "address for --expect"), "x").message
