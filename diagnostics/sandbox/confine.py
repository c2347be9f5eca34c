"""The sandbox a checked program runs in: one forked child per job, confined in layers (DESIGN §6).

`enter()` is called by the worker pool in each freshly forked child, before its job is known. In
order: a new session and process group (so the whole group can be SIGKILLed), death with the
parent, stdout/stderr to a file in a fresh temp directory that is also the working directory and
HOME, a scrubbed environment, no core dumps, all capabilities dropped when running as root,
Landlock (reads only where Python lives, writes only to the temp dir and /dev/null, no exec, no
TCP, no signals outside), a seccomp filter (no fork, exec or socket, even for root) and last an
audit hook that refuses the same things early with a friendly `SandboxViolation` at the offending
line. When the job arrives, `apply_limits()` sets its rlimits: address space, CPU time, file size
(which caps the captured output too) and open files. No layer is enough on its own: the audit
hook is not a boundary (`_posixsubprocess.fork_exec` and `torch.save` bypass it), and Landlock
or seccomp may be missing from the kernel, which the result then says.

There is no network namespace: seccomp refusing socket() outright (with Landlock refusing TCP and
the audit hook refusing early) already leaves no network, at no cost, where unshare(CLONE_NEWNET)
needs root or a user namespace and takes milliseconds per child. Linux only.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

from deepeval_lsp.diagnostics.sandbox import landlock, seccomp

# What torch, keras and numpy read from the environment; everything else (API keys!) goes.
KEPT_ENV = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_NUMERIC",
    "TZ",
    "KERAS_BACKEND",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "PYTHONHASHSEED",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
)
OUTPUT_FILE = "output.log"
_PR_SET_PDEATHSIG = 1
_GiB = 1 << 30
_MiB = 1 << 20


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one sandboxed job. CPU seconds follow the job's wall-clock timeout."""

    address_space_bytes: int = 4 * _GiB
    file_size_bytes: int = 32 * _MiB  # each file, the captured stdout/stderr included
    open_files: int = 256
    result_bytes: int = 8 * _MiB  # a larger result becomes an error result
    disk_bytes: int = 256 * _MiB  # all files of the temp dir together, checked 4 times a second
    disk_entries: int = 10_000

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SandboxLimits:
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in data.items() if k in known})


class SandboxViolation(PermissionError):
    """The checked program tried something the sandbox refuses (run a program, open a socket…)."""

    def __init__(self, event: str, description: str) -> None:
        super().__init__(f"{description} (refused by the sandbox: {event})")
        self.event = event
        self.description = description


@dataclass
class SandboxState:
    """What the layers of one child's sandbox achieved; reported with every result."""

    landlock: str
    seccomp: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def disk_usage(root: str, max_entries: int) -> tuple[int, int]:
    """(bytes allocated, entries) beneath `root`; stops counting entries past `max_entries`."""
    total, entries = 0, 0
    stack = [root]
    while stack and entries <= max_entries:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    entries += 1
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total, entries


def python_read_paths(extra: Iterable[str] = ()) -> list[str]:
    """Where the interpreter and its packages may read from, computed in the zygote: the prefixes,
    sys.path, the system's library and configuration folders, the folders of every package
    loaded (an editable install maps packages to folders that are not on sys.path), and `extra`."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)}
    paths.update(extra)
    paths.update(p for p in sys.path if p)
    paths.update(("/usr", "/lib", "/lib64", "/lib32", "/etc", "/proc", "/sys", "/dev", "/opt"))
    for module in list(sys.modules.values()):
        locations = getattr(module, "__path__", None)
        if locations is not None:
            with contextlib.suppress(TypeError):
                paths.update(p for p in locations if isinstance(p, str))
    # Never a whole tree of the user's: an entry like "" or "." would be the working folder.
    too_wide = {"/", "/tmp", "/home", "/root", os.path.expanduser("~")}
    real = sorted(
        {
            r
            for p in paths
            if p and os.path.isabs(p) and os.path.exists(p)
            if (r := os.path.realpath(p)) not in too_wide
        }
    )
    kept: list[str] = []
    for p in real:  # sorted, so an ancestor comes before what it holds
        if not any(p == k or p.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(p)
    return kept


def enter(
    tmpdir: str,
    read_paths: list[str],
    *,
    parent_pid: int,
    landlock_expected: bool,
) -> SandboxState:
    """Confine the calling (freshly forked) child, before it knows its job; `apply_limits` adds
    the job's own limits. Raises OSError when a layer fails that the kernel does support: the
    job must not run half-confined."""
    os.setsid()
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    # Past RLIMIT_FSIZE, write() fails with EFBIG instead of the process being killed.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    out = os.open(os.path.join(tmpdir, OUTPUT_FILE), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)

    os.chdir(tmpdir)
    kept = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
    os.environ.clear()
    os.environ.update(kept, HOME=tmpdir, TMPDIR=tmpdir, PWD=tmpdir)
    tempfile.tempdir = tmpdir
    sys.dont_write_bytecode = True
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    if os.geteuid() == 0:
        _drop_capabilities()
    try:
        abi = landlock.restrict(read_paths, [tmpdir], [os.devnull])
        landlock_state = f"enforced (ABI {abi})"
    except OSError as e:
        if landlock_expected:
            raise
        landlock_state = landlock.unavailable(e)
    try:
        seccomp.install()
        seccomp_state = "enforced"
    except OSError as e:
        seccomp_state = f"unavailable: {e.strerror or e}"
        if os.geteuid() != 0:
            # Without seccomp, refuse new processes the old way (root is exempt from it).
            resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    sys.addaudithook(_AuditHook(tmpdir))
    return SandboxState(landlock=landlock_state, seccomp=seccomp_state)


def apply_limits(limits: SandboxLimits, timeout_s: float) -> None:
    """The job's resource limits; CPU seconds follow its wall-clock timeout (a backstop: the
    zygote SIGKILLs the process group at the timeout itself)."""
    cpu = max(1, int(timeout_s + 1.999))
    for which, soft, hard in (
        (resource.RLIMIT_CPU, cpu, cpu + 1),  # SIGXCPU first, which reads as a timeout
        (resource.RLIMIT_AS, limits.address_space_bytes, limits.address_space_bytes),
        (resource.RLIMIT_FSIZE, limits.file_size_bytes, limits.file_size_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files, limits.open_files),
    ):
        ceiling = resource.getrlimit(which)[1]
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        resource.setrlimit(which, (soft, hard))


_libc = ctypes.CDLL(None, use_errno=True)


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def _drop_capabilities() -> None:
    """Root keeps its uid (it owns the temp dir) but loses every capability: no mount, no
    module loading, no reading of files it does not own through CAP_DAC_OVERRIDE…"""
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    if _libc.capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"could not drop capabilities: {os.strerror(err)}")


_PROCESS_EVENTS = {
    "os.system": "run a shell command",
    "os.exec": "run another program",
    "os.posix_spawn": "start another program",
    "os.spawn": "start another program",
    "os.fork": "start a new process",
    "os.forkpty": "start a new process",
    "subprocess.Popen": "start another program",
    "os.startfile": "open a file with another program",
    "webbrowser.open": "open a web browser",
    "os.kill": "send a signal to a process",
    "os.killpg": "send a signal to a process group",
    "signal.pthread_kill": "send a signal to a thread",
}
_NETWORK_EVENTS = {
    "socket.__new__": "open a network socket",
    "socket.connect": "connect to the network",
    "socket.bind": "listen on the network",
    "socket.sendto": "send data over the network",
    "socket.sendmsg": "send data over the network",
    "socket.getaddrinfo": "look up a host name",
    "socket.gethostbyname": "look up a host name",
    "socket.gethostbyaddr": "look up a host name",
    "urllib.Request": "download from the network",
    "http.client.connect": "connect to the network",
}
_NATIVE_EVENTS = {
    "ctypes.dlopen": "load a native library",
    "ctypes.dlsym": "look up a native function",
    "ctypes.dlsym/handle": "look up a native function",
}
_REFUSED = {**_PROCESS_EVENTS, **_NETWORK_EVENTS, **_NATIVE_EVENTS}
# Events whose arguments name paths: allowed inside the temp dir only.
_PATH_EVENTS = {
    "os.remove": ("delete", (0,)),
    "os.rmdir": ("delete", (0,)),
    "os.rename": ("move", (0, 1)),
    "os.mkdir": ("create a directory", (0,)),
    "os.chmod": ("change permissions of", (0,)),
    "os.chown": ("change the owner of", (0,)),
    "os.link": ("link", (0, 1)),
    "os.symlink": ("link", (1,)),
    "os.truncate": ("truncate", (0,)),
    "os.utime": ("touch", (0,)),
    "shutil.rmtree": ("delete", (0,)),
    "shutil.copyfile": ("copy to", (1,)),
    "shutil.copytree": ("copy to", (1,)),
    "shutil.move": ("move", (0, 1)),
    "sqlite3.connect": ("open a database at", (0,)),
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class _AuditHook:
    """sys.addaudithook callback; cheap for the thousands of events it lets through."""

    def __init__(self, tmpdir: str) -> None:
        self.tmpdir = os.path.realpath(tmpdir)
        self.watched = frozenset(_REFUSED) | frozenset(_PATH_EVENTS) | {"open"}

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in self.watched:
            return
        if event in _REFUSED:
            raise SandboxViolation(event, f"the program tried to {_REFUSED[event]}")
        if event == "open":
            path, mode, flags = (*args, None, None, None)[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing and not isinstance(path, int) and not self._inside(path):
                raise SandboxViolation(
                    event, f"the program tried to write {os.fsdecode(path)!r} outside its sandbox"
                )
            return
        verb, positions = _PATH_EVENTS[event]
        for i in positions:
            if i < len(args) and args[i] is not None and not self._inside(args[i]):
                where = os.fsdecode(args[i])
                raise SandboxViolation(
                    event, f"the program tried to {verb} {where!r} outside its sandbox"
                )

    def _inside(self, path: Any) -> bool:
        if isinstance(path, int):
            return True  # an already open descriptor
        if isinstance(path, str) and path == ":memory:":
            return True
        try:
            p = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return p == os.devnull or p == self.tmpdir or p.startswith(self.tmpdir + os.sep)
