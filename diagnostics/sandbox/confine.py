"""The sandbox a checked program runs in: one forked child per job, confined in layers (DESIGN §6).

`enter()` is called by the worker's zygote in each freshly forked child, before its job is known.
In order: a new session and process group (so the whole group can be SIGKILLed), death with the
parent, stdout/stderr to a file in a fresh temp directory that is also the working directory and
HOME, a scrubbed environment, no core dumps, all capabilities dropped when running as root,
Landlock (reads only where Python lives, writes only to the temp dir and /dev/null, no exec, no
TCP, no signals outside), a seccomp filter (no fork, exec or socket, even for root) and last the
audit hook (audit.py) that refuses the same things early with a friendly `SandboxViolation` at
the offending line. When the job arrives, `limits.apply_limits()` sets its rlimits. No layer is
enough on its own: the audit hook is not a boundary (`_posixsubprocess.fork_exec` and
`torch.save` bypass it), and Landlock or seccomp may be missing from the kernel, which the result
then says.

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
from dataclasses import asdict, dataclass

from deepeval_lsp.diagnostics.sandbox import landlock, seccomp
from deepeval_lsp.diagnostics.sandbox.audit import AuditHook
from deepeval_lsp.diagnostics.sandbox.limits import drop_capabilities

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
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class SandboxState:
    """What the layers of one child's sandbox achieved; reported with every result."""

    landlock: str
    seccomp: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


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
    """Confine the calling (freshly forked) child, before it knows its job;
    `limits.apply_limits` adds the job's own limits. Raises OSError when a layer fails that the
    kernel does support: the job must not run half-confined."""
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
        drop_capabilities()
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
    sys.addaudithook(AuditHook(tmpdir))
    return SandboxState(landlock=landlock_state, seccomp=seccomp_state)
