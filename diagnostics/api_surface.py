"""The on-disk API surface of the installed frameworks, so that the static pass imports none.

Importing torch takes seconds and hundreds of MB; a check of one file takes milliseconds. So the
surface the static pass reads (modules, their members and each member's kind, the signatures
calls are bound against, Keras's registries of names) is written once per installed version, by
`api_surface_build` in a subprocess, to the user's cache directory, and read back lazily: a
header with the index, then the records in chunks, each loaded the first time one of its
records is asked for (torch alone has tens of thousands of members; a check touches a few
dozen). Plain data in `marshal`, the fastest format Python reads.

The file is named by a digest of its key (this tool's version, the file format, Python's
version, the Keras backend and each framework's installed version, read from its metadata
without importing it) and records the key itself: a file whose key differs, that is truncated
or that does not load is rebuilt, and when no surface can be had, `surface()` answers None and
diagnostics.framework introspects the live frameworks as before. Nothing here is ever an error
of the check.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import logging
import marshal
import os
import re
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepeval_lsp import __version__

log = logging.getLogger(__name__)

FORMAT = 2
MAGIC = b"deepeval-surface\n"
# The frameworks the surface holds, in the order the builder imports them.
TOPS = ("numpy", "torch", "torchvision", "keras")
KERAS_REGISTRIES = ("activation", "initializer", "regularizer", "constraint")

# Kinds of records (one byte each in the header's `kinds`).
MODULE, CLASS, FUNCTION, OTHER = 0, 1, 2, 3
# Member values that are not records.
OID_UNKNOWN = -1  # the attribute cannot be told without importing (a lazy module) or raised
OID_MISSING = -2  # the attribute does not exist
OID_OTHER = 0  # every value that is not a module, a class or a function shares record 0

BUILD_TIMEOUT_S = 600.0
ENV_DIR = "DEEPEVAL_CACHE_DIR"
ENV_MODE = "DEEPEVAL_API_SURFACE"  # "live": always introspect the imported frameworks


def cache_dir() -> Path:
    """$DEEPEVAL_CACHE_DIR, else $XDG_CACHE_HOME/deepeval-lsp, else ~/.cache/deepeval-lsp."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deepeval-lsp"


def installed_version(dist: str) -> str | None:
    """A distribution's installed version, from the name of its metadata folder on sys.path
    (`torch-2.5.1.dist-info`), as importlib.metadata finds it, without importing the latter
    (30 ms) or the framework; None when it is not installed."""
    wanted = re.sub(r"[-_.]+", "_", dist).lower()
    for entry in sys.path:
        try:
            names = _listing(entry or ".")
        except OSError:
            continue
        for name in names:
            stem, _, suffix = name.rpartition(".")
            if suffix not in ("dist-info", "egg-info") or "-" not in stem:
                continue
            project, _, version = stem.partition("-")
            if re.sub(r"[-_.]+", "_", project).lower() == wanted:
                return version.partition("-")[0] if suffix == "egg-info" else version
    return None


@functools.cache
def _listing(folder: str) -> tuple[str, ...]:
    return tuple(os.listdir(folder))


def current_key() -> dict[str, Any]:
    return {
        "format": FORMAT,
        "tool": __version__,
        "python": f"{sys.implementation.name}-{sys.version}",
        "keras_backend": os.environ.get("KERAS_BACKEND", "torch"),
        "versions": {top: installed_version(top) for top in TOPS},
    }


def surface_path(key: dict[str, Any]) -> Path:
    # The file records its whole key too: the name only keeps versions apart.
    digest = zlib.crc32(repr(sorted(key.items())).encode())
    return cache_dir() / f"api-surface-{digest:08x}.marshal"


class CorruptSurface(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Member:
    """A module, class or function of a framework as the surface knows it (equal when it is the
    same object in the frameworks, whichever path reached it)."""

    oid: int
    kind: int


class Surface:
    """A surface file, open: its header read, its chunks read when first needed."""

    def __init__(self, path: Path, key: dict[str, Any]) -> None:
        self.path = path
        data_start, header = _read_header(path)
        if header.get("key") != key:
            raise CorruptSurface("built for other versions")
        self._data_start = data_start
        self.tops: dict[str, int | None] = header["tops"]
        self._sys_modules: dict[str, int] = header["sys_modules"]
        self._kinds: bytes = header["kinds"]
        self._chunk_starts: list[int] = header["chunk_starts"]
        self._chunk_spans: list[tuple[int, int]] = header["chunk_spans"]
        self._registries: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = header["registries"]
        self._chunks: dict[int, list[Any]] = {}
        self._lock = threading.Lock()

    # -- records ---------------------------------------------------------------------------

    def member(self, oid: int) -> Member | None:
        """The Member for a member value, or None for OID_MISSING / OID_UNKNOWN."""
        if oid < 0:
            return None
        return Member(oid, self._kinds[oid])

    def _record(self, oid: int) -> Any:
        i = bisect.bisect_right(self._chunk_starts, oid) - 1
        chunk = self._chunks.get(i)
        if chunk is None:
            with self._lock:
                chunk = self._chunks.get(i)
                if chunk is None:
                    chunk = self._load_chunk(i)
                    self._chunks[i] = chunk
        return chunk[oid - self._chunk_starts[i]]

    def _load_chunk(self, i: int) -> list[Any]:
        offset, length = self._chunk_spans[i]
        with open(self.path, "rb") as f:
            f.seek(self._data_start + offset)
            blob = f.read(length)
        if len(blob) != length:
            raise CorruptSurface("truncated")
        return marshal.loads(blob)

    # -- questions -------------------------------------------------------------------------

    def top(self, name: str) -> Member | None:
        oid = self.tops.get(name)
        return None if oid is None else self.member(oid)

    def sys_module(self, name: str) -> Member | None:
        oid = self._sys_modules.get(name)
        return None if oid is None else self.member(oid)

    def attribute(self, obj: Member, name: str) -> int:
        """getattr(obj, name) of a module or class: a record's oid, OID_MISSING or OID_UNKNOWN."""
        rec = self._record(obj.oid)
        if obj.kind == MODULE:
            _, _name, _search, members, _dir, fallback, module_type = rec
            found = members.get(name)
            if found is not None:
                return found
            # what an instance finds on its class: ModuleType's `__class__`, `__repr__`…
            for klass in self._record(module_type)[3]:
                own = self._record(klass)[5]
                if name in own:
                    return own[name]
            return fallback
        return self._class_attribute(rec, name, rec[7])

    def _class_attribute(self, rec: Any, name: str, fallback: int) -> int:
        _, _params, _defaults, mro, meta, own, _dir, _fallback, overrides = rec
        if name in own:
            return own[name]
        if name in overrides:
            return overrides[name]
        for klass in (*mro[1:], *self._record(meta)[3]):
            own = self._record(klass)[5]
            if name in own:
                return own[name]
        return fallback

    def search(self, module: Member) -> tuple[str, ...] | None:
        """A package's __path__ (where its unloaded submodules are found), else None."""
        return self._record(module.oid)[2]

    def public_names(self, obj: Member) -> tuple[str, ...]:
        """dir(obj) without the names that start with an underscore."""
        rec = self._record(obj.oid)
        if obj.kind == MODULE:
            explicit, names = rec[4], rec[3]
        elif obj.kind == CLASS:
            explicit = rec[6]
            names = {n for klass in rec[3] for n in self._record(klass)[5]}
        else:
            return ()
        if explicit is not None:
            return explicit
        return tuple(sorted(n for n in names if not n.startswith("_")))

    def params(self, obj: Member) -> tuple[Any, ...] | None:
        """The flattened parameters (framework.Params's fields) of a class or function."""
        if obj.kind not in (CLASS, FUNCTION):
            return None
        return self._record(obj.oid)[1]

    def default(self, obj: Member, name: str) -> Any:
        """The numeric default of parameter `name` in obj's signature, or None."""
        if obj.kind not in (CLASS, FUNCTION):
            return None
        return self._record(obj.oid)[2].get(name)

    def registry(self, kind: str) -> tuple[frozenset[str], tuple[str, ...]] | None:
        """Keras's names for a registry (`activation`…): those `get` accepts, those listed."""
        found = self._registries.get(kind)
        if found is None:
            return None
        return frozenset(found[0]), tuple(found[1])


def _read_header(path: Path) -> tuple[int, dict[str, Any]]:
    try:
        with open(path, "rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                raise CorruptSurface("not a surface file")
            size = int.from_bytes(f.read(8), "little")
            header = marshal.loads(f.read(size))
            start = f.tell()
            end = f.seek(0, os.SEEK_END)
    except (OSError, EOFError, ValueError, TypeError) as e:
        raise CorruptSurface(str(e)) from None
    if not isinstance(header, dict) or end - start != header.get("data_size"):
        raise CorruptSurface("truncated")
    return start, header


def write(path: Path, header: dict[str, Any], chunks: list[bytes]) -> None:
    """Write a surface file atomically: a temporary file next to it, then os.replace."""
    spans, offset = [], 0
    for blob in chunks:
        spans.append((offset, len(blob)))
        offset += len(blob)
    header = {**header, "chunk_spans": spans, "data_size": offset}
    head = marshal.dumps(header)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(MAGIC + len(head).to_bytes(8, "little") + head)
            for blob in chunks:
                f.write(blob)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


# ---------------------------------------------------------------------------------------------
# Finding or building the surface


def open_surface(path: Path, key: dict[str, Any]) -> Surface | None:
    try:
        return Surface(path, key)
    except FileNotFoundError:
        return None
    except (CorruptSurface, KeyError, OSError) as e:
        log.info("api surface %s unusable (%s): rebuilding it", path, e)
        return None


@contextlib.contextmanager
def _build_lock(directory: Path) -> Iterator[bool]:
    """One builder at a time across processes (pre-commit runs several checks at once); yields
    whether the lock is held (False where locking is not available: build anyway)."""
    try:
        import fcntl
    except ImportError:
        yield False
        return
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "api-surface.lock", "a") as f:
        deadline = time.monotonic() + BUILD_TIMEOUT_S
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    yield False
                    return
                time.sleep(0.1)
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build(path: Path, timeout: float = BUILD_TIMEOUT_S) -> bool:
    """Build the surface at `path` in a subprocess (the frameworks are imported there, not
    here); whether it succeeded."""
    import subprocess

    module = "deepeval_lsp.diagnostics.api_surface_build"
    cmd = [sys.executable, "-m", module, str(path), str(os.getpid())]
    try:
        done = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("building the api surface failed: %s", e)
        return False
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace")[-2000:]
        log.warning("building the api surface failed (%s): %s", done.returncode, tail)
        return False
    return True


KEEP_FILES = 4


def _prune(built: Path) -> None:
    """Keep the few surfaces built last (other environments' versions), remove older ones and
    the leftovers of builds that were killed."""
    try:
        files = sorted(
            (p for p in built.parent.glob("api-surface-*.marshal") if p != built),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        stale = files[KEEP_FILES - 1 :]
        day_ago = time.time() - 86400
        stale += [p for p in built.parent.glob(".api-surface-*.tmp") if p.stat().st_mtime < day_ago]
        for p in stale:
            p.unlink(missing_ok=True)
    except OSError:
        pass


def surface(*, build_missing: bool = True) -> Surface | None:
    """The surface of the installed frameworks, built first when there is none for these
    versions (unless `build_missing` is false); None when it cannot be had (the caller
    introspects the live frameworks)."""
    if os.environ.get(ENV_MODE) == "live":
        return None
    try:
        key = current_key()
        path = surface_path(key)
        found = open_surface(path, key)
        if found is not None or not build_missing:
            return found
        with _build_lock(path.parent):
            found = open_surface(path, key)  # another process may have built it meanwhile
            if found is None and build(path):
                found = open_surface(path, key)
                _prune(path)
        return found
    except Exception as e:  # the surface is an optimisation: never the check's failure
        log.warning("api surface unavailable: %s", e)
        return None
