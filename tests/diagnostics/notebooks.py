"""Notebooks for the tests, written as Jupyter writes them (nbformat 4, indent 1, a trailing
newline), with outputs, metadata and ids that a fix must leave as they are."""

from __future__ import annotations

import json
from pathlib import Path


def notebook_text(*cells: str | tuple[str, str]) -> str:
    """A notebook of these cells: a string is a code cell, ("markdown", text) another kind."""
    out = []
    for i, cell in enumerate(cells):
        kind, source = ("code", cell) if isinstance(cell, str) else cell
        entry: dict = {"cell_type": kind}
        if kind == "code":
            entry["execution_count"] = i + 1
        entry["id"] = f"c{i:02d}-ünï"
        entry["metadata"] = {"tags": ["t"], "scrolled": True}
        if kind == "code":
            entry["outputs"] = [
                {"name": "stdout", "output_type": "stream", "text": [f"cell {i}\n", "done"]},
                {
                    "data": {"image/png": "iVBORw0KGgo=\n"},
                    "metadata": {},
                    "output_type": "display_data",
                },
            ]
        entry["source"] = source.splitlines(keepends=True)
        out.append(entry)
    doc = {
        "cells": out,
        "metadata": {"kernelspec": {"display_name": "Python 3", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def write_notebook(path: Path, *cells: str | tuple[str, str]) -> Path:
    path.write_text(notebook_text(*cells), encoding="utf-8")
    return path


def sources(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]]
