"""`deepeval-lsp serve`: run the language server over stdio (the default) or TCP."""

from __future__ import annotations

import argparse
import logging
import os
import sys


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a number, got {port!r}") from None
    if not 0 < number < 65536:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, got {number}")
    return host.strip("[]"), number


def _protocol_stdout():
    """Standard output for the protocol alone: anything else printed there (by the frameworks
    the checkers import, or by C libraries) goes to standard error instead of corrupting it."""
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return protocol


def add_arguments(p: argparse.ArgumentParser) -> None:
    transport = p.add_mutually_exclusive_group()
    transport.add_argument(
        "--stdio", action="store_true", help="talk LSP over standard input/output (the default)"
    )
    transport.add_argument(
        "--tcp",
        type=_host_port,
        metavar="HOST:PORT",
        help="listen for one editor on a TCP address instead",
    )
    p.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="warning",
        help="server log level, written to standard error (default warning)",
    )
    p.add_argument("--log-file", metavar="PATH", help="write the log to this file instead")


def run(args: argparse.Namespace) -> int:
    handler: logging.Handler = (
        logging.FileHandler(args.log_file, encoding="utf-8")
        if args.log_file
        else logging.StreamHandler(sys.stderr)  # stdout carries the protocol
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=args.log_level.upper(), handlers=[handler], force=True)

    protocol = None if args.tcp else _protocol_stdout()  # before anything can print
    # Taken now: the frameworks' guarded import below swaps sys.stdin for an empty stream while
    # it runs (diagnostics/framework.py), on its own thread.
    stdin = sys.stdin.buffer
    from deepeval_lsp.server.dynamic import start_warming

    # The frameworks' import takes seconds: it overlaps with the server's own start-up.
    start_warming()
    from deepeval_lsp.server.server import create_server

    server = create_server()
    try:
        if args.tcp:
            host, port = args.tcp
            print(f"deepeval-lsp: listening on {host}:{port}", file=sys.stderr, flush=True)
            server.start_tcp(host, port)
        else:
            server.start_io(stdin, protocol)
    finally:
        server.checker.close()
    return 0
