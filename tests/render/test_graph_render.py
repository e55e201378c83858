"""A probe's graph in every format: a Mermaid flowchart in markdown whose every line is Mermaid's node, edge or
style grammar (labels escaped, the failed edge dotted and red), one line per edge in text, and the JSON shape."""

from __future__ import annotations

import io
import json
import re

from aksdiag.model import Graph, GraphEdge, GraphNode, ProbeResult, Report, Status
from aksdiag.render import render
from aksdiag.render.graph import mermaid, mermaid_label

HOSTILE = 'say "hi" | a<b> [x] `tick` #1'


def sample_graph() -> Graph:
    nodes = (
        GraphNode("vnet:/subscriptions/s/rg/vnet-aks", "vnet", "vnet-aks"),
        GraphNode("dns:10.1.2.4", "resolver-inbound", "dnspr-hub inbound 10.1.2.4"),
        GraphNode("view:hub", "azure-dns", "Azure DNS in vnet-hub"),
        GraphNode("zone:z", "zone", "privatelink.koreacentral.azmk8s.io", Status.OK, "the zone"),
        GraphNode("rule:r", "rule", HOSTILE, Status.FAIL),
        GraphNode("record:a", "record", "aks-lab A 10.224.0.4", Status.WARN),
        GraphNode("endpoint:e", "endpoint", "kube-apiserver 10.224.0.4"),
    )
    edges = (
        GraphEdge("vnet:/subscriptions/s/rg/vnet-aks", "dns:10.1.2.4", "DNS server"),
        GraphEdge("dns:10.1.2.4", "view:hub", "answers from its VNet"),
        GraphEdge("view:hub", "zone:z", "no link", Status.FAIL),
        GraphEdge("zone:z", "rule:r", HOSTILE, Status.WARN),
        GraphEdge("rule:r", "record:a", "", Status.SKIPPED),
        GraphEdge("record:a", "endpoint:e", "holds its address"),
    )
    return Graph(nodes, edges, title="How aks-lab.privatelink.koreacentral.azmk8s.io resolves")


def report(graph: Graph | None = None) -> Report:
    probes = (
        ProbeResult("private_dns", Status.FAIL, 1.0, graph=graph or sample_graph(), title="Private DNS zone (Azure)"),
        ProbeResult("dns_chain", Status.OK, 1.0, title="DNS resolution chain"),
    )
    return Report("dns", "aks-lab.privatelink.koreacentral.azmk8s.io", probes, 2.0, version="0.0.0-test")


def rendered(fmt: str, r: Report | None = None) -> str:
    out = io.StringIO()
    render(r or report(), fmt, out)
    return out.getvalue()


# ---------------------------------------------------------------- Mermaid's grammar, as much of it as we write

LABEL = r'"[^"`|<>\[\]]*"'
SHAPES = [rf"\[{LABEL}\]", rf"\(\[{LABEL}\]\)", rf"\{{\{{{LABEL}\}}\}}", rf"\[\({LABEL}\)\]", rf"\[/{LABEL}/\]",
          rf"\(\({LABEL}\)\)"]  # fmt: skip
NODE = re.compile(rf"^    (n\d+)(?:{'|'.join(SHAPES)})$")
EDGE = re.compile(rf"^    (n\d+) (-->|-\.->)(?:\|{LABEL}\|)? (n\d+)$")
STYLE = r"[a-z-]+:[#\w.]+(?:,[a-z-]+:[#\w.]+)*"
LINK_STYLE = re.compile(rf"^    linkStyle (\d+(?:,\d+)*) {STYLE}$")
CLASS_DEF = re.compile(rf"^    classDef (\w+) {STYLE}$")
CLASS = re.compile(r"^    class (n\d+(?:,n\d+)*) (\w+)$")


def mermaid_blocks(markdown: str) -> list[list[str]]:
    return [block.splitlines() for block in re.findall(r"```mermaid\n(.*?)```", markdown, re.S)]


def test_markdown_has_one_well_formed_mermaid_flowchart() -> None:
    text = rendered("markdown")
    blocks = mermaid_blocks(text)
    assert len(blocks) == 1, "one block: the probe without a graph draws none"
    lines = blocks[0]
    assert lines[0] == "flowchart LR"
    declared, edges, styled, classes = set(), [], [], {}
    for line in lines[1:]:
        if m := NODE.match(line):
            declared.add(m.group(1))
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(2), m.group(3)))
        elif m := LINK_STYLE.match(line):
            styled.append([int(i) for i in m.group(1).split(",")])
        elif CLASS_DEF.match(line):
            pass
        elif m := CLASS.match(line):
            classes[m.group(2)] = m.group(1).split(",")
        else:
            raise AssertionError(f"not Mermaid flowchart grammar: {line!r}")
    assert len(declared) == 7 and len(edges) == 6
    assert all(a in declared and b in declared for a, _, b in edges), "every edge joins declared nodes"
    assert text.index("**How aks-lab") < text.index("```mermaid")


def test_failed_edge_is_dotted_and_red_and_failed_node_classed() -> None:
    lines = mermaid(sample_graph())
    edges = [line for line in lines if EDGE.match(line)]
    assert EDGE.match(edges[2]).group(2) == "-.->", "the failed edge (no link) is dotted"  # type: ignore[union-attr]
    assert EDGE.match(edges[0]).group(2) == "-->"  # type: ignore[union-attr]
    red = next(line for line in lines if line.startswith("    linkStyle") and "#d32f2f" in line)
    assert LINK_STYLE.match(red).group(1) == "2", "linkStyle counts edges from 0 in the order drawn"  # type: ignore[union-attr]
    yellow = next(line for line in lines if line.startswith("    linkStyle") and "#f9a825" in line)
    assert LINK_STYLE.match(yellow).group(1) == "3"  # type: ignore[union-attr]
    assert "    class n5 fail" in lines and "    class n6 warn" in lines
    assert any(line.startswith("    classDef fail ") for line in lines)


def test_healthy_graph_has_no_failure_styling() -> None:
    ok = Graph(
        (GraphNode("a", "vnet", "vnet-aks"), GraphNode("b", "azure-dns", "Azure DNS in vnet-aks")),
        (GraphEdge("a", "b", "asks Azure DNS"),),
    )
    lines = mermaid(ok)
    assert lines == [
        "flowchart LR",
        '    n1["vnet-aks"]',
        '    n2(["Azure DNS in vnet-aks"])',
        '    n1 -->|"asks Azure DNS"| n2',
    ]


def test_labels_are_escaped_so_mermaid_and_the_code_fence_hold() -> None:
    label = mermaid_label(HOSTILE)
    assert not set('"|<>[]`') & set(label)
    assert label == "say #quot;hi#quot; #124; a#lt;b#gt; #91;x#93; #96;tick#96; #35;1"
    assert mermaid_label("two\nlines\t here") == "two lines here"
    text = rendered("markdown")
    assert text.count("```") % 2 == 0 and "`tick`" not in text


def test_edge_to_an_unknown_node_is_left_out() -> None:
    g = Graph((GraphNode("a", "vnet", "a"),), (GraphEdge("a", "missing", "x", Status.FAIL),))
    assert mermaid(g) == ["flowchart LR", '    n1["a"]']


def test_text_draws_one_line_per_edge_with_the_broken_one_marked() -> None:
    text = rendered("text")
    assert "  How aks-lab.privatelink.koreacentral.azmk8s.io resolves" in text
    assert "    ✔ vnet-aks ─DNS server→ dnspr-hub inbound 10.1.2.4" in text
    assert "    ✘ Azure DNS in vnet-hub ─no link→ privatelink.koreacentral.azmk8s.io" in text
    assert "    – " + HOSTILE + " → aks-lab A 10.224.0.4" in text, "an edge without a label is a plain arrow"
    assert all(line == line.rstrip() for line in text.splitlines())


def test_json_carries_the_graph_only_for_a_probe_that_has_one() -> None:
    doc = json.loads(rendered("json"))
    with_graph, without = doc["probes"]
    assert "graph" not in without
    graph = with_graph["graph"]
    assert set(graph) == {"title", "nodes", "edges"}
    assert all(set(n) == {"id", "kind", "label", "status", "detail"} for n in graph["nodes"])
    assert all(set(e) == {"source", "target", "label", "status"} for e in graph["edges"])
    ids = {n["id"] for n in graph["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])
    assert [e["status"] for e in graph["edges"]] == ["ok", "ok", "fail", "warn", "skipped", "ok"]
    assert Report.from_dict(doc).to_dict() == doc, "the graph round-trips"
    assert Report.from_dict(doc).probes[0].graph == sample_graph()


# ---------------------------------------------------------------- end to end: the fake ARM, the runner, the CLI


def test_cli_draws_the_resolution_path_with_the_missing_link(planes, capsys) -> None:
    """`aksdiag dns --cluster` on a world whose zone is not linked to the hub: the JSON's private_dns result has the
    graph with the link edge failed, the markdown its Mermaid block with that edge dotted and red."""
    from aksdiag.cli import main
    from aksdiag.lab import armworld

    planes("hub-not-linked", "healthy")
    args = ["dns", "--subscription", armworld.SUBSCRIPTION, "-g", armworld.CLUSTER_RG, "--cluster", armworld.CLUSTER,
            "--timeout", "1"]  # fmt: skip
    assert main([*args, "--output", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    chain, azure = doc["probes"]
    assert "graph" not in chain, "the DNS chain draws its hops, not a graph"
    failed = [e for e in azure["graph"]["edges"] if e["status"] == "fail"]
    labels = {n["id"]: n["label"] for n in azure["graph"]["nodes"]}
    assert [(labels[e["source"]], e["label"]) for e in failed] == [("Azure DNS in vnet-hub", "no link")]
    assert main([*args, "--output", "markdown"]) == 1
    (block,) = mermaid_blocks(capsys.readouterr().out)
    for line in block[1:]:
        assert (
            NODE.match(line) or EDGE.match(line) or LINK_STYLE.match(line) or CLASS_DEF.match(line) or CLASS.match(line)
        ), line
    dotted = [i for i, line in enumerate(line for line in block if EDGE.match(line)) if "-.->" in line]
    assert dotted and f"    linkStyle {','.join(map(str, dotted))} stroke:#d32f2f" in "\n".join(block)
    assert main([*args, "--output", "text"]) == 1
    assert "    ✘ Azure DNS in vnet-hub ─no link→ " in capsys.readouterr().out
