"""Edit → publish latency of the language server on a 30-cell Jupyter notebook, next to the same
code as one .py file, both driven over stdio as an editor drives them.

    python perf/notebook_latency.py [--static-edits 100] [--dynamic-edits 20] [--debounce 300]

The ~300-line model program of perf/lsp_latency.py is cut into 30 code cells at its top-level
statements and opened as a notebook (LSP 3.17 notebook documents: one text document per cell);
then, one at a time, a character is typed into a comment of cell 15 (notebookDocument/didChange of
that one cell) and the clock runs until the server has published for that notebook version:
  static   the immediate publish (the static pass on the whole program, the diagnostics of the
           cells they changed in sent, then the status notification this script waits for);
  dynamic  the final status of that version (after the debounce, the model built in the worker).
The same run does the same with the cells' program opened as one .py file (the same edits at the
same line) in a server of its own, the two sessions' edits taking turns, and times `ruff check`
(which reads notebooks too) on the notebook. Bars for the notebook: static p95 ≤ 30 ms;
dynamic p95 ≤ debounce + 150 ms. Exit status 1 when a bar is missed.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lsp_latency import _pct, model_file, print_rows, ruff_times, start_server

STATIC_BAR_MS = 30.0
DYNAMIC_SLACK_MS = 150.0
CELLS = 30
EDITED_CELL = 14  # cell 15: in the middle, with cells before and after it
NOTE = "# notes: "


def notebook_cells(n: int = CELLS) -> list[str]:
    """The model program cut into `n` cells at top-level statements of about equal length,
    with a comment line at the end of the edited cell for the edits to go to."""
    text = model_file().replace(f"\n{NOTE}\n", "\n")
    lines = text.splitlines(keepends=True)
    starts = [node.lineno - 1 for node in ast.parse(text).body]
    starts[0] = 0  # the first cell starts at the top
    per_cell = len(lines) / n
    bounds = [0]
    for s in starts[1:]:
        if s >= per_cell * len(bounds) and len(bounds) < n:
            bounds.append(s)
    if len(bounds) < n:
        raise SystemExit(f"the program has too few top-level statements for {n} cells")
    bounds.append(len(lines))
    cells = ["".join(lines[a:b]).strip("\n") for a, b in itertools.pairwise(bounds)]
    cells[EDITED_CELL] += "\n" + NOTE
    return cells


def cell_uri(path: Path, i: int) -> str:
    return f"vscode-notebook-cell:{path}#W{i}sZmlsZQ%3D%3D"  # as VS Code names cells


class Session:
    """One server with the cells open as a notebook (or their program as one .py file)."""

    def __init__(self, path: Path, cells: list[str], *, notebook: bool) -> None:
        self.path, self.cells, self.notebook = path, cells, notebook
        self.uri = path.as_uri()
        self.uris = [cell_uri(path, i) for i in range(len(cells))]
        self.note_line = cells[EDITED_CELL].count("\n")  # the comment, in the edited cell
        if not notebook:  # the same line of the one file
            self.note_line += sum(c.count("\n") + 1 for c in cells[:EDITED_CELL])
        self.column = len(NOTE)
        self.version = 1
        self.times: dict[str, list[float]] = {
            "static": [],
            "static_pass": [],
            "dynamic": [],
            "full": [],
        }

    async def open(self, debounce: int) -> None:
        self.client = await start_server()
        self.proc = self.client.proc
        await self.client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": self.path.parent.as_uri(),
                "capabilities": {
                    "workspace": {"configuration": True},
                    "notebookDocument": {"synchronization": {}},
                },
                "initializationOptions": {
                    "settings": {"dynamicChecks": True, "debounceMs": debounce}
                },
            },
        )
        self.client.notify("initialized", {})
        first = self.status(1, True)
        if self.notebook:
            self.client.notify(
                "notebookDocument/didOpen",
                {
                    "notebookDocument": {
                        "uri": self.uri,
                        "notebookType": "jupyter-notebook",
                        "version": 1,
                        "cells": [{"kind": 2, "document": u} for u in self.uris],
                    },
                    "cellTextDocuments": [
                        {"uri": u, "languageId": "python", "version": 1, "text": t}
                        for u, t in zip(self.uris, self.cells, strict=True)
                    ],
                },
            )
        else:
            text = "\n".join(self.cells) + "\n"
            self.client.notify(
                "textDocument/didOpen",
                {
                    "textDocument": {
                        "uri": self.uri,
                        "languageId": "python",
                        "version": 1,
                        "text": text,
                    }
                },
            )
        opened = await asyncio.wait_for(first, 300)
        kind = "notebook" if self.notebook else ".py file"
        print(f"first full check ({kind}): {opened['params']['text']}")

    def status(self, version: int, final: bool | None):
        return self.client.expect(
            lambda m: (
                m.get("method") == "deepeval/status"
                and m["params"]["uri"] == self.uri
                and m["params"]["version"] == version
                and (final is None or m["params"]["final"] == final)
            )
        )

    async def edit(self, *, dynamic: bool) -> None:
        """Type one character into the edited cell's comment; time the publishes it brings."""
        self.version += 1
        stat, fin = self.status(self.version, None), self.status(self.version, True)
        pos = {"line": self.note_line, "character": self.column}
        self.column += 1
        change = [{"range": {"start": pos, "end": pos}, "text": "x"}]
        if self.notebook:
            cell = {"uri": self.uris[EDITED_CELL], "version": self.version}
            sent = self.client.notify(
                "notebookDocument/didChange",
                {
                    "notebookDocument": {"uri": self.uri, "version": self.version},
                    "change": {"cells": {"textContent": [{"document": cell, "changes": change}]}},
                },
            )
        else:
            sent = self.client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": self.uri, "version": self.version},
                    "contentChanges": change,
                },
            )
        got = await asyncio.wait_for(stat, 60)
        done = await asyncio.wait_for(fin, 60)
        if dynamic:
            self.times["dynamic"].append((done["_t"] - sent) * 1000)
            self.times["full"].append(done["params"]["timings_ms"]["total"])
        else:
            self.times["static"].append((got["_t"] - sent) * 1000)
            self.times["static_pass"].append(got["params"]["timings_ms"]["static"])

    async def close(self) -> None:
        await self.client.request("shutdown", None)
        self.client.notify("exit", None)
        await asyncio.wait_for(self.proc.wait(), 30)


async def measure(nb_path: Path, py_path: Path, cells: list[str], args: argparse.Namespace):
    """Both sessions side by side, their edits taking turns (the machine's load falls on both
    alike)."""
    nb = Session(nb_path, cells, notebook=True)
    py = Session(py_path, cells, notebook=False)
    await nb.open(args.debounce)
    await py.open(args.debounce)
    for i in range(args.static_edits + args.dynamic_edits):
        for session in (nb, py):
            await session.edit(dynamic=i >= args.static_edits)
    await nb.close()
    await py.close()
    return nb.times, py.times


def notebook_json(cells: list[str]) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"c{i:02d}",
                    "metadata": {},
                    "outputs": [],
                    "source": c.splitlines(keepends=True),
                }
                for i, c in enumerate(cells)
            ],
            "metadata": {"kernelspec": {"display_name": "Python 3", "name": "python3"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--static-edits", type=int, default=100)
    p.add_argument("--dynamic-edits", type=int, default=20)
    p.add_argument("--debounce", type=int, default=300, help="debounceMs for the server")
    p.add_argument("--ruff-runs", type=int, default=20)
    args = p.parse_args()

    cells = notebook_cells()
    with tempfile.TemporaryDirectory() as d:
        nb_path = Path(d) / "resnet_cifar.ipynb"
        nb_path.write_text(notebook_json(cells))
        py_path = Path(d) / "resnet_cifar.py"
        py_path.write_text("\n".join(cells) + "\n")
        nb, py = asyncio.run(measure(nb_path, py_path, cells, args))
        ruff = ruff_times(nb_path, args.ruff_runs)

    n_lines = sum(c.count("\n") + 1 for c in cells)
    dyn_bar = args.debounce + DYNAMIC_SLACK_MS
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nedit -> publish latency, {len(cells)}-cell notebook ({n_lines} lines) and the same "
        f"code as one .py file, debounce {args.debounce} ms "
        f"(load average {load} on {os.cpu_count()} cores)"
    )
    rows = [
        ("static publish (notebook)", nb["static"], STATIC_BAR_MS),
        ("static publish (.py file)", py["static"], None),
        ("  static pass (notebook)", nb["static_pass"], None),
        ("  static pass (.py file)", py["static_pass"], None),
        ("dynamic publish (notebook)", nb["dynamic"], dyn_bar),
        ("dynamic publish (.py file)", py["dynamic"], None),
        ("  full check (notebook)", nb["full"], None),
        ("  full check (.py file)", py["full"], None),
    ]
    if ruff:
        rows.append(("ruff check on the notebook", ruff, None))
    missed = print_rows(rows, 32)
    for name in ("static", "dynamic"):
        if nb[name] and py[name]:
            ratio = statistics.median(nb[name]) / statistics.median(py[name])
            print(f"{name} publish p50, notebook / .py file: {ratio:.2f}")
    if nb["dynamic"]:
        print(
            f"notebook dynamic publish p95 minus the debounce: "
            f"{_pct(nb['dynamic'], 95) - args.debounce:.1f} ms (bar {DYNAMIC_SLACK_MS:.0f} ms)"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
