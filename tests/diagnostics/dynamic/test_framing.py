"""Pipe framing: whole frames round-trip, end of file (even mid-frame) reads as None."""

from __future__ import annotations

import os
import threading

from deepeval_lsp.diagnostics.dynamic import framing
from deepeval_lsp.diagnostics.dynamic.framing import CancelFrame, RunFrame


def test_frames_round_trip_in_order() -> None:
    r, w = os.pipe()
    try:
        job: RunFrame = {
            "op": "run",
            "id": 7,
            "func": "pkg.mod:fn",
            "payload": {"source": "x = 1\n", "shape": [1, 3]},
            "timeout_s": 2.5,
            "limits": {"open_files": 64},
        }
        framing.send(w, job)
        framing.send(w, CancelFrame(op="cancel", id=7))
        assert framing.recv(r) == job
        assert framing.recv(r) == {"op": "cancel", "id": 7}
    finally:
        os.close(r)
        os.close(w)


def test_a_frame_larger_than_the_pipe_buffer_arrives_whole() -> None:
    r, w = os.pipe()
    big = {"op": "result", "id": 1, "result": {"text": "x" * (1 << 20)}}
    writer = threading.Thread(target=lambda: (framing.send(w, big), os.close(w)))
    writer.start()
    try:
        assert framing.recv(r) == big
        assert framing.recv(r) is None  # end of file after the last frame
    finally:
        writer.join()
        os.close(r)


def test_end_of_file_mid_frame_reads_as_none() -> None:
    r, w = os.pipe()
    framing.write_all(w, framing.HEADER.pack(100) + b'{"op":')
    os.close(w)
    try:
        assert framing.recv(r) is None
    finally:
        os.close(r)
