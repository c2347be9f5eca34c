"""The sandbox's audit hook: early, friendly refusals at the offending line (DESIGN §6).

`AuditHook` is the last layer `confine.enter()` installs. It refuses starting programs or
processes, signalling others, the network and loading native code, and writes or deletions
outside the job's temp dir, with a `SandboxViolation` that names what the program tried. It is
not a boundary (`_posixsubprocess.fork_exec` and `torch.save` bypass it): Landlock and seccomp
are.
"""

from __future__ import annotations

import os
from typing import Any


class SandboxViolation(PermissionError):
    """The checked program tried something the sandbox refuses (run a program, open a socket…)."""

    def __init__(self, event: str, description: str) -> None:
        super().__init__(f"{description} (refused by the sandbox: {event})")
        self.event = event
        self.description = description


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


class AuditHook:
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
