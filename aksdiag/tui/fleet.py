"""The TUI's fleet view (`aksdiag fleet --tui`): the fleet run in a worker with its progress in the status line,
then the cause groups (Enter on one filters the clusters to it) over the clusters × status table; `/` filters by
text, Enter on a cluster opens its full report (the check TUI's tiles, findings and probe screens), `e` exports.

`FleetApp(plan)` runs `engine.run(plan, progress)`; `FleetApp(report=…)` opens a ready FleetReport (the tests).
`run(plan)` returns the exit code of the fleet's report (`exit_code`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static

from aksdiag.exitcodes import ExitCode
from aksdiag.fleet.model import FleetCluster, FleetReport
from aksdiag.model import Severity, Status
from aksdiag.render import fleet as fleet_render
from aksdiag.tui.fleetrun import FleetDone, FleetExportScreen, FleetFailed, FleetProgress, FleetRun, exit_code, export
from aksdiag.tui.screens.cluster import ClusterScreen
from aksdiag.tui.view import SEVERITY_STYLE, VERDICT_STYLE, View, finding_line

if TYPE_CHECKING:
    from aksdiag.fleet.engine import FleetPlan

ALL = "all"
"""The groups table's first row: every cluster (no group filter)."""
ORDER = {"BROKEN": 0, "DEGRADED": 1, "INCOMPLETE": 2, "OK": 3}
THEMES = ("textual-dark", "textual-light")
MAX_ROWS = 300
"""The clusters table lists at most this many (worst first; the status line says how many match): a Textual
DataTable measures every cell of every row it is given, and a 1,000-row table rebuilt per key lags the typing."""
PROMPT_UP_TO = 200
"""Fleets up to this size refilter at each key; bigger ones once the typing pauses for REFILL_AFTER_S."""
REFILL_AFTER_S = 0.2


class FleetApp(App[int]):
    """Returns `exit_code(report)` on quit; 3 when quit before the run ended or when the run could not start."""

    CSS_PATH = "aksdiag.tcss"
    TITLE = "aksdiag fleet"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "export", "Export", id="fleet.export"),
        Binding("slash", "filter", "Filter", key_display="/", id="fleet.filter"),
        Binding("q", "quit", "Quit", id="fleet.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="fleet.interrupt"),
        Binding("t", "toggle_theme", "Light/dark", show=False, id="fleet.theme"),
        Binding("escape", "escape", "Back", show=False, id="fleet.escape"),
    ]

    def __init__(
        self,
        plan: FleetPlan | None = None,
        *,
        report: FleetReport | None = None,
        view: View | None = None,
        export_dir: Path | None = None,
        theme: str = "textual-dark",
    ) -> None:
        if (plan is None) == (report is None):
            raise ValueError("FleetApp takes a plan to run or a ready report, one of them")
        super().__init__()
        self.plan = plan
        self.report: FleetReport | None = None
        self._given = report
        self.view = view or View()
        self.export_dir = export_dir
        self.theme = theme
        self.group: str | None = None
        """The selected group's row key (g0, g1, …), or None: every cluster."""
        self.filter_text = ""
        self.failed: tuple[str, int] | None = None
        self.progress_lines: list[str] = []
        self._run: FleetRun | None = None
        self._started = time.perf_counter()
        self._has_notes = False
        self._refill: Timer | None = None

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static("", id="fleet-status")
        groups: DataTable[Text | str] = DataTable(id="fleet-groups", cursor_type="row")
        groups.add_columns("code", "severity", "clusters", "cause")
        yield groups
        yield Static("", id="fleet-cause", classes="-hidden")
        yield Static("", id="fleet-notes")
        clusters: DataTable[Text | str] = DataTable(id="fleet-clusters", cursor_type="row", zebra_stripes=True)
        clusters.add_columns("verdict", "cluster", "codes", "subscription", "resource group", "location")
        yield clusters
        yield Input(placeholder="filter clusters: name, code, subscription… (escape clears)", id="fleet-filter",
                    classes="-hidden")  # fmt: skip
        yield Footer()

    def on_mount(self) -> None:
        if self._given is not None:
            self.show(self._given)
            return
        self._status(Text("starting the fleet run…", style="cyan"))
        self._start()

    def on_unmount(self) -> None:
        if self._run is not None:
            self._run.cancel()

    @property
    def groups_table(self) -> DataTable[Text | str]:
        return self.query_one("#fleet-groups", DataTable)

    @property
    def clusters_table(self) -> DataTable[Text | str]:
        return self.query_one("#fleet-clusters", DataTable)

    # ---------------------------------------------------------------- the run

    def _start(self) -> None:
        assert self.plan is not None

        def progress(text: str) -> None:  # from the engine's thread
            self.post_message(FleetProgress(text))

        fleet_run = self._run = FleetRun(self.plan, progress)

        def work() -> None:  # the worker thread: post_message is thread-safe
            from aksdiag.errors import AksdiagError

            try:
                report = fleet_run.execute()
            except AksdiagError as e:
                self.post_message(FleetFailed(str(e), int(e.exit_code)))
            except Exception as e:  # aksdiag broke: said in the status line, exit 3, never a traceback on quit
                self.post_message(FleetFailed(f"{type(e).__name__}: {e}", int(ExitCode.CANNOT_RUN)))
            else:
                if report is not None:
                    self.post_message(FleetDone(report))

        self.run_worker(work, name="fleet", group="fleet", thread=True, exclusive=True, exit_on_error=False)

    def on_fleet_progress(self, message: FleetProgress) -> None:
        if self.report is not None:
            return
        self.progress_lines.append(message.text)
        elapsed = self.view.ms((time.perf_counter() - self._started) * 1000, " · ")
        self._status(Text.assemble((self.view.text(message.text), "cyan"), (elapsed, "dim")))

    def on_fleet_done(self, message: FleetDone) -> None:
        self.show(message.report)

    def on_fleet_failed(self, message: FleetFailed) -> None:
        self.failed = (message.reason, message.code)
        self._status(Text.assemble(("could not run: ", "bold red"), self.view.text(message.reason),
                                   (" · q quits", "dim")))  # fmt: skip

    # ---------------------------------------------------------------- showing a report

    def show(self, report: FleetReport) -> None:
        self.report = report
        self.group = None
        total = len(report.clusters)
        table = self.groups_table
        table.clear()
        table.add_row(Text("all", style="bold"), "", str(total), "every cluster", key=ALL)
        for i, g in enumerate(report.groups):
            table.add_row(
                Text(g.code, style="bold"), Text(g.severity.value, style=SEVERITY_STYLE[g.severity.value]),
                f"{len(g.clusters)} of {total}", self.view.text(g.cause or g.title), key=f"g{i}",
            )  # fmt: skip
        self._show_notes(report)
        self._fill_clusters()
        self.clusters_table.focus()

    def _show_notes(self, report: FleetReport) -> None:
        lines = [finding_line(f, self.view) for f in sorted(report.findings, key=lambda f: -f.severity.rank)]
        lines += [Text(f"· {self.view.text(n)}", style="dim") for n in report.notes]
        asked = ", ".join(f"{k} {v}" for k, v in report.requests.items() if v)
        if asked:
            lines.append(Text(f"requests: {asked}{self.view.ms(report.elapsed_ms, ' · ')}", style="dim"))
        notes = self.query_one("#fleet-notes", Static)
        notes.update(Text("\n").join(lines) if lines else "")
        self._has_notes = notes.display = bool(lines)

    def shown_clusters(self) -> list[FleetCluster]:
        """The clusters the table shows: the selected group's, matching the filter, worst first."""
        if self.report is None:
            return []
        clusters = list(self.report.clusters)
        if self.group is not None:
            wanted = {c.lower() for c in self.report.groups[int(self.group[1:])].clusters}
            clusters = [c for c in clusters if c.id.lower() in wanted]
        needle = self.filter_text.lower()
        if needle:
            clusters = [c for c in clusters if any(needle in s.lower() for s in _haystack(c, self.report))]
        return sorted(clusters, key=lambda c: (ORDER[c.report.headline[0]], c.name.lower(), c.id.lower()))

    def _fill_clusters(self) -> None:
        report = self.report
        assert report is not None
        table = self.clusters_table
        table.clear()
        matching = self.shown_clusters()
        for c in matching[:MAX_ROWS]:
            headline, style = c.report.headline
            table.add_row(
                Text(headline, style=VERDICT_STYLE[style]), self.view.text(c.name), _codes_text(c),
                self.view.text(fleet_render.subscription_name(report, c.subscription)),
                self.view.text(c.resource_group), self.view.text(c.location),
                key=c.id,
            )  # fmt: skip
        self._show_status(len(matching))

    def _show_status(self, matching: int) -> None:
        assert self.report is not None
        report = self.report
        headline, style = fleet_render.headline(report)
        line = Text.assemble(("verdict ", "bold"), (headline, VERDICT_STYLE[style]))
        line.append(f" · {fleet_render.counts(report)}")
        line.append(f" · {self.view.text(report.scope)}", style="dim")
        if self.group is not None or self.filter_text:
            what = [self.report.groups[int(self.group[1:])].code] if self.group is not None else []
            what += [f"“{self.filter_text}”"] if self.filter_text else []
            line.append(f" · showing {matching} ({' and '.join(what)}; escape clears)", style="bold cyan")
        if matching > MAX_ROWS:
            line.append(f" · the first {MAX_ROWS} of {matching} listed: / or a group narrows them", style="yellow")
        self._status(line)
        self.sub_title = f"{self.view.text(report.scope)} · {headline}"

    def _status(self, line: Text) -> None:
        self.query_one("#fleet-status", Static).update(line)

    # ---------------------------------------------------------------- selecting

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted group's cause in full (the table cuts it), its fix, and what Enter does."""
        if event.data_table.id != "fleet-groups" or self.report is None:
            return
        key = event.row_key.value
        box = self.query_one("#fleet-cause", Static)
        box.set_class(key in (None, ALL), "-hidden")
        notes = self.query_one("#fleet-notes", Static)
        notes.display = self._has_notes and key in (None, ALL)  # one of the two: the clusters keep their rows
        if key in (None, ALL):
            return
        g = self.report.groups[int(str(key)[1:])]
        text = Text.assemble(
            (f"{g.code} ", "bold"), (g.severity.value, SEVERITY_STYLE[g.severity.value]),
            f" on {len(g.clusters)} of {len(self.report.clusters)} clusters: ", (self.view.text(g.title), "bold"),
            (" (Enter: only these)", "dim italic"), f"\n{self.view.text(g.cause)}",
        )  # fmt: skip
        if g.remediation:
            text.append(f"\nFix: {self.view.text(g.remediation)}", style="dim")
        box.update(text)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if event.data_table.id == "fleet-groups":
            event.stop()
            self.select_group(None if key == ALL else key)
            self.clusters_table.focus()
        elif event.data_table.id == "fleet-clusters" and self.report is not None and key is not None:
            event.stop()
            cluster = self.report.cluster(key)
            if cluster is not None:
                self.push_screen(
                    ClusterScreen(cluster, self.view, fleet_render.subscription_name(self.report, cluster.subscription))
                )

    def select_group(self, key: str | None) -> None:
        self.group = key
        self._fill_clusters()

    # ---------------------------------------------------------------- keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`/` on the fleet screen only: the filter box lives there, a cluster screen has none."""
        return action != "filter" or len(self.screen_stack) == 1

    def action_filter(self) -> None:
        box = self.query_one("#fleet-filter", Input)
        box.remove_class("-hidden")
        box.display = True
        self.screen.set_focus(box)  # at once: keys typed fast after / are the box's (as in the check TUI)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "fleet-filter":
            self.filter_text = event.value.strip()
            if self.report is None:
                return
            if self._refill is not None:
                self._refill.stop()
                self._refill = None
            if len(self.report.clusters) <= PROMPT_UP_TO:
                self._fill_clusters()
            else:  # a big fleet: once the typing pauses, not a table rebuilt per key
                self._refill = self.set_timer(REFILL_AFTER_S, self._fill_clusters)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "fleet-filter":
            self.clusters_table.focus()

    def action_escape(self) -> None:
        """Clear the text filter, else the group filter."""
        box = self.query_one("#fleet-filter", Input)
        if box.display:
            box.value = ""
            box.add_class("-hidden")
            box.display = False
            self.filter_text = ""
            self.clusters_table.focus()
        elif self.group is not None:
            self.group = None
            self.groups_table.move_cursor(row=0)
        else:
            return
        if self.report is not None:
            self._fill_clusters()

    def action_export(self) -> None:
        if self.report is None:
            self.notify("the fleet run has not ended: nothing to export yet", title="export", severity="warning")
            return
        self.push_screen(FleetExportScreen(self.export_dir or Path.cwd()), self._export)

    def _export(self, choice: tuple[str, Path] | None) -> None:
        if choice is None or self.report is None:
            return
        fmt, path = choice
        try:
            written = export(self.report, fmt, path)
        except OSError as e:
            self.notify(f"cannot write {path}: {e.strerror or e}", title="export", severity="error")
            return
        self.notify(f"wrote {written}", title="export")

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]

    async def action_quit(self) -> None:
        if self._run is not None:
            self._run.cancel()
        self.exit(self.exit_code)

    @property
    def exit_code(self) -> int:
        if self.report is not None:
            return int(exit_code(self.report))
        return self.failed[1] if self.failed else int(ExitCode.CANNOT_RUN)


def _codes_text(c: FleetCluster) -> Text:
    """Each code once in its worst severity's colour, worst first (info left out: the table is for what is wrong);
    then the probes that could not look, and the codes Resource Graph's lag raised that the GETs cleared."""
    worst: dict[str, Severity] = {}
    for f in c.report.findings:
        if f.severity is not Severity.INFO and (f.id not in worst or f.severity.rank > worst[f.id].rank):
            worst[f.id] = f.severity
    parts = [(code, SEVERITY_STYLE[sev.value]) for code, sev in sorted(worst.items(), key=lambda kv: -kv[1].rank)]
    errored = [p.probe for p in c.report.probes if p.status is Status.ERROR]
    if errored:
        parts.append((f"(could not look: {', '.join(errored)})", "bold red"))
    if c.lagged:
        parts.append((f"(lagged: {', '.join(c.lagged)})", "dim"))
    text = Text()
    for i, (part, style) in enumerate(parts):
        text.append((" " if i else "") + part, style=style)
    return text


def _haystack(c: FleetCluster, report: FleetReport) -> list[str]:
    return [c.name, c.id, c.subscription, fleet_render.subscription_name(report, c.subscription), c.resource_group, c.location, c.report.headline[0], *c.codes(),
            *c.lagged]  # fmt: skip


def run(plan: FleetPlan) -> int:
    """The fleet view in this terminal until q or Ctrl-C: the exit code of the fleet's report (3 when it could not
    finish)."""
    from aksdiag.tui.terminal import tolerant_input

    with tolerant_input():
        code = FleetApp(plan).run()
    return int(ExitCode.CANNOT_RUN) if code is None else code
