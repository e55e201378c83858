"""The CoreDNS configuration reader: AKS's default Corefile, coredns-custom's .server and .override keys, the block
and rules CoreDNS would use for a name, and bad input as one CorefileError naming the key and line.
"""

from __future__ import annotations

import pytest

from aksdiag.corefile import CorefileError, Origin, ServerKey, parse_coredns

hypothesis = pytest.importorskip("hypothesis", reason="pip install hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# The `coredns` ConfigMap's Corefile on an AKS cluster (kubectl get cm -n kube-system coredns -o yaml).
AKS_COREFILE = """\
.:53 {
    errors
    ready
    health {
      lameduck 5s
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
      ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
    import custom/*.override
}
import custom/*.server
"""

PRIVATE_SERVER = """\
# the API server's private zone goes to the hub's DNS server
privatelink.westeurope.azmk8s.io:53 {
    errors
    cache 30
    forward . 10.1.0.4
}
"""

OVERRIDE = """\
rewrite name exact db.contoso.com db.prod.svc.cluster.local
rewrite stop {
    name regex (.*)\\.legacy\\.contoso\\.com {1}.default.svc.cluster.local
    answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.legacy.contoso.com
}
hosts {
    10.0.0.1 example1.org
    10.0.0.2 example2.org www.example2.org
    fallthrough
}
"""


def test_the_aks_default_corefile_sends_every_name_to_the_nodes_resolver() -> None:
    config = parse_coredns(AKS_COREFILE)
    (block,) = config.blocks
    assert block.keys == (ServerKey(".", 53),) and block.origin == Origin("Corefile", 1)
    e = config.explain("api.contoso.com")
    assert e is not None and e.zone == "." and e.block is block
    assert e.forward is not None and e.forward.node_resolver and e.forward.targets == ("/etc/resolv.conf",)
    assert e.forward.origin == Origin("Corefile", 13) and not e.forward.force_tcp and e.forward.policy == "random"
    assert e.cache is not None and (e.cache.success_ttl, e.cache.denial_ttl, e.cache.serve_stale) == (30, 30, None)
    assert e.rewrites == () and e.hosts == ()
    assert e.plugins == ("errors", "ready", "health", "kubernetes", "prometheus", "loop", "reload", "loadbalance")
    assert config.unsupported == () and config.ignored_keys == ()


def test_a_server_key_for_a_private_zone_takes_its_names_to_the_custom_server() -> None:
    config = parse_coredns(AKS_COREFILE, {"hub.server": PRIVATE_SERVER})
    assert [b.zones for b in config.blocks] == [(".",), ("privatelink.westeurope.azmk8s.io.",)]
    e = config.explain("MyCluster-abc.HCP.privatelink.westeurope.azmk8s.io.")
    assert e is not None and e.name == "mycluster-abc.hcp.privatelink.westeurope.azmk8s.io."
    assert e.zone == "privatelink.westeurope.azmk8s.io." and e.block.origin == Origin("hub.server", 2)
    assert e.forward is not None and e.forward.targets == ("10.1.0.4",) and not e.forward.node_resolver
    assert e.forward.origin == Origin("hub.server", 5)
    assert e.plugins == ("errors",) and e.cache is not None and e.cache.origin == Origin("hub.server", 4)
    other = config.explain("login.microsoftonline.com")  # the rest still goes to the node's resolver
    assert other is not None and other.forward is not None and other.forward.node_resolver


def test_an_override_adds_rewrites_and_hosts_to_the_default_block_naming_key_and_line() -> None:
    config = parse_coredns(AKS_COREFILE, {"app.override": OVERRIDE})
    e = config.explain("db.contoso.com")
    assert e is not None and e.zone == "."
    ((rule),) = e.rewrites
    assert (rule.field, rule.match, rule.pattern, rule.replacement) == (
        "name",
        "exact",
        "db.contoso.com",
        "db.prod.svc.cluster.local",
    )
    assert rule.origin == Origin("app.override", 1)
    legacy = config.explain("shop.legacy.contoso.com")
    assert legacy is not None and [(r.match, r.mode, r.origin.line) for r in legacy.rewrites] == [("regex", "stop", 2)]
    hosts = config.explain("www.example2.org")
    assert hosts is not None and [(h.address, h.origin) for h in hosts.hosts] == [
        ("10.0.0.2", Origin("app.override", 8))
    ]
    plain = config.explain("example3.org")
    assert plain is not None and plain.rewrites == () and plain.hosts == ()
    assert "hosts" not in plain.plugins and "rewrite" not in plain.plugins


def test_hosts_forward_and_kubernetes_see_the_rewritten_name() -> None:
    config = parse_coredns(AKS_COREFILE, {"app.override": OVERRIDE})
    legacy = config.explain("shop.legacy.contoso.com")
    assert legacy is not None and legacy.rewritten == "shop.default.svc.cluster.local."
    db = config.explain("db.contoso.com")
    assert db is not None and db.rewritten == "db.prod.svc.cluster.local."
    plain = config.explain("www.contoso.com")
    assert plain is not None and plain.rewritten == "www.contoso.com." and plain.rewrites == ()
    chain = parse_coredns(
        ".:53 {\n rewrite continue name prefix old- new-\n rewrite name suffix .a.example .b.example\n"
        " rewrite name substring never x\n hosts {\n  10.0.0.7 new-db.b.example\n }\n}"
    ).explain("old-db.a.example")
    assert chain is not None and chain.rewritten == "new-db.b.example."
    assert [r.match for r in chain.rewrites] == ["prefix", "suffix"]  # the stop rule ends the list
    assert [h.address for h in chain.hosts] == ["10.0.0.7"] and chain.hosts_stop == ()


def test_hosts_without_fallthrough_stops_every_other_name_in_its_zones() -> None:
    override = "hosts {\n  10.0.0.1 example1.org\n}\n"  # the classic .override mistake: no fallthrough
    config = parse_coredns(AKS_COREFILE, {"h.override": override})
    other = config.explain("login.microsoftonline.com")
    assert other is not None and other.hosts == () and other.hosts_stop == (Origin("h.override", 1),)
    listed = config.explain("example1.org")
    assert listed is not None and listed.hosts_stop == () and [h.address for h in listed.hosts] == ["10.0.0.1"]
    narrow = parse_coredns(
        AKS_COREFILE, {"h.override": "hosts {\n 10.0.0.1 a.example1.org\n fallthrough example1.org\n}"}
    )
    inside, outside = narrow.explain("b.example1.org"), narrow.explain("b.example2.org")
    assert inside is not None and inside.hosts_stop == ()
    assert outside is not None and outside.hosts_stop == (Origin("h.override", 1),)
    zoned = parse_coredns(".:53 {\n hosts /etc/hosts example1.org\n forward . 10.0.0.1\n}").explain("a.example2.org")
    assert zoned is not None and zoned.hosts_stop == ()  # a hosts plugin for other zones does not stop it


def test_keys_aks_does_not_import_are_ignored_and_other_imports_are_listed() -> None:
    corefile = AKS_COREFILE + "(snip) {\n  log\n}\nimport /etc/extra/*.conf\n"
    config = parse_coredns(corefile, {"a.server": "a.com {\n log\n}", "notes.txt": "hello"})
    assert config.ignored_keys == ("notes.txt",)
    assert [(d.name, d.origin.line) for d in config.unsupported] == [("(snip)", 21), ("import", 24)]


def test_forward_options_force_tcp_policy_and_except() -> None:
    server = """contoso.com {
        forward . 10.1.0.4 dns://10.1.0.5:5353 {
            force_tcp
            policy sequential
            except skip.contoso.com
            health_check 5s
        }
    }"""
    config = parse_coredns(AKS_COREFILE, {"c.server": server})
    e = config.explain("a.contoso.com")
    assert e is not None and e.forward is not None
    assert e.forward.targets == ("10.1.0.4", "dns://10.1.0.5:5353") and e.forward.force_tcp
    assert not e.forward.prefer_udp and e.forward.policy == "sequential" and e.forward.option("health_check") == ("5s",)
    skipped = config.explain("x.skip.contoso.com")  # the block still wins, but its forward leaves the name out
    assert skipped is not None and skipped.zone == "contoso.com." and skipped.forward is None


def test_a_forward_from_a_narrower_zone_takes_only_its_names() -> None:
    config = parse_coredns(AKS_COREFILE, {"t.server": "example.com:53 {\n  forward foo.example.com 1.1.1.1\n}"})
    foo, bar = config.explain("a.foo.example.com"), config.explain("bar.example.com")
    assert foo is not None and foo.forward is not None and foo.forward.from_zone == "foo.example.com."
    assert bar is not None and bar.zone == "example.com." and bar.forward is None


def test_an_override_forward_next_to_the_default_one_is_listed_second() -> None:
    config = parse_coredns(AKS_COREFILE, {"f.override": "forward . 10.9.0.4"})
    e = config.explain("api.contoso.com")
    assert e is not None and e.forward is not None and e.forward.node_resolver  # the first in the block comes first
    assert [(f.targets, f.origin) for f in e.forwards] == [
        (("/etc/resolv.conf",), Origin("Corefile", 13)),
        (("10.9.0.4",), Origin("f.override", 1)),
    ]


def test_nested_options_comments_and_quoting() -> None:
    corefile = """\
.:53 {   # the default block
    hosts "/etc/coredns/my hosts" {   # a quoted path with a space
        10.9.9.9 "quoted.example"  # an entry
        ttl 60
    }
    template IN A example {
        answer "{{ .Name }} 60 IN A 10.0.0.9"
        rcode NOERROR
    }
    rewrite name suffix .old.example .new.example # comment after a rule
    cache 3600 {
        success 9984 3600
        denial 9984 300
        serve_stale 1h
    }
    forward . 10.0.0.10 { prefer_udp }
    log "a \\"quoted\\" word"
    errors a"b
}
"""
    config = parse_coredns(corefile)
    (block,) = config.blocks
    hosts = block.directives[0]
    assert hosts.args == ("/etc/coredns/my hosts",) and hosts.children is not None and len(hosts.children) == 2
    template = block.directives[1]
    assert template.children is not None and template.children[0].args == ("{{ .Name }} 60 IN A 10.0.0.9",)
    assert block.directives[-2].args == ('a "quoted" word',) and block.directives[-1].args == ('a"b',)
    e = config.explain("quoted.example")
    assert e is not None and [h.address for h in e.hosts] == ["10.9.9.9"]
    assert e.cache is not None and (e.cache.success_ttl, e.cache.denial_ttl, e.cache.serve_stale) == (3600, 300, 3600)
    assert e.forward is not None and e.forward.prefer_udp and e.forward.origin.line == 16
    old = config.explain("db.old.example")
    assert old is not None and [r.match for r in old.rewrites] == ["suffix"]
    assert e.plugins == ("template", "log", "errors")


def test_serve_stale_without_a_duration_is_an_hour_and_a_bare_cache_has_coredns_defaults() -> None:
    config = parse_coredns(".:53 {\n cache {\n  serve_stale\n }\n}")
    e = config.explain("a.b")
    assert e is not None and e.cache is not None
    assert (e.cache.success_ttl, e.cache.denial_ttl, e.cache.serve_stale) == (3600, 1800, 3600)


def test_zones_with_ports_several_zones_per_block_and_transports() -> None:
    corefile = """\
.:53 {
    forward . /etc/resolv.conf
}
example.org:1053 example.net, dns://example.com:53 {
    forward . 10.0.0.1
}
tls://.:853 {
    forward . 10.0.0.2
}
"""
    config = parse_coredns(corefile)
    assert config.blocks[1].keys == (
        ServerKey("example.org.", 1053),
        ServerKey("example.net.", 53),
        ServerKey("example.com.", 53),
    )
    assert config.blocks[2].keys == (ServerKey(".", 853, "tls"),)
    on_53, on_1053 = config.explain("www.example.org"), config.explain("www.example.org", port=1053)
    assert on_53 is not None and on_53.zone == "." and on_1053 is not None and on_1053.zone == "example.org."
    net = config.explain("a.example.net")
    assert net is not None and net.zone == "example.net." and net.forward is not None
    assert config.explain("www.example.org", port=5353) is None  # nothing listens there


def test_the_most_specific_zone_wins_whatever_the_order() -> None:
    servers = {
        "a.server": "contoso.com {\n forward . 10.0.0.1\n}",
        "b.server": "eu.contoso.com {\n forward . 10.0.0.2\n}",
        "c.server": "x.eu.contoso.com {\n forward . 10.0.0.3\n}",
    }
    config = parse_coredns(AKS_COREFILE, servers)
    picks = {name: config.explain(name) for name in ("a.contoso.com", "a.eu.contoso.com", "x.eu.contoso.com")}
    got = {name: e.forward.targets for name, e in picks.items() if e is not None and e.forward is not None}
    assert got == {"a.contoso.com": ("10.0.0.1",), "a.eu.contoso.com": ("10.0.0.2",), "x.eu.contoso.com": ("10.0.0.3",)}
    near = config.explain("notcontoso.com")  # a zone matches whole labels only
    assert near is not None and near.zone == "."


@pytest.mark.parametrize(
    ("corefile", "custom", "message"),
    [
        ("", {}, "Corefile line 1: no server block (the Corefile is empty)"),
        ("# only a comment\n\n", {}, "Corefile line 1: no server block (the Corefile is empty)"),
        (".:53 {\n  errors\n", {}, "Corefile line 1: '{' is never closed"),
        (".:53 {\n  errors\n}\n}\n", {}, "Corefile line 4: '}' closes no block"),
        (
            AKS_COREFILE,
            {"x.server": "a.com {\n  health {\n    lameduck 5s\n}\n"},
            "x.server line 1: '{' is never closed",
        ),
        (
            AKS_COREFILE,
            {"x.override": "hosts {\n  10.0.0.1\n}"},
            "x.override line 2: hosts entry 10.0.0.1 names no host",
        ),
        (AKS_COREFILE, {"x.override": "forward ."}, "x.override line 1: forward needs FROM and at least one TO"),
        (
            AKS_COREFILE,
            {"x.override": "rewrite name regex onlyfrom"},
            "x.override line 1: rewrite name needs FROM and TO",
        ),
        (
            AKS_COREFILE,
            {"x.server": ".:53 {\n  log\n}"},
            "x.server line 1: zone .:53 is already served (Corefile line 1)",
        ),
        (".:53 {\n  log\n}\nexample.org\n", {}, "Corefile line 4: expected '{' after the server key 'example.org'"),
        ('.:53 {\n  log "open\n}\n', {}, "Corefile line 2: unterminated quoted string"),
        (".:99999 {\n}", {}, "Corefile line 1: bad port '99999' in server key '.:99999'"),
        ("udp://.:53 {\n}", {}, "Corefile line 1: unknown transport 'udp://' in server key 'udp://.:53'"),
        (".:53 {\n  cache 30x\n}", {}, "Corefile line 2: bad duration '30x'"),
        (".:53 {\n  {\n  }\n}", {}, "Corefile line 2: '{' with nothing before it"),
        (".:53 {\n  rewrite stop {\n  }\n}", {}, "Corefile line 2: rewrite without a rule"),
    ],
)
def test_malformed_input_is_one_corefile_error_naming_key_and_line(
    corefile: str, custom: dict[str, str], message: str
) -> None:
    with pytest.raises(CorefileError) as raised:
        parse_coredns(corefile, custom)
    assert raised.value.message == message and "\n" not in message


def test_a_bad_rewrite_regex_is_a_corefile_error_not_a_re_error() -> None:
    with pytest.raises(CorefileError, match=r"^x.override line 1: bad rewrite regex '\(\[a-'"):
        parse_coredns(AKS_COREFILE, {"x.override": "rewrite name regex ([a- b.example.com"})


def test_braces_nested_past_the_limit_are_an_error_not_a_recursion() -> None:
    with pytest.raises(CorefileError, match="nested too deep"):
        parse_coredns("a {\n" * 500 + "}\n" * 500)


COREFILE_ALPHABET = st.sampled_from(
    ["{", "}", "\n", " ", "#", '"', "\\", ".", ":53", ":", ",", "forward", "cache", "rewrite", "hosts", "import",
     "custom/*.server", "custom/*.override", "name", "regex", "suffix", "(.*)", "[", "10.0.0.1", "a.com", "except",
     "serve_stale", "success", "30", "1h", "x", "dns://", "tls://", "(s)", "stop"]
)  # fmt: skip
COREFILE_TEXT = st.text(max_size=200) | st.lists(COREFILE_ALPHABET, max_size=60).map(" ".join)
FAST = settings(max_examples=400, deadline=None, derandomize=True)


@FAST
@given(COREFILE_TEXT, st.dictionaries(st.sampled_from(["a.server", "b.override", "c.txt"]), COREFILE_TEXT, max_size=3))
def test_any_text_parses_or_is_one_corefile_error_and_explain_never_fails(
    corefile: str, custom: dict[str, str]
) -> None:
    try:
        config = parse_coredns(corefile, custom)
    except CorefileError as e:
        assert len(e.message.splitlines()) == 1, e.message
        return
    for name in ("a.com", "x.a.com.", ".", "", "10.0.0.1"):
        config.explain(name)
