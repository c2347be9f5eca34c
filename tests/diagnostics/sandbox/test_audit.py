"""The audit hook on its own: writes and deletions outside the temp dir, and what it refuses."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics.sandbox.audit import AuditHook, SandboxViolation


def test_audit_hook_refuses_outside_writes_and_allows_the_rest(tmp_path: Path) -> None:
    hook = AuditHook(str(tmp_path))
    hook("open", (str(tmp_path / "a.txt"), "w", os.O_WRONLY | os.O_CREAT))
    hook("open", ("/etc/hostname", "r", os.O_RDONLY))
    hook("open", (os.devnull, "w", os.O_WRONLY))
    hook("open", (3, "w", os.O_WRONLY))  # an already open descriptor
    hook("os.remove", (str(tmp_path / "a.txt"), -1))
    hook("import", ("json", None, sys.path, sys.meta_path, sys.path_hooks))
    refusals = [
        ("open", ("/tmp/elsewhere.txt", "w", os.O_WRONLY | os.O_CREAT)),
        ("open", ("/tmp/elsewhere.txt", None, os.O_RDWR)),  # os.open
        ("open", (str(tmp_path / ".." / "escape"), "a", os.O_APPEND)),
        ("os.remove", ("/etc/hostname", -1)),
        ("os.rename", (str(tmp_path / "a"), "/tmp/b", -1, -1)),
        ("shutil.rmtree", ("/work", None)),
        ("os.system", (b"ls",)),
        ("subprocess.Popen", ("ls", ["ls"], None, None)),
        ("socket.connect", (None, ("127.0.0.1", 80))),
        ("ctypes.dlopen", ("libc.so.6",)),
    ]
    for event, args in refusals:
        with pytest.raises(SandboxViolation) as info:
            hook(event, args)
        assert info.value.event == event
        assert isinstance(info.value, PermissionError)
        assert "sandbox" in str(info.value)


def test_a_symlink_out_of_the_temp_dir_counts_as_outside(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to("/etc")
    with pytest.raises(SandboxViolation):
        AuditHook(str(tmp_path))("open", (str(tmp_path / "link" / "passwd"), "w", os.O_WRONLY))


USER_PROGRAM = """
import collections, dataclasses, enum, gc, inspect, logging, marshal, sys, typing

Point = collections.namedtuple("Point", "x y")

@dataclasses.dataclass
class Box:
    w: int = 1

class Color(enum.Enum):
    RED = 1

T = typing.TypeVar("T")
logging.getLogger("user").warning("fine")
assert inspect.currentframe() is not None  # a library helper: allowed (a documented limit)

def refused(what):
    try:
        what()
    except PermissionError:
        return
    raise AssertionError("not refused")

refused(lambda: gc.get_objects())
refused(lambda: gc.get_referrers(sys))
refused(lambda: sys._getframe())
refused(lambda: sys._current_frames())
refused(lambda: sys.settrace(None))
refused(lambda: marshal.loads(marshal.dumps(1)))
refused(lambda: (lambda: None).__code__.replace(co_name="x"))
try:
    1 / 0
except ZeroDivisionError as e:
    refused(lambda: e.__traceback__.tb_frame)
refused(lambda: setattr(audit.trusted_roots, "__defaults__", ((),)))
refused(lambda: compile("x = 1", sys.modules["json"].__file__, "exec"))  # a library's name
spoof = compile("import gc\\nobjs = lambda: gc.get_objects()", "/nowhere/lib.py", "exec")
ns = {}
exec(spoof, ns)
refused(lambda: ns["objs"]())
"""


def test_user_code_cannot_reach_into_the_checker_and_libraries_still_work(tmp_path: Path) -> None:
    """In a forked process with the hook installed: the checked program (a file outside the
    trusted folders) is refused what would reach the runner, while the stdlib helpers it uses
    (namedtuple, dataclasses, enum, typing, logging) and the checker's own calls still work."""
    import gc
    import inspect

    from deepeval_lsp.diagnostics.sandbox import audit

    program = tmp_path / "model.py"
    program.write_text(USER_PROGRAM)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        code = 1
        try:
            sys.addaudithook(AuditHook(str(tmp_path)))
            sys.audit(audit.UNTRUSTED_EVENT, str(program))
            gc.get_objects()  # the checker's own code, no user code on the stack
            sys._getframe()
            exec(compile(program.read_text(), str(program), "exec"), {"audit": audit})
            code = 0
        except BaseException as e:
            os.write(2, f"{type(e).__name__}: {e}\n".encode())
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert inspect.isfunction(audit.trusted_roots)


def test_trusted_roots_are_where_modules_came_from_but_never_an_excluded_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    from deepeval_lsp.diagnostics.sandbox import audit

    module = types.ModuleType("somewhere_else")
    module.__file__ = str(tmp_path / "lib" / "somewhere_else.py")
    monkeypatch.setitem(sys.modules, "somewhere_else", module)
    inside = str(tmp_path / "lib" / "x.py")
    assert any(inside.startswith(r + os.sep) for r in audit.trusted_roots())
    roots = audit.trusted_roots(exclude=(str(tmp_path),))
    assert not any(inside.startswith(r + os.sep) for r in roots)
    assert any(os.__file__.startswith(r + os.sep) for r in roots)
    assert any(audit.__file__.startswith(r + os.sep) for r in roots)
