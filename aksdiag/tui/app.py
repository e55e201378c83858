"""The aksdiag TUI: every probe of a plan in one screen, run by the one engine in a worker as tiles update live.

Tabs: the overview (a tile per probe, the verdict, the worst findings), the DNS chain as a pipeline of hops, the
findings with their fixes, the API server checks, the whois box. Enter on a tile shows the probe in full (its
tables and gauges). `make_app(...)` is the factory the CLI and the tests share.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer, Header, Input, Static, TabbedContent, TabPane, Tabs

from aksdiag.exitcodes import exit_code_for
from aksdiag.model import Finding, ProbeResult, Report
from aksdiag.plan import Plan
from aksdiag.probe import Probe
from aksdiag.tui import session as sessions
from aksdiag.tui.messages import ProbeFinished, ProbeLeftOut, WhoisAnswered
from aksdiag.tui.screens.export import ExportScreen
from aksdiag.tui.screens.help import HelpScreen
from aksdiag.tui.screens.probe import ProbeScreen
from aksdiag.tui.session import EngineThread
from aksdiag.tui.view import VERDICT_STYLE, View, finding_line, plural
from aksdiag.tui.watching import WatchToggle
from aksdiag.tui.widgets.facts import ProbeDetail
from aksdiag.tui.widgets.findings import FindingsPane
from aksdiag.tui.widgets.pipeline import HopPipeline
from aksdiag.tui.widgets.tile import ProbeTile
from aksdiag.tui.widgets.whois import WhoisBox
from aksdiag.watch import DEFAULT_INTERVAL

TABS = ("overview", "dns", "findings", "api", "whois")
DNS_PROBE = "dns_chain"
PATH_PROBE = "private_dns"
"""Its graph (the Azure resolution path) is drawn in the DNS tab, under the chain's evidence."""
API_PROBE = "apiserver"
THEMES = ("textual-dark", "textual-light")


class AksdiagApp(WatchToggle):
    """Returns the exit code of the report on quit, by the one policy (exitcodes.exit_code_for). `w` watches
    (aksdiag.tui.watching)."""

    CSS_PATH = "aksdiag.tcss"
    TITLE = "aksdiag"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "rerun", "Re-run", id="app.rerun"),
        Binding("w", "watch", "Watch", id="app.watch"),
        Binding("e", "export", "Export", id="app.export"),
        Binding("slash", "filter", "Filter", key_display="/", id="app.filter"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.interrupt"),  # as in every CLI
        Binding("t", "toggle_theme", "Light/dark", show=False, id="app.theme"),
        Binding("escape", "escape", "Back", show=False, id="app.escape"),
        *(Binding(str(i), f"tab('{tab}')", tab, show=False, id=f"app.tab.{tab}") for i, tab in enumerate(TABS, 1)),
    ]

    def __init__(
        self,
        session: Plan,
        view: View | None = None,
        theme: str = "textual-dark",
        export_dir: Path | None = None,
        watch_interval: float = DEFAULT_INTERVAL,
    ) -> None:
        super().__init__()
        self.watch_interval = watch_interval
        self.session = session
        self.view = view or View()
        self.theme = theme
        self.export_dir = export_dir
        self.results: dict[str, ProbeResult] = {}
        self.engine: EngineThread | None = None
        self._generation = 0
        self.left_out: set[str] = set()
        """Probes this command runs only when it can, that could not: their tiles are hidden."""
        self._started = time.perf_counter()
        self._elapsed_ms = 0.0
        self.filter_text = ""
        self.first_paint: float | None = None
        self.all_final_at: float | None = None

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with TabbedContent(initial="overview", id="tabs"):
            with TabPane("Overview", id="overview"), VerticalScroll(id="overview-scroll"):
                with Grid(id="tiles"):
                    for p in self.session.probes:
                        yield ProbeTile(p.id, p.title, self.view)
                yield Static("", id="verdict")
                yield Static("", id="top-findings")
            with TabPane("DNS chain", id="dns"):
                yield HopPipeline(DNS_PROBE, self.view, id="pipeline")
                yield Static("", id="watch", classes="-hidden")
            with TabPane("Findings", id="findings"):
                yield FindingsPane(self.view, id="findings-pane")
            with TabPane("API server", id="api"):
                yield ProbeDetail(self.view, empty=self._absent(API_PROBE), id="api-detail")
            with TabPane("Whois", id="whois"):
                yield WhoisBox(self.view, id="whois-box")
        yield Input(placeholder="filter tiles and findings (escape clears)", id="filter", classes="-hidden")
        yield Footer()

    def _absent(self, probe_id: str) -> str:
        return "waiting for the probe…" if probe_id in self.session.probe_ids else f"{probe_id} is not in this run."

    def on_mount(self) -> None:
        self.sub_title = self.view.text(self.session.shown_target) or self.session.command
        self.call_after_refresh(self._painted)
        self.run_all()
        tiles = list(self.query(ProbeTile))
        if tiles:
            tiles[0].focus()
        self._on_signals(True)

    def on_unmount(self) -> None:
        self._on_signals(False)
        self.watcher = None
        if self.engine is not None:
            self.engine.cancel()

    def _on_signals(self, install: bool) -> None:
        """SIGTERM and SIGHUP (a closed terminal, `timeout`, a CI runner) quit as q does, with 128 + the signal:
        the terminal is restored and whoever started the TUI (the demo's lab) cleans up."""
        import asyncio
        import signal

        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop = asyncio.get_running_loop()
                if install:
                    loop.add_signal_handler(sig, self.exit, 128 + int(sig))
                else:
                    loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signal here
                return

    def _painted(self) -> None:
        if self.first_paint is None:
            self.first_paint = time.perf_counter()

    # ---------------------------------------------------------------- running probes

    @property
    def tiles(self) -> dict[str, ProbeTile]:
        return {t.probe_id: t for t in self.query(ProbeTile)}

    @property
    def running(self) -> list[str]:
        """The probes of this run not final yet."""
        if self.engine is None:
            return []
        return [p.id for p in self.session.probes if p.id not in self.results and p.id not in self.left_out]

    @property
    def all_final(self) -> bool:
        return all(t.final for t in self.query(ProbeTile))

    def run_all(self) -> None:
        """Start the plan afresh (a run still going is cancelled): one engine, in one worker thread."""
        if self.engine is not None:
            self.engine.cancel()
        self.results.clear()
        self._started = time.perf_counter()
        self.all_final_at = None
        self._generation += 1
        generation = self._generation

        def finished(result: ProbeResult) -> None:  # from the engine's thread: post_message is thread-safe
            self.post_message(ProbeFinished(result, generation))

        def left_out(probe_id: str) -> None:
            self.post_message(ProbeLeftOut(probe_id, generation))

        engine = self.engine = EngineThread(self.session, finished, left_out)
        self.left_out = set()
        for p in self.session.probes:
            tile = self.tiles[p.id]
            tile.display = True
            tile.start()
        self.run_worker(
            engine.execute, name="probes", group="probes", description="the plan's probes", thread=True,
            exclusive=True, exit_on_error=False,
        )  # fmt: skip
        self._refresh_views()

    def on_probe_finished(self, message: ProbeFinished) -> None:
        if message.generation != self._generation or message.result.probe in self.results:
            return  # from a replaced run, or already final (cancelled here)
        self._finished(message.result)

    def on_probe_left_out(self, message: ProbeLeftOut) -> None:
        """A probe the command runs only when it can (private_dns in `dns` without Azure): its tile goes."""
        if message.generation != self._generation:
            return
        self.left_out.add(message.probe_id)
        tile = self.tiles.get(message.probe_id)
        if tile is not None:
            tile.display = False
            tile.finish(sessions.skipped(tile_probe(self.session, message.probe_id), "not run by this command here"))
        self._refresh_views()

    def cancel_probe(self, probe_id: str) -> None:
        if self.engine is None or probe_id in self.results:
            return
        self.engine.cancel_probe(probe_id)
        p = next(p for p in self.session.probes if p.id == probe_id)
        self._finished(sessions.skipped(p, sessions.CANCELLED, self.engine.elapsed_ms))
        self.notify(f"{p.title}: cancelled", title=probe_id)

    def _finished(self, result: ProbeResult) -> None:
        self.results[result.probe] = result
        self._finish_tile(result)
        ended = self.all_final and self.all_final_at is None
        if ended:
            self.all_final_at = time.perf_counter()
            self._elapsed_ms = (self.all_final_at - self._started) * 1000
        self._refresh_views(result.probe)
        if ended:
            self._watched()  # with `w` on, the next round starts an interval after this run began

    def _finish_tile(self, result: ProbeResult) -> None:
        tile = self.tiles.get(result.probe)
        if tile is not None:
            tile.finish(result)

    # ---------------------------------------------------------------- views

    @property
    def report(self) -> Report:
        elapsed = self._elapsed_ms if self.all_final else (time.perf_counter() - self._started) * 1000
        return sessions.report(self.session, self.results, elapsed)

    def _refresh_views(self, probe_id: str | None = None) -> None:
        report = self.report
        self._show_verdict(report)
        self.run_worker(self.query_one(FindingsPane).show(self._filtered(report.findings)), group="views")
        if probe_id in (None, DNS_PROBE):
            running = DNS_PROBE in self.running
            self.run_worker(self.query_one(HopPipeline).show(self.results.get(DNS_PROBE), running), group="views")
        if probe_id in (None, PATH_PROBE):
            self.query_one(HopPipeline).show_path(self.results.get(PATH_PROBE))
        if probe_id in (None, API_PROBE):
            self.query_one("#api-detail", ProbeDetail).result = self.results.get(API_PROBE)
        if isinstance(self.screen, ProbeScreen) and self.screen.probe_id in (None, probe_id):
            self.screen.update(self.results.get(self.screen.probe_id))

    def _show_verdict(self, report: Report) -> None:
        findings = report.findings
        running = len(self.running)
        headline, style = report.headline
        line = Text.assemble(("verdict ", "bold"))
        if running:
            line.append(f"so far {headline}", style=VERDICT_STYLE[style])
            line.append(f" · {running} running", style="cyan")
        else:
            line.append(headline, style=VERDICT_STYLE[style])
        if report.could_not_run:  # probes that could not look: no header says OK over them
            line.append(f" · could not run: {report.could_not_run}", style="bold red")
        line.append(f" · {plural(len(findings), 'finding')}")
        line.append(self.view.ms(report.elapsed_ms, " · ") if not running else "", style="dim")
        self.query_one("#verdict", Static).update(line)
        shown = self._filtered(findings)
        lines = [finding_line(f, self.view) for f in shown[:6]]
        if len(shown) > 6:
            lines.append(Text(f"… {len(shown) - 6} more: 3 shows them all", style="dim"))
        self.query_one("#top-findings", Static).update(Text("\n").join(lines) if lines else "")
        if not running:
            self.sub_title = f"{self.view.text(self.session.shown_target) or self.session.command} · {headline}"

    def _filtered(self, findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
        needle = self.filter_text.lower()
        if not needle:
            return findings
        return tuple(
            f
            for f in findings
            if any(needle in s.lower() for s in (f.id, f.severity.value, f.title, f.probe, f.detail))
        )

    # ---------------------------------------------------------------- tiles and whois

    def on_probe_tile_open(self, message: ProbeTile.Open) -> None:
        tile = self.tiles[message.probe_id]
        self.push_screen(ProbeScreen(tile.probe_id, tile.title, self.results.get(tile.probe_id), self.view))

    def on_probe_tile_cancel(self, message: ProbeTile.Cancel) -> None:
        self.cancel_probe(message.probe_id)

    def on_whois_box_asked(self, message: WhoisBox.Asked) -> None:
        settings = self.session.whois or self.session.settings
        plan = sessions.plan_of("whois", message.ip, settings, ["whois"])
        self.run_worker(
            partial(self._whois, message.ip, plan), group="whois", thread=True, exclusive=True, exit_on_error=False
        )

    def _whois(self, ip: str, plan: Plan) -> None:
        self.post_message(WhoisAnswered(ip, sessions.run_one(plan)))

    def on_whois_answered(self, message: WhoisAnswered) -> None:
        self.query_one(WhoisBox).answered(message.result)

    # ---------------------------------------------------------------- keys

    def action_rerun(self) -> None:
        self.notify("re-running every probe")
        self.run_all()

    def action_export(self) -> None:
        directory = self.export_dir or Path.cwd()
        self.push_screen(ExportScreen(directory), self._export)

    def _export(self, choice: tuple[str, Path] | None) -> None:
        if choice is None:
            return
        fmt, path = choice
        report = self.report
        try:
            written = sessions.export(report, fmt, path)
        except OSError as e:
            self.notify(f"cannot write {path}: {e.strerror or e}", title="export", severity="error")
            return
        partial_note = f" ({len(self.running)} probe(s) still running: left out)" if self.running else ""
        self.notify(f"wrote {written}{partial_note}", title="export")

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("-hidden")
        box.display = True  # at once, not when the styles are next updated: the keys queued behind / are the box's
        # Focus now: Widget.focus() waits its turn behind keys already queued, so "/q" typed fast sent q to the quit
        # binding instead of the box (the app quit, and a Ctrl-C after that reached the shell).
        self.screen.set_focus(box)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self._apply_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self._focus_tab()

    def _apply_filter(self, text: str) -> None:
        self.filter_text = text.strip()
        needle = self.filter_text.lower()
        for tile in self.query(ProbeTile):
            tile.display = not needle or tile.matches(needle)
        self._refresh_views("")

    def action_escape(self) -> None:
        """Clear the filter; or leave a text box (whois) for the tab bar, so the keys work again."""
        box = self.query_one("#filter", Input)
        if box.display:
            box.value = ""
            box.add_class("-hidden")
            box.display = False
            self._apply_filter("")
            self._focus_tab()
        elif isinstance(self.focused, Input):
            self.query_one(TabbedContent).query_one(Tabs).focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self._focus_tab()

    def _focus_tab(self) -> None:
        tab = self.query_one(TabbedContent).active
        target: Widget | None
        if tab == "overview":
            visible = [t for t in self.query(ProbeTile) if t.display]
            target = visible[0] if visible else None
            if self.focused in visible:
                return
        elif tab == "dns":
            target = self.query_one(HopPipeline).hops
        elif tab == "findings":
            target = self.query_one(FindingsPane).list
        elif tab == "api":
            target = self.query_one("#api-detail", ProbeDetail)
        else:
            target = self.query_one("#whois-ip", Input)
        if target is not None:
            target.focus()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if self.focused is None or not self.focused.is_attached:
            self._focus_tab()

    async def action_quit(self) -> None:
        if self.engine is not None:
            self.engine.cancel()
        self.exit(int(exit_code_for(self.report)))


def tile_probe(plan: Plan, probe_id: str) -> Probe:
    return next(p for p in plan.probes if p.id == probe_id)


def make_app(
    session: Plan,
    *,
    view: View | None = None,
    theme: str = "textual-dark",
    export_dir: Path | None = None,
    watch_interval: float = DEFAULT_INTERVAL,
) -> AksdiagApp:
    """The app for a session; `view` hides timings or masks text (the snapshot tests), `export_dir` is where `e`
    proposes to write (default: the current directory), `watch_interval` how often `w` runs the plan again."""
    return AksdiagApp(session, view=view, theme=theme, export_dir=export_dir, watch_interval=watch_interval)


def run(session: Plan) -> int:
    """Run the TUI in this terminal until q or Ctrl-C: the exit code of the last report. An app that ended any
    other way (a panic: Textual has shown why) could not finish: exit 3."""
    from aksdiag.exitcodes import ExitCode
    from aksdiag.tui.terminal import tolerant_input

    with tolerant_input():
        code = make_app(session).run()
    return int(ExitCode.CANNOT_RUN) if code is None else code
