"""The whois box: type an IP, Enter asks the whois probe with the session's context, the owner is shown below."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input

from aksdiag.errors import UsageError
from aksdiag.inputs import parse_ip
from aksdiag.model import ProbeResult
from aksdiag.tui.view import View
from aksdiag.tui.widgets.facts import ProbeDetail


class WhoisBox(Vertical):
    class Asked(Message):
        def __init__(self, ip: str) -> None:
            super().__init__()
            self.ip = ip

    def __init__(self, view: View, **kwargs: Any) -> None:  # Widget's id=, classes=…
        super().__init__(**kwargs)
        self.view = view

    def compose(self) -> ComposeResult:
        yield Input(placeholder="an IP address, e.g. 10.244.3.17 — Enter asks", id="whois-ip")
        yield ProbeDetail(
            self.view, empty="Who holds an IP: a pod, a node, a Service, a node's pod range.", id="whois-result"
        )

    @property
    def detail(self) -> ProbeDetail:
        return self.query_one("#whois-result", ProbeDetail)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            ip = parse_ip(event.value.strip())
        except UsageError as e:
            self.app.notify(e.message, title="whois", severity="error")
            return
        self.detail.empty = f"asking who holds {ip}…"
        self.detail.result = None
        self.detail.refresh(recompose=True)
        self.post_message(self.Asked(ip))

    def answered(self, result: ProbeResult) -> None:
        self.detail.result = result
