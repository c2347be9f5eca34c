"""Resource limits of one sandboxed job, and the capabilities a root child gives up.

`apply_limits()` runs in the child once its job is known: address space, CPU time (following the
job's wall-clock timeout), file size (which caps the captured output too) and open files. The
zygote watches what the child writes with `disk_usage()`, and with `unlinked_bytes()` what it
still holds open after deleting it (a deleted file vanishes from the walk but not from the disk);
`drop_capabilities()` is part of entering the sandbox (confine.enter) when running as root.

Memory is bounded by the address space (RLIMIT_AS), which counts every mapping but not the pages
of a file the program keeps in memory without mapping it: memfds (the seccomp filter refuses
memfd_create), tmpfs files (Landlock lets it write only to its temp dir, on disk unless the
system's temp folder is a tmpfs: then the disk cap bounds them). A cgroup would count these the
way the kernel does; `memory_status()` says whether one is used (see its docstring). Linux only.
"""

from __future__ import annotations

import os
import resource
import stat
from dataclasses import asdict, dataclass, fields
from typing import Any

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


def disk_usage(root: str | int, max_entries: int) -> tuple[int, int]:
    """(bytes allocated, entries) beneath `root` (a folder, or an open descriptor of one); stops
    counting entries past `max_entries`. Only folders are opened, each relative to its parent's
    descriptor and with O_NOFOLLOW, so a symlink planted in the tree (or swapped for a folder
    mid-walk) leads nowhere, and no FIFO or device is ever opened. A tree nested deeper than 64
    folders counts as more than `max_entries`: its depth would cost the walk a descriptor each."""
    max_depth = 64
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    total, entries = 0, 0

    def walk(fd: int, depth: int) -> None:
        nonlocal total, entries
        folders = []
        with os.scandir(fd) as it:
            for entry in it:  # a folder is counted whole, as far as the cap goes between folders
                entries += 1
                try:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.name)
                except OSError:
                    continue
        for name in folders:
            if entries > max_entries:
                return
            if depth >= max_depth:
                entries = max_entries + 1
                return
            try:
                sub = os.open(name, flags, dir_fd=fd)
            except OSError:
                continue
            try:
                walk(sub, depth + 1)
            except OSError:
                pass
            finally:
                os.close(sub)

    own = isinstance(root, str)
    try:
        fd = os.open(root, flags) if isinstance(root, str) else root
    except OSError:
        return 0, 0
    try:
        walk(fd, 1)
    except OSError:
        pass
    finally:
        if own:
            os.close(fd)
    return total, entries


def unlinked_bytes(pid: int) -> int:
    """Bytes allocated to the files process `pid` holds open that no folder names any more
    (deleted after opening, or made with O_TMPFILE): what `disk_usage` cannot see. 0 when its
    descriptors cannot be read (it has exited)."""
    total = 0
    fds = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fds)
    except OSError:
        return 0
    for name in names:
        try:
            st = os.stat(os.path.join(fds, name))
        except OSError:
            continue
        if st.st_nlink == 0 and stat.S_ISREG(st.st_mode):
            total += st.st_blocks * 512
    return total


def memory_status() -> str:
    """The one-line memory status of a child: what bounds its memory. Always the address-space
    limit; a cgroup v2 memory controller is not used (delegating one to each job needs a
    writable, delegated cgroup tree, which a server rarely has: on this kind of host the
    unified hierarchy offers no memory controller at all, and the v1 one belongs to the
    container's manager)."""
    for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        try:
            with open(os.path.join(root, "cgroup.controllers")) as f:
                if "memory" in f.read().split():
                    return "address space (RLIMIT_AS); cgroup: not used"
        except OSError:
            continue
    return "address space (RLIMIT_AS); cgroup: unavailable: no cgroup v2 memory controller"


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


CAP_DAC_READ_SEARCH = 2


def drop_capabilities(keep: int = 0) -> None:
    """Give up every capability but `keep` (a capability number, 0: none): no mount, no module
    loading, no reading or writing of others' files through CAP_DAC_OVERRIDE…"""
    import ctypes  # here, not at import: the checker's process imports this module for its limits

    class _CapHeader(ctypes.Structure):
        _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))

    class _CapData(ctypes.Structure):
        _fields_ = (
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        )

    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    if keep:
        data[keep // 32].effective = data[keep // 32].permitted = 1 << (keep % 32)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"could not drop capabilities: {os.strerror(err)}")
