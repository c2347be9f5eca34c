"""The sandbox's audit hook: early, friendly refusals at the offending line (DESIGN §6).

`AuditHook` is the last layer `confine.enter()` installs. It refuses starting programs or
processes, signalling others, the network and loading native code, and writes or deletions
outside the job's temp dir, with a `SandboxViolation` that names what the program tried. It is
not a boundary (`_posixsubprocess.fork_exec` and `torch.save` bypass it): Landlock and seccomp
are.

It also keeps the checked program away from the checker that runs in the same interpreter (the
runner's functions, its report, its frames). While *user code* is on the current thread's stack it
refuses: ctypes' audited operations (reading memory, making pointers and buffers), gc's
get_objects/get_referrers/get_referents, sys._current_frames, sys.settrace/setprofile and
code.__new__ (which code.replace raises too); when user code itself calls them, sys._getframe,
marshal.loads and reading a frame through tb_frame, gi_frame, cr_frame or ag_frame (libraries use
those for their own ends: typing, enum, logging, Keras' traceback filtering); and, with user code
anywhere on the stack, setting `__code__`, `__defaults__` or `__kwdefaults__` of a function of
deepeval_lsp. User code is code whose file lies outside
the folders the interpreter's and the checker's modules were loaded from (the stdlib,
site-packages, deepeval_lsp, measured when the hook is made, never a folder of the checked
program), a file named by the `deepeval.untrusted` event (the child raises it for the checked
file), or a file name that user code compiled, so that a program cannot borrow a stdlib name with
`compile(src, "/usr/lib/python3.11/json/__init__.py", "exec")`. Only those events walk the stack.

Limits: a frame handed out by a library helper (`inspect.currentframe()`, `traceback.walk_tb`)
still reaches the runner's frames and its data in flight; Python 3.11 raises no audit event for
calling a foreign function, so ctypes calls through an existing function pointer or address go
unseen, and so does setting an attribute of a module or a class, or importing an already
imported module such as ctypes. The integrity check
(dynamic/child/integrity.py) and the result channel (result_channel.py) hold whatever this layer
misses.
"""

from __future__ import annotations

import contextlib
import os
import sys
import sysconfig
import types
from typing import Any

UNTRUSTED_EVENT = "deepeval.untrusted"  # args: (a file name whose code is the checked program's)
OWN = "deepeval_lsp"


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

# Refused while user code is anywhere on the stack: reach into memory, objects, other threads.
_WHILE_USER = {
    "gc.get_objects": "list every object of the interpreter",
    "gc.get_referrers": "look up what refers to an object",
    "gc.get_referents": "look up what an object refers to",
    "sys._current_frames": "read the stacks of every thread",
    "sys.settrace": "trace the interpreter",
    "sys.setprofile": "profile the interpreter",
    "code.__new__": "make a code object",
}
_CTYPES_WHAT = "use ctypes on the interpreter's memory"
# Refused when user code calls them itself.
_DIRECT = {
    "sys._getframe": "read the interpreter's frames",
    "marshal.loads": "load compiled code",
    "marshal.load": "load compiled code",
}
_FRAME_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
_CODE_ATTRS = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
_STACK_EVENTS = (
    frozenset(_WHILE_USER)
    | frozenset(_DIRECT)
    | {"compile", "object.__getattr__", "object.__setattr__", UNTRUSTED_EVENT}
)


def trusted_roots(exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The folders whose code is the interpreter's, its packages' or the checker's: the stdlib,
    site-packages and every folder a loaded module came from, but none inside `exclude`."""
    return tuple(
        p for p in _loaded_roots() if not any(p == e or p.startswith(e + os.sep) for e in exclude)
    )


# (len(sys.modules), the roots then): the zygote measures them once before it forks, and each
# child, whose modules are the zygote's until its job runs, reuses them (a walk of sys.modules
# takes ~60 ms: some lazy modules compute their attributes). Modules are only ever added before
# a job, so a different count means the list is stale.
_roots_measured: tuple[int, tuple[str, ...]] = (-1, ())


def _loaded_roots() -> tuple[str, ...]:
    global _roots_measured
    count = len(sys.modules)
    if _roots_measured[0] != count:
        _roots_measured = (count, _measure_roots())
    return _roots_measured[1]


def _measure_roots() -> tuple[str, ...]:
    paths = {sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and os.path.isabs(file):
            paths.add(os.path.dirname(file))
        locations = getattr(module, "__path__", None)
        if locations is not None:
            with contextlib.suppress(TypeError):
                paths.update(p for p in locations if isinstance(p, str) and os.path.isabs(p))
    out: list[str] = []
    for p in sorted(os.path.normpath(p) for p in paths if p):
        if p in ("/", "/tmp"):
            continue
        if not any(p.startswith(k + os.sep) for k in out):  # sorted: ancestors come first
            out.append(p)
    return tuple(out)


class AuditHook:
    """sys.addaudithook callback; cheap for the thousands of events it lets through."""

    def __init__(self, tmpdir: str, roots: tuple[str, ...] | None = None) -> None:
        self.tmpdir = os.path.realpath(tmpdir)
        self.watched = frozenset(_REFUSED) | frozenset(_PATH_EVENTS) | {"open"} | _STACK_EVENTS
        excluded = (tmpdir, self.tmpdir)
        self.roots = tuple(
            r + os.sep for r in (trusted_roots(excluded) if roots is None else roots)
        )
        self.untrusted: set[str] = set()
        self._user_file: dict[str, bool] = {}

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in self.watched:
            return
        if event in _STACK_EVENTS or event.startswith("ctypes."):
            if event == "sys._getframe" and args and args[0].f_code is _HOOK_CODE:
                return  # this hook's own look at the stack, below
            self._guard(event, args)
            if event not in _REFUSED:
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

    def _guard(self, event: str, args: tuple[Any, ...]) -> None:
        """The refusals that depend on whose code is running (see the module's docstring)."""
        if event == UNTRUSTED_EVENT:
            if args and isinstance(args[0], str):
                self._mark(args[0])
            return
        if event == "object.__getattr__" and (len(args) < 2 or args[1] not in _FRAME_ATTRS):
            return
        if event == "object.__setattr__" and (len(args) < 2 or not _is_own(args[0], args[1])):
            return
        caller = sys._getframe().f_back.f_back  # above __call__: the one that made the call
        if event == "compile":
            if len(args) > 1 and isinstance(args[1], str | bytes) and self._user_on(caller):
                direct = caller is not None and caller.f_code.co_filename.startswith(
                    "<frozen importlib"
                )
                if not direct:  # importlib compiling a module's own source file is no spoof
                    name = os.fsdecode(args[1])
                    if not name.startswith("<") and name.startswith(self.roots):
                        raise SandboxViolation(
                            event, f"the program tried to compile code as {name!r}, not its own"
                        )
                    self._mark(name)
            return
        if event in _DIRECT:
            if caller is not None and self._is_user(caller.f_code.co_filename):
                raise SandboxViolation(event, f"the program tried to {_DIRECT[event]}")
            return
        if event == "object.__getattr__":
            if caller is not None and self._is_user(caller.f_code.co_filename):
                raise SandboxViolation(event, f"the program tried to read a frame ({args[1]})")
            return
        if event in _REFUSED or not self._user_on(caller):
            return
        if event == "object.__setattr__":
            what = f"change the checker's own code ({getattr(args[0], '__qualname__', '?')}."
            raise SandboxViolation(event, f"the program tried to {what}{args[1]})")
        raise SandboxViolation(
            event, f"the program tried to {_WHILE_USER.get(event, _CTYPES_WHAT)}"
        )

    def _mark(self, filename: str) -> None:
        self.untrusted.add(filename)
        self._user_file.pop(filename, None)

    def _is_user(self, filename: str) -> bool:
        known = self._user_file.get(filename)
        if known is None:
            if filename in self.untrusted:
                known = True
            elif filename.startswith("<"):
                known = False  # "<frozen …>", "<string>" of the libraries' own generated code
            else:
                known = not filename.startswith(self.roots)
            self._user_file[filename] = known
        return known

    def _user_on(self, frame: Any) -> bool:
        while frame is not None:
            if self._is_user(frame.f_code.co_filename):
                return True
            frame = frame.f_back
        return False

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


def _is_own(obj: Any, name: Any) -> bool:
    """Whether setting `name` on `obj` changes the checker's code: a function's code or defaults,
    or any attribute of a class, of deepeval_lsp."""
    if not isinstance(obj, types.FunctionType | type):
        return False
    module = getattr(obj, "__module__", None)
    if not (isinstance(module, str) and (module == OWN or module.startswith(OWN + "."))):
        return False
    return isinstance(obj, type) or name in _CODE_ATTRS


_HOOK_CODE = AuditHook._guard.__code__
