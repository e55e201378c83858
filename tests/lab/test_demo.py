"""The demo's lab in process: complete settings in the world's own addresses, and the environment left alone."""

from __future__ import annotations

import os
import ssl
import urllib.request
from pathlib import Path

from aksdiag.facts import Endpoint
from aksdiag.lab import demo
from aksdiag.lab.scenarios import SCENARIOS
from aksdiag.settings import AZURE_DNS
from aksdiag.sources import route


def test_the_demo_never_touches_the_environment(tmp_path: Path) -> None:
    before = dict(os.environ)
    with demo.start(SCENARIOS["no-forwarder"], "lb-pending", tmp_path) as lab:
        lab.settings()
        assert dict(os.environ) == before
    assert dict(os.environ) == before


def test_settings_are_complete_and_name_the_worlds_addresses(tmp_path: Path) -> None:
    with demo.start(SCENARIOS["no-forwarder"], "lb-pending", tmp_path) as lab:
        s = lab.settings()
        assert lab.target == "" and lab.skip == {}
        assert s.loopback_only and s.azure_dns == AZURE_DNS and s.servers == ()
        assert s.azure and s.azure.endpoint == lab.arm.endpoint and s.ca_bundle == lab.arm.ca_path and s.arm_token
        assert s.apiserver is not None and s.apiserver.server == "https://10.224.0.4:443"
        assert s.kube is not None and s.kube.kubeconfig == str(lab.kubeconfig)
        # what the jump box sees goes where the lab serves it, and nowhere else
        assert route.destination(Endpoint("168.63.129.16"), s) == lab.dns.endpoints["azure"]
        assert route.destination(Endpoint("10.1.0.4"), s) == lab.dns.endpoints["custom"]
        assert route.destination(Endpoint("10.224.0.4", 443), s) == Endpoint("127.0.0.1", lab.kube.port)
        assert route.refused("10.224.0.5", s) and route.refused("10.1.0.4", s)  # the map routes, the guard refuses
        assert Path(s.resolv_conf).read_text().splitlines()[1:] == ["nameserver 10.1.0.4", "options ndots:1"]


def test_the_lab_api_server_answers_for_the_clusters_private_name(tmp_path: Path) -> None:
    """Its certificate names the private FQDN and the endpoint's address; /readyz needs the kubeconfig's token."""
    with demo.start(SCENARIOS["healthy"], "lb-healthy", tmp_path) as lab:
        context = ssl.create_default_context(cadata=lab.kube.pki.ca_pem)
        context.check_hostname = False  # the name is judged below, against the certificate's own SANs
        request = urllib.request.Request(
            f"{lab.kube.url}/readyz?verbose", headers={"Authorization": "Bearer lab-token"}
        )
        with urllib.request.urlopen(request, context=context, timeout=5) as response:
            assert response.status == 200 and "readyz check passed" in response.read().decode()
        from cryptography import x509

        cert = x509.load_pem_x509_certificate((tmp_path / "pki" / "kube-apiserver.crt").read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert SCENARIOS["healthy"].fqdn in san.get_values_for_type(x509.DNSName)
        assert "10.224.0.4" in [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def test_without_a_cluster_world_the_dns_chain_still_names_azure_dns(tmp_path: Path) -> None:
    with demo.start(SCENARIOS["no-forwarder"], None, tmp_path) as lab:
        s = lab.settings()
        assert lab.target == SCENARIOS["no-forwarder"].fqdn and s.loopback_only and s.azure is None
        assert s.azure_dns == AZURE_DNS and route.destination(AZURE_DNS, s) == lab.dns.endpoints["azure"]
