"""The deepeval language server: live diagnostics, quick fixes and shape hints (DESIGN.md §8).

On every open and change the static pass runs in-process on its own thread (pure analysis,
milliseconds for a typical file) and its diagnostics are published with the document's version.
When dynamic checks are on, the full check (the model built in a sandboxed worker) follows after a
per-document debounce; a newer version cancels it. A result is published only if its version is
still the document's version. A document over `maxDocumentBytes` is not checked: it gets one
information diagnostic saying so. The event loop itself only reads and answers: hovers, hints and
code actions read the last published report and return at once.
Handlers stay thin: the checkers live in `deepeval_lsp.diagnostics`, the LSP shapes in `convert`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from deepeval_lsp.diagnostics import ModelSummary, Report, check, iter_files
from deepeval_lsp.diagnostics.files import MAX_FILE_BYTES, UncheckableFile
from deepeval_lsp.diagnostics.findings import Position, Range
from deepeval_lsp.diagnostics.notebook import checked_options, notebook_report
from deepeval_lsp.diagnostics.static.run import StaticResult, run_static
from deepeval_lsp.server import convert, notebooks
from deepeval_lsp.server.debounce import Debouncer
from deepeval_lsp.server.documents import LspWorkspace, lsp_lines
from deepeval_lsp.server.dynamic import FullChecker, frameworks_missing, start_warming
from deepeval_lsp.server.framing import ChunkSource, FrameReader
from deepeval_lsp.server.protocol import DeepevalProtocol
from deepeval_lsp.server.settings import Settings, parse_settings
from lsprotocol import types as lsp
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from deepeval_lsp import __version__

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "deepeval/status"
CMD_MODEL_SUMMARY = "deepeval.server.modelSummary"
CMD_CHECK_WORKSPACE = "deepeval.server.checkWorkspace"
CMD_SERVER_INFO = "deepeval.server.info"
TOO_LARGE = "not run: the document is too large"
CHUNK = 1 << 20  # bytes read from the client at a time


@dataclass
class DocState:
    """The newest report for an open document and the version it belongs to."""

    version: int | None
    report: Report
    final: bool  # the full check (not only the static pass) produced it
    # The model summary for hovers and hints: the report's, or, while the full check of a newer
    # version is pending, the previous one (so hints do not flicker off at every keystroke).
    model: ModelSummary | None = None

    @property
    def unchecked(self) -> bool:
        """Too large to check: nothing to hover, hint or fix (and no line table to build)."""
        return self.report.passes.get("static") == TOO_LARGE


class DeepevalServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "deepeval-lsp",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            notebook_document_sync=notebooks.NOTEBOOK_SYNC,
            protocol_cls=DeepevalProtocol,
        )
        self.settings = Settings()
        self.debouncer = Debouncer()
        self.checker = FullChecker()
        self.docs: dict[str, DocState] = {}
        # Open notebooks (by notebook URI): the view of their latest version, and the cell URIs
        # last published for them (to clear cells that left the notebook).
        self.views: dict[str, notebooks.NotebookView] = {}
        # what was last published on each cell (its version and diagnostics), by notebook URI:
        # a cell whose text and diagnostics did not change is not sent again
        self._published_cells: dict[str, dict[str, tuple[int | None, list[lsp.Diagnostic]]]] = {}
        # The static pass's result of each document's latest version, for its full check.
        self._static: dict[str, tuple[int | None, StaticResult]] = {}
        # One thread runs the static passes, so a big file never holds up the event loop, and
        # each document's pending pass (its version and task).
        self._static_thread = ThreadPoolExecutor(1, thread_name_prefix="deepeval-static")
        self._static_jobs: dict[str, tuple[int | None, asyncio.Task[None]]] = {}
        self.no_framework = frameworks_missing()
        self._shown: set[str] = set()
        self._pending_messages: list[tuple[lsp.MessageType, str]] = []
        self._initialized = False
        self.settings_epoch = 0  # counts settings updates, so a late answer cannot undo a newer one

    # -- transports: pygls's, with the frame reader of `framing` ------------------------------

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve over stdio until the client exits or closes the stream."""
        stdin = stdin or sys.stdin.buffer
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        read1 = getattr(stdin, "read1", None) or functools.partial(os.read, stdin.fileno())

        async def serve() -> None:
            loop = asyncio.get_running_loop()
            source = ChunkSource(lambda: loop.run_in_executor(self.thread_pool, read1, CHUNK))
            await FrameReader(source, self.protocol).run(self._stop_event)

        try:
            asyncio.run(serve())
        except BrokenPipeError:
            log.error("the connection to the client is lost; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def start_tcp(self, host: str, port: int) -> None:
        """Serve one client at a time on a TCP address."""
        self._stop_event = stop = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)  # type: ignore[arg-type]
            await FrameReader(ChunkSource(lambda: reader.read(CHUNK)), self.protocol).run(stop)
            self.shutdown()

        async def serve() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            async with self._server:
                await self._server.serve_forever()

        try:
            asyncio.run(serve())
        except asyncio.CancelledError:
            log.debug("the TCP server was cancelled")

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Errors outside a request: log them (no pop-up per message). Bodies that are not
        JSON never get here: the frame reader answers them."""
        log.error("server error (%s): %s", getattr(source, "__name__", source), error)
        try:
            self.log(f"deepeval: {type(error).__name__}: {error}", lsp.MessageType.Error)
        except Exception:
            log.exception("could not send a log message")

    # -- messages -----------------------------------------------------------------------------

    def tell(self, text: str, kind: lsp.MessageType = lsp.MessageType.Warning) -> None:
        """Show a message once per session (bad settings, missing frameworks)."""
        if text in self._shown:
            return
        self._shown.add(text)
        if not self._initialized:
            self._pending_messages.append((kind, text))
            return
        self.window_show_message(lsp.ShowMessageParams(type=kind, message=text))

    def flush_messages(self) -> None:
        self._initialized = True
        for kind, text in self._pending_messages:
            self.window_show_message(lsp.ShowMessageParams(type=kind, message=text))
        self._pending_messages.clear()

    def log(self, text: str, kind: lsp.MessageType = lsp.MessageType.Log) -> None:
        self.window_log_message(lsp.LogMessageParams(type=kind, message=text))

    # -- settings -----------------------------------------------------------------------------

    def apply_settings(self, raw: Any) -> None:
        self.settings_epoch += 1
        self.settings, problems = parse_settings(raw)
        for p in problems:
            self.tell(p)

    @property
    def dynamic_enabled(self) -> bool:
        return self.settings.dynamic_checks and self.no_framework is None

    def root(self) -> str | None:
        return self.workspace.root_path if self.workspace else None

    # -- checking -----------------------------------------------------------------------------

    def static_report(
        self, source: str, path: str, uri: str | None = None, version: int | None = None
    ) -> Report:
        """The static pass's report (blocking: seconds for a big file; never on the loop)."""
        if len(source) > MAX_FILE_BYTES:
            return Report(path=path, error="document too large to check")
        options = self.settings.check_options(dynamic=False, root=self.root())
        if uri is not None and self.dynamic_enabled:
            # The full check after the debounce verifies the fixes; not on every keystroke.
            options = dataclasses.replace(options, verify_fixes=False)
        static = run_static(source, path, options)
        if uri is not None:  # the full check of this version reuses it
            self._static[uri] = (version, static)
        return check(source, path, options, static=static)

    def on_document(self, uri: str) -> None:
        """The document was opened or changed: the static pass on its thread now, the full
        check after the debounce. Returns at once: nothing here blocks the event loop."""
        doc = self.workspace.get_text_document(uri)
        self._check_soon(uri, doc.version, doc.source, convert.uri_to_path(uri))

    def on_notebook(self, uri: str) -> None:
        """A notebook was opened or changed (a cell's text or the cells): its program is checked
        as one document, keyed by the notebook's URI and version."""
        try:
            view = notebooks.read_view(self.workspace, uri)
        except Exception as e:  # a notebook the server cannot read: no diagnostics, no crash
            if isinstance(e, UncheckableFile):
                log.warning("cannot read the notebook %s: %s", uri, e)
            else:
                log.exception("cannot read the notebook %s", uri)
            self.log(f"deepeval: cannot check the notebook {uri}: {e}", lsp.MessageType.Warning)
            self.on_close(uri)
            return
        self.views[uri] = view
        self._check_soon(uri, view.version, view.notebook.program, view.path)

    def _check_soon(self, uri: str, version: int | None, source: str, path: str) -> None:
        size = document_bytes(source)
        limit = self.settings.max_document_bytes
        if size > limit:
            self.debouncer.cancel(uri)
            self._static_jobs.pop(uri, None)
            self._static.pop(uri, None)
            report = Report(path=path, error=too_large(size, limit))
            report.passes.update(static=TOO_LARGE, dynamic=TOO_LARGE)
            self.publish(uri, version, report, final=True)
            return
        dynamic = self.dynamic_enabled
        # The debounce starts before the static pass runs, so it overlaps with it.
        if dynamic:
            self.debouncer.schedule(
                uri,
                self.settings.debounce_ms / 1000,
                lambda: self._full_check(uri, version, source),
            )
        else:
            self.debouncer.cancel(uri)
        job = asyncio.get_running_loop().create_task(
            self._static_check(uri, version, source, path, final=not dynamic)
        )
        self._static_jobs[uri] = (version, job)
        job.add_done_callback(lambda t: self._forget_static_job(uri, t))

    def _forget_static_job(self, uri: str, task: asyncio.Task[None]) -> None:
        entry = self._static_jobs.get(uri)
        if entry is not None and entry[1] is task:
            del self._static_jobs[uri]

    async def _static_check(
        self, uri: str, version: int | None, source: str, path: str, *, final: bool
    ) -> None:
        loop = asyncio.get_running_loop()
        report = await loop.run_in_executor(
            self._static_thread, self._static_job, uri, version, source, path
        )
        if report is not None:
            self.publish(uri, version, report, final=final)

    def _static_job(self, uri: str, version: int | None, source: str, path: str) -> Report | None:
        """On the static thread: the report of `version`, or None when it is already stale
        (versions queue up while a big file is checked: only the newest is worth the time)."""
        if not self.is_current(uri, version):
            return None
        try:
            view = self.views.get(uri)
            if view is None:
                return self.static_report(source, path, uri, version)
            # A notebook: its program as it is, parsed once; when it does not parse, the cells
            # are parsed one by one and the ones that do not are left out.
            nb = view.notebook
            report = self.static_report(nb.program, path, uri, version)
            cached = self._static.get(uri)
            if cached is not None and cached[0] == version and cached[1].tree is not None:
                nb.note_parsed()
            if nb.checked_program == nb.program:
                return report
            return self.static_report(nb.checked_program, path, uri, version)
        except Exception as e:  # a checker bug must not take the editor's server down
            log.exception("static check failed for %s", uri)
            self.log(
                f"deepeval: the static check failed on {path}: {type(e).__name__}: {e}",
                lsp.MessageType.Error,
            )
            return Report(path=path, error=f"internal error in the static check: {e}")

    async def _full_check(self, uri: str, version: int | None, source: str) -> None:
        path = convert.uri_to_path(uri)
        options = self.settings.check_options(dynamic=True, root=self.root())
        job = self._static_jobs.get(uri)
        if job is not None and job[0] == version:
            # The static pass of this version is on its way: reuse it rather than redo it.
            # Shielded: cancelling this check must not cancel the static publish.
            await asyncio.shield(job[1])
        cached = self._static.get(uri)
        static = cached[1] if cached is not None and cached[0] == version else None
        view = self.views.get(uri)
        if view is not None:
            if view.version != version:
                return  # a newer version of the notebook is on its way
            # without a cell that does not parse, the static pass only; the static job of this
            # version (awaited above) found that cell
            source = view.notebook.checked_program
            options = checked_options(view.notebook, options)
        try:
            report = await self.checker.check(source, path, options, static)
        except Exception as e:
            log.exception("full check failed for %s", uri)
            self.log(
                f"deepeval: the dynamic check failed on {path}: {type(e).__name__}: {e}",
                lsp.MessageType.Error,
            )
            return
        if self.checker.pool_failed:
            self.tell(
                f"deepeval: dynamic checks cannot run: the sandboxed worker did not start "
                f"({self.checker.pool_failed}); static checks go on."
            )
        self.publish(uri, version, report, final=True)

    def is_current(self, uri: str, version: int | None) -> bool:
        view = self.views.get(uri)
        if view is not None:
            nb = self.workspace.get_notebook_document(notebook_uri=uri)
            return nb is not None and nb.version == view.version == version
        doc = self.workspace.text_documents.get(uri)
        return doc is not None and doc.version == version

    def columns(self, uri: str) -> convert.Columns:
        doc = self.workspace.get_text_document(uri)
        return convert.Columns(doc.lines, self.workspace.position_codec)

    def publish(self, uri: str, version: int | None, report: Report, *, final: bool) -> None:
        if not self.is_current(uri, version):
            return  # a newer version is on its way; this result is stale
        previous = self.docs.get(uri)
        if not final and previous is not None and previous.version == version and previous.final:
            return  # the full check of this version came first: it says more
        view = self.views.get(uri)
        if view is not None:
            notebook_report(report, view.notebook)
        model = report.model
        if model is None and not final and previous is not None:
            model = previous.model
        self.docs[uri] = DocState(version, report, final, model)
        if final and (previous.model if previous else None) != model:
            self.refresh_inlay_hints()
        if view is not None:
            self.publish_cells(view, report)
        elif report.error and report.passes.get("static") == TOO_LARGE:
            diagnostics = [convert.notice(report.error)]  # no line table for a huge text
            self.publish_diagnostics(uri, diagnostics, version)
        else:
            diagnostics = convert.to_lsp_diagnostics(report, self.columns(uri), uri)
            self.publish_diagnostics(uri, diagnostics, version)
        reason = None if self.dynamic_enabled else (self.no_framework or "dynamic checks are off")
        params = convert.status(report, reason)
        params.update(uri=uri, version=version, final=final, timings_ms=report.timings_ms)
        self.protocol.notify(STATUS_NOTIFICATION, params)

    def publish_diagnostics(
        self, uri: str, diagnostics: list[lsp.Diagnostic], version: int | None = None
    ) -> None:
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    def publish_cells(self, view: notebooks.NotebookView, report: Report) -> None:
        """A notebook's report on its cells' URIs; cells no longer in it are cleared."""
        if not view.cells:
            by_cell: dict[str, list[lsp.Diagnostic]] = {}
        elif report.error and report.passes.get("static") == TOO_LARGE:
            by_cell = {uri: [] for uri in view.cells}
            by_cell[view.cells[0]] = [convert.notice(report.error)]
        else:
            cols = notebooks.CellColumns(self.workspace, view)
            by_cell = notebooks.to_cell_diagnostics(report, view, cols)
        last = self._published_cells.get(view.uri, {})
        for gone in set(last) - set(by_cell):
            self.publish_diagnostics(gone, [])
        now = self._published_cells[view.uri] = {}
        for cell, (uri, diagnostics) in enumerate(by_cell.items()):
            now[uri] = (view.cell_versions[cell], diagnostics)
            if last.get(uri) != now[uri]:
                self.publish_diagnostics(uri, diagnostics, view.cell_versions[cell])

    def cell(self, uri: str) -> tuple[notebooks.NotebookView, int, DocState] | None:
        """For a cell of an open notebook: the notebook's view, the cell's index in it and the
        notebook's current report; None for any other document, or before the first report."""
        nb = self.workspace.get_notebook_document(cell_uri=uri)
        view = self.views.get(nb.uri) if nb is not None else None
        state = self.current(view.uri) if view is not None else None
        cell = view.cell_of(uri) if view is not None else None
        if view is None or state is None or state.unchecked or cell is None:
            return None
        return view, cell, state

    def is_cell(self, uri: str) -> bool:
        return self.workspace.get_notebook_document(cell_uri=uri) is not None

    def cell_code_actions(self, uri: str, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        found = self.cell(uri)
        if found is None:
            return []
        view, cell, state = found
        cols = notebooks.CellColumns(self.workspace, view)
        return notebooks.code_actions(
            state.report, view, cols, cell, params.range, params.context.only
        )

    def cell_hover(self, uri: str, position: lsp.Position) -> str | None:
        found = self.cell(uri)
        if found is None:
            return None
        view, cell, state = found
        cols = notebooks.CellColumns(self.workspace, view)
        text = convert.hover(state.model, notebooks.to_program(view, cols, cell, position))
        if text is None and is_entry_point(view.notebook.cell_line(cell, position.line), state):
            text = convert.model_hover(state.model, state.report.semantic)
        return text

    def cell_inlay_hints(self, uri: str, rng: lsp.Range) -> list[lsp.InlayHint]:
        found = self.cell(uri)
        if found is None:
            return []
        view, cell, state = found
        cols = notebooks.CellColumns(self.workspace, view)
        return notebooks.inlay_hints(state.model, view, cols, cell, rng)

    def refresh_inlay_hints(self) -> None:
        caps = self.client_capabilities.workspace
        hints = caps.inlay_hint if caps else None
        if hints and hints.refresh_support:
            self.workspace_inlay_hint_refresh(None)

    def on_close(self, uri: str) -> None:
        """A document or notebook closed: its checks stop and its diagnostics (a notebook's on
        each of its cells) are cleared."""
        self.debouncer.cancel(uri)
        self.docs.pop(uri, None)
        self._static.pop(uri, None)
        self._static_jobs.pop(uri, None)
        view = self.views.pop(uri, None)
        cells = set(self._published_cells.pop(uri, {})) | set(view.cells if view else ())
        for cell in sorted(cells):
            self.publish_diagnostics(cell, [])
        if view is None and not cells:
            self.publish_diagnostics(uri, [])

    def recheck_open_documents(self) -> None:
        for uri in list(self.workspace.text_documents):
            if not self.is_cell(uri):  # cells are checked with their notebook
                self.on_document(uri)
        for nb in list(self.workspace.notebook_documents.values()):
            self.on_notebook(nb.uri)

    def on_entry_point(self, uri: str, line: int, state: DocState) -> bool:
        """Is `line` the `def`/`class` line of the model's entry point (`dl_model` by default)?"""
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return False
        lines = doc.lines
        return is_entry_point(lines[line] if 0 <= line < len(lines) else "", state)

    def current(self, uri: str) -> DocState | None:
        state = self.docs.get(uri)
        if state is None or not self.is_current(uri, state.version):
            return None
        return state

    # -- commands -----------------------------------------------------------------------------

    def model_summary(self, uri: str) -> dict[str, Any]:
        from deepeval_lsp.diagnostics.render import render_model_summary

        nb = self.workspace.get_notebook_document(cell_uri=uri)
        if nb is not None:  # a cell's model is its notebook's
            uri = nb.uri
        state = self.current(uri)
        if state is None:
            return {"uri": uri, "text": "deepeval: this document has not been checked yet"}
        report = state.report
        if report.model is None:
            why = report.passes.get("dynamic", "the model did not build")
            if not self.dynamic_enabled:
                why = (
                    self.no_framework
                    or "dynamic checks are off "
                    "(deepeval.dynamicChecks, or a workspace that is not trusted)"
                )
            first = convert.status(report)["text"]
            return {"uri": uri, "text": f"No model summary: {why}.\n{first}", "model": None}
        return {
            "uri": uri,
            "text": render_model_summary(report.model),
            "model": report.model.to_json(),
        }

    async def check_workspace(self) -> dict[str, Any]:
        """Check every Python file under the workspace folders; publish for the closed ones."""

        roots = [convert.uri_to_path(f.uri) for f in self.workspace.folders.values()]
        if not roots and self.root():
            roots = [self.root()]
        options = self.settings.check_options(root=self.root())
        if not self.dynamic_enabled:
            options = self.settings.check_options(dynamic=False, root=self.root())
        files = list(iter_files(roots)) if roots else []
        found = 0
        for path in files:
            uri = convert.path_to_uri(path, "", "")
            if uri in self.workspace.text_documents:
                state = self.current(uri)
                found += len(state.report.diagnostics) if state else 0
                continue
            report = await self.checker.run(self.checker.session.check_path, path, options)
            found += len(report.diagnostics)
            lines = lsp_lines(Path(path).read_text(encoding="utf-8", errors="replace"))
            cols = convert.Columns(lines, self.workspace.position_codec)
            self.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(
                    uri=uri, diagnostics=convert.to_lsp_diagnostics(report, cols, uri)
                )
            )
        return {"files": len(files), "diagnostics": found}

    def server_info(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "python": sys.executable,
            "settings": {
                "dynamicChecks": self.settings.dynamic_checks,
                "debounceMs": self.settings.debounce_ms,
                "timeoutMs": self.settings.timeout_ms,
                "inputShape": list(self.settings.input_shape)
                if self.settings.input_shape
                else None,
                "framework": self.settings.framework,
                "maxDocumentBytes": self.settings.max_document_bytes,
            },
            "dynamic": {
                "enabled": self.dynamic_enabled,
                "pool": self.checker.pool_started,
                "missing": self.no_framework,
                "pool_failed": self.checker.pool_failed,
            },
        }


def is_entry_point(text: str, state: DocState) -> bool:
    """Is `text` the `def`/`class` line of the model's entry point (`dl_model` by default)?"""
    entry = (state.model.entry_point if state.model else "") or "dl_model"
    name = entry.split("(")[0].split(".")[-1]
    return bool(name) and (f"def {name}" in text or f"class {name}" in text)


def document_bytes(source: str) -> int:
    """The size of a document in UTF-8 bytes (the length when it is ASCII, without encoding)."""
    return len(source) if source.isascii() else len(source.encode("utf-8", "surrogatepass"))


def too_large(size: int, limit: int) -> str:
    return (
        f"this document is too large for deepeval-lsp to check "
        f"({size / 1e6:.1f} MB > {limit / 1e6:.1f} MB, the deepeval.maxDocumentBytes setting)"
    )


def _lsp_range_to_model(cols: convert.Columns, rng: lsp.Range) -> Range:
    return Range(cols.from_client(rng.start), cols.from_client(rng.end))


def create_server() -> DeepevalServer:
    """A server with every feature registered."""
    server = DeepevalServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: DeepevalServer, params: lsp.InitializeParams) -> None:
        # pygls made the workspace just before this handler: make it count lines as editors do.
        ls.workspace.__class__ = LspWorkspace
        start_warming()  # at once: the first diagnostic waits for the frameworks' import
        options = params.initialization_options
        if isinstance(options, dict) and "settings" in options:
            ls.apply_settings(options["settings"])
        elif options is not None and not isinstance(options, dict):
            ls.tell("deepeval: initializationOptions must be an object (ignored)")

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: DeepevalServer, params: lsp.InitializedParams) -> None:
        ls.flush_messages()
        root = ls.root()
        # The workspace holds the import roots (project.locate) of every file beneath it, and
        # settings give it as each check's project root; files outside it import on their own.
        ls.checker.read_paths = [root] if root else []
        if ls.dynamic_enabled:
            ls.checker.run_soon(ls.checker.warm_pool)
        if ls.no_framework:
            ls.tell(
                f"deepeval: {ls.no_framework}; only static checks run "
                f"(install torch or keras into {sys.executable} for shape checks)."
            )
        await pull_settings(ls)

    async def pull_settings(ls: DeepevalServer) -> None:
        caps = ls.client_capabilities.workspace
        if not (caps and caps.configuration):
            return
        epoch = ls.settings_epoch
        try:
            result = await ls.workspace_configuration_async(
                lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="deepeval")])
            )
        except Exception as e:
            ls.log(f"deepeval: workspace/configuration failed: {e}", lsp.MessageType.Warning)
            return
        if ls.settings_epoch != epoch:
            return  # settings pushed while this answer was on its way are newer
        if result and result[0] is not None:
            before = ls.settings
            ls.apply_settings(result[0])
            if ls.settings != before:
                ls.recheck_open_documents()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: DeepevalServer, params: lsp.DidChangeConfigurationParams
    ) -> None:
        pushed = params.settings
        if isinstance(pushed, dict) and isinstance(pushed.get("deepeval"), dict):
            ls.apply_settings(pushed["deepeval"])
            ls.recheck_open_documents()
        else:
            await pull_settings(ls)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DeepevalServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.on_document(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DeepevalServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.on_document(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DeepevalServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.on_close(params.text_document.uri)

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_did_open(ls: DeepevalServer, params: lsp.DidOpenNotebookDocumentParams) -> None:
        ls.on_notebook(params.notebook_document.uri)

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_did_change(
        ls: DeepevalServer, params: lsp.DidChangeNotebookDocumentParams
    ) -> None:
        ls.on_notebook(params.notebook_document.uri)

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_SAVE)
    def notebook_did_save(ls: DeepevalServer, params: lsp.DidSaveNotebookDocumentParams) -> None:
        """Nothing to do: the cells' texts, checked at every change, are what was saved."""

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_did_close(ls: DeepevalServer, params: lsp.DidCloseNotebookDocumentParams) -> None:
        ls.on_close(params.notebook_document.uri)

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(
            code_action_kinds=[lsp.CodeActionKind.QuickFix, convert.FIX_ALL_KIND],
            resolve_provider=False,
        ),
    )
    def code_action(ls: DeepevalServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        if ls.is_cell(uri):
            return ls.cell_code_actions(uri, params)
        state = ls.current(uri)
        if state is None or state.unchecked:
            return []
        cols = ls.columns(uri)
        wanted = _lsp_range_to_model(cols, params.range)
        return convert.code_actions(
            state.report, uri, state.version, cols, wanted, params.context.only
        )

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: DeepevalServer, params: lsp.HoverParams) -> lsp.Hover | None:
        if ls.is_cell(params.text_document.uri):
            text = ls.cell_hover(params.text_document.uri, params.position)
        else:
            state = ls.current(params.text_document.uri)
            if state is None or state.unchecked:
                return None
            cols = ls.columns(params.text_document.uri)
            pos = cols.from_client(params.position)
            text = convert.hover(state.model, pos)
            if text is None and ls.on_entry_point(params.text_document.uri, pos.line, state):
                text = convert.model_hover(state.model, state.report.semantic)
        if text is None:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))

    @server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT, lsp.InlayHintOptions(resolve_provider=False))
    def inlay_hint(ls: DeepevalServer, params: lsp.InlayHintParams) -> list[lsp.InlayHint]:
        if ls.is_cell(params.text_document.uri):
            return ls.cell_inlay_hints(params.text_document.uri, params.range)
        state = ls.current(params.text_document.uri)
        if state is None or state.unchecked:
            return []
        cols = ls.columns(params.text_document.uri)
        return convert.inlay_hints(
            state.model, cols, params.range.start.line, params.range.end.line
        )

    @server.command(CMD_MODEL_SUMMARY)
    def model_summary(ls: DeepevalServer, *args: Any) -> dict[str, Any]:
        uri = args[0] if args and isinstance(args[0], str) else None
        if uri is None:
            raise ValueError(f"{CMD_MODEL_SUMMARY} takes a document URI")
        return ls.model_summary(uri)

    @server.command(CMD_CHECK_WORKSPACE)
    async def check_workspace(ls: DeepevalServer, *args: Any) -> dict[str, Any]:
        return await ls.check_workspace()

    @server.command(CMD_SERVER_INFO)
    def server_info(ls: DeepevalServer, *args: Any) -> dict[str, Any]:
        return ls.server_info()

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: DeepevalServer, params: Any) -> None:
        ls.debouncer.cancel_all()
        ls._static_thread.shutdown(wait=False, cancel_futures=True)
        ls.checker.close()

    return server


__all__ = ["DeepevalServer", "Position", "create_server"]
