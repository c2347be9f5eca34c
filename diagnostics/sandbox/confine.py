"""The sandbox a checked program runs in: one forked child per job, confined in layers (DESIGN §6).

`enter()` is called by the worker's zygote in each freshly forked child, before its job is known.
In order: a new session and process group (so the whole group can be SIGKILLed), death with the
parent, stdout/stderr to a file in a fresh temp directory that is also the working directory and
HOME, a scrubbed environment, no core dumps, a network namespace of its own (no interface but a
loopback that is down), then, when running as root, the uid and gid of nobody with every
capability dropped (but for reading, when Landlock confines what is read: see `_drop_root`),
Landlock (reads only where Python lives and the few system files torch, Keras and TensorFlow
read, writes only to the temp dir and /dev/null, no exec, no TCP, no signals outside), a seccomp
filter (no fork, exec, socket, io_uring, memfd or privileged kernel interface, even for root)
and last the audit hook (audit.py) that refuses the same things early with a friendly
`SandboxViolation` at the offending line. When the job arrives, `limits.apply_limits()` sets its
rlimits. No layer is enough on its own: the audit hook is not a boundary
(`_posixsubprocess.fork_exec` and `torch.save` bypass it), and Landlock, seccomp or the network
namespace may be missing from the kernel, which the result then says. Linux only.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import resource
import signal
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from deepeval_lsp.diagnostics.sandbox import landlock, seccomp
from deepeval_lsp.diagnostics.sandbox.audit import AuditHook
from deepeval_lsp.diagnostics.sandbox.limits import (
    CAP_DAC_READ_SEARCH,
    drop_capabilities,
    memory_status,
)

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
# The unprivileged identity a root child takes (nobody, nogroup on Debian and Fedora alike).
NOBODY = 65534
# What a child reads beyond Python's own folders. Measured with strace on the selftest and the
# paper tests, a child opens /dev/urandom, /proc/self/{exe,cmdline}, /proc/cpuinfo and the CPU
# topology of /sys; the loader's cache and configuration (a library loaded lazily), the time
# zone and the user database (getpass and expanduser fall back to it) are the rest. Not /etc
# wholesale (/etc/shadow), not /proc (every process's command line), not /dev (consoles,
# disks) nor /sys. "/proc/self" is added in the child itself: resolved in the zygote it would
# be the zygote's folder.
SYSTEM_READS = (
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/opt",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/sys/devices/system/cpu",
    "/dev/null",
    "/dev/zero",
    "/dev/random",
    "/dev/urandom",
)
_OWN_PROC = ("/proc/self", "/proc/thread-self")
_PR_SET_PDEATHSIG = 1
_PR_SET_KEEPCAPS = 8
_PR_GET_DUMPABLE = 3
_PR_SET_DUMPABLE = 4
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_MEMORY = memory_status()  # in the zygote, once: every child inherits it
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class SandboxState:
    """What the layers of one child's sandbox achieved; reported with every result."""

    landlock: str
    seccomp: str
    netns: str = "unavailable: not attempted"
    uid: str = ""
    memory: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def python_read_paths(extra: Iterable[str] = ()) -> list[str]:
    """Where the interpreter and its packages may read from, computed in the zygote: the prefixes,
    sys.path, the system's library and configuration folders, the folders of every package
    loaded (an editable install maps packages to folders that are not on sys.path), and `extra`."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)}
    paths.update(extra)
    paths.update(p for p in sys.path if p)
    paths.update(SYSTEM_READS)
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

    netns_state = _enter_netns()
    if os.geteuid() == 0:
        uid_state = _drop_root(tmpdir, keep_reads=landlock_expected)
    else:
        uid_state = f"uid {os.getuid()} (not root)"
        if netns_state == "enforced":
            drop_capabilities()  # those of the user namespace the network namespace needed
    try:
        reads = [*read_paths, *_OWN_PROC]
        abi = landlock.restrict(reads, [tmpdir], [os.devnull])
        landlock_state = f"enforced (ABI {abi})"
    except OSError as e:
        if landlock_expected:
            raise
        landlock_state = landlock.unavailable(e)
    try:
        seccomp.install(os.getpid())
        seccomp_state = "enforced"
    except OSError as e:
        seccomp_state = f"unavailable: {e.strerror or e}"
        if os.geteuid() != 0:
            # Without seccomp, refuse new processes the old way (root is exempt from it).
            resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    sys.addaudithook(AuditHook(tmpdir))
    return SandboxState(
        landlock=landlock_state,
        seccomp=seccomp_state,
        netns=netns_state,
        uid=uid_state,
        memory=_MEMORY,
    )


def _enter_netns() -> str:
    """A network namespace of the child's own, with nothing in it but a loopback that is down:
    even a socket made some way past seccomp reaches nothing. Root needs no user namespace;
    anyone else needs one (with its own uid and gid mapped, so files keep their owner)."""
    root = os.geteuid() == 0
    uid, gid = os.getuid(), os.getgid()
    flags = _CLONE_NEWNET if root else _CLONE_NEWUSER | _CLONE_NEWNET
    if _libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        why = "user namespaces are off" if not root and err in (errno.EPERM, errno.ENOSPC) else ""
        return f"unavailable: unshare: {os.strerror(err)}" + (f" ({why})" if why else "")
    if not root:
        # /proc/self is root's while the process is not dumpable (after a change of uid).
        dumpable = _libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0)
        _libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
        try:
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                               ("gid_map", f"{gid} {gid} 1")):  # fmt: skip
                with open(f"/proc/self/{name}", "w") as f:
                    f.write(text)
        except OSError as e:
            raise OSError(e.errno, f"user namespace mapping: {e.strerror}") from e
        finally:
            _libc.prctl(_PR_SET_DUMPABLE, dumpable, 0, 0, 0)
    return "enforced"


def _drop_root(tmpdir: str, *, keep_reads: bool) -> str:
    """Become nobody: the temp dir becomes nobody's, the zygote's folder of temp dirs traversable
    (not listable), and every capability goes (no mount, no module loading, no writing of the
    system's files, no reading of /etc/shadow). With `keep_reads` (Landlock will confine every
    read to the read list) CAP_DAC_READ_SEARCH stays, so that a root user's own folders (mode
    0700, granted as the workspace) can still be read and imported from; seccomp refuses
    open_by_handle_at, the one thing it allows beyond reading."""
    os.chown(tmpdir, NOBODY, NOBODY)
    os.fchown(1, NOBODY, NOBODY)  # the output file, which the program may reopen by name
    parent = os.path.dirname(tmpdir)
    mode = os.stat(parent).st_mode
    if not mode & 0o001:
        os.chmod(parent, (mode & 0o7777) | 0o111)
    if keep_reads and _libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:
        keep_reads = False
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)
    drop_capabilities(keep=CAP_DAC_READ_SEARCH if keep_reads else 0)
    return f"uid {NOBODY}" + (" (reads: Landlock)" if keep_reads else "")
