"""What the syntax tree alone says about the program: its model entry point and its frameworks."""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field

from deepeval_lsp.diagnostics.dynamic.child.program_slice import (
    MODEL_CALLS,
    Slice,
    model_classes,
    slice_program,
)
from deepeval_lsp.diagnostics.text import attribute_chain, callee_name, imported_tops

# Packages whose classes the syntax already tells apart: a class deriving from one of theirs that
# is not nn.Module/keras.Model (a Dataset, an Enum) is no model.
_KNOWN_BASES = frozenset({"torch", "keras", "tensorflow", "tf_keras", "numpy"}) | frozenset(
    sys.stdlib_module_names
)
# An imported function that by its name builds a model (`get_segmentation_model(inp, out)`):
# a function of the file returning its result is a factory. (Not `load_model`: it reads a file.)
_MODEL_MAKER = re.compile(r"(get|build|create|make)_(\w+_)?model(_\w+)?")
# Calls that train or evaluate: a function making them is a script, not a factory to call.
_SCRIPT_CALLS = frozenset(
    {
        "fit",
        "fit_generator",
        "train",
        "train_on_batch",
        "evaluate",
        "predict",
        "backward",
        "step",
        "zero_grad",
        "show",
        "savefig",
        "input",
    }
)


@dataclass(frozen=True)
class Plan:
    # "dl_model" (the study's contract), "variable" (a module-level model), "factory" (a
    # function of the file returning a model), "class", or None
    entry_kind: str | None
    slice_vars: list[str]  # the module-level model variables the slice keeps
    classes: list[str]  # model classes (and classes that may be, by their base), outermost first
    uses_keras: bool
    uses_torch: bool
    blocked: dict[str, int]  # variables the slice drops (data loading, training): their line
    imports: set[str]  # the top-level packages imported
    factories: list[str] = field(
        default_factory=list
    )  # functions returning a model, outermost first
    top_classes: int = 0  # how many of `classes` no other of them uses
    # the entry is a class the syntax cannot tell is a model (its base is imported): only
    # running the file says whether there is one
    runtime_only: bool = False
    # the program's own calls of its factories and model classes inside its functions and its
    # `if __name__ == "__main__":` block, the block's and main()'s first
    own_calls: list[OwnCall] = field(default_factory=list)
    # the text and tree the plan was made from, and its slice: a run of that text reuses them
    source: str | None = field(default=None, compare=False, repr=False)
    tree: ast.Module | None = field(default=None, compare=False, repr=False)
    slice: Slice | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class OwnCall:
    """A call `callee(…)` the program makes itself, in `scope` (its function; None for the
    `__main__` block), and the assignments before it there (where its arguments' names come
    from)."""

    callee: str
    call: ast.Call
    scope: str | None
    assignments: tuple[ast.Assign, ...]


def make_plan(tree: ast.Module, source: str | None = None) -> Plan:
    """The plan of a program, from its syntax tree (of `source`, when given)."""
    sl = slice_program(tree)
    has_dl_model = any(isinstance(s, ast.FunctionDef) and s.name == "dl_model" for s in tree.body)
    classes, top = _model_class_defs(tree)
    syntactic = model_classes(tree)
    factories = _factories(tree, set(classes))
    kind = (
        "dl_model"
        if has_dl_model
        else "variable"
        if sl.model_vars or sl.model_calls
        else "factory"
        if factories
        else ("class" if classes else None)
    )
    imports = imported_tops(sl.module)
    uses_keras = bool(imports & {"keras", "tensorflow"})
    uses_torch = "torch" in imports
    return Plan(
        entry_kind=kind,
        slice_vars=sl.model_vars,
        classes=classes,
        uses_keras=uses_keras,
        uses_torch=uses_torch or not uses_keras,
        blocked=sl.blocked,
        imports=imports,
        factories=factories,
        top_classes=top,
        runtime_only=kind == "class" and not syntactic,
        own_calls=_own_calls(tree, set(factories) | set(classes)),
        source=source,
        tree=tree,
        slice=sl,
    )


def _imported_from(tree: ast.Module) -> dict[str, str]:
    """Each name a top-level import binds -> the top-level package it comes from ("." when
    relative)."""
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                out[(a.asname or a.name).split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            top = "." if node.level else (node.module or "").split(".")[0]
            for a in node.names:
                out[a.asname or a.name] = top
    return out


def _maybe_models(tree: ast.Module, known: set[str]) -> set[str]:
    """Classes whose base is imported from a local module or a third-party package: whether
    they are models is known once the program ran (`class VanillaVAE(BaseVAE)`, BaseVAE an
    nn.Module of the package's own). And the classes deriving from those."""
    imported = _imported_from(tree)
    defs = [s for s in tree.body if isinstance(s, ast.ClassDef)]
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for s in defs:
            if s.name in known or s.name in found:
                continue
            for b in s.bases:
                head = attribute_chain(b).split(".")[0]
                origin = imported.get(head)
                if (origin is not None and origin not in _KNOWN_BASES) or head in found:
                    found.add(s.name)
                    changed = True
                    break
    return found


def _model_class_defs(tree: ast.Module) -> tuple[list[str], int]:
    """Model classes (and the classes that may be), the ones no other class uses first, the one
    using most of the others first among them (the outermost model is the entry); and how many
    no other uses."""
    known = model_classes(tree)
    names = known | _maybe_models(tree, known)
    ordered = [s for s in tree.body if isinstance(s, ast.ClassDef) and s.name in names]
    uses: dict[str, set[str]] = {}
    for s in ordered:
        uses[s.name] = {n.id for n in ast.walk(s) if isinstance(n, ast.Name) and n.id in names} - {
            s.name
        }
    used = set().union(*uses.values()) if uses else set()

    def reach(name: str) -> int:
        seen: set[str] = set()
        todo = [name]
        while todo:
            for u in uses.get(todo.pop(), ()):
                if u not in seen:
                    seen.add(u)
                    todo.append(u)
        return len(seen)

    top = sorted((s.name for s in ordered if s.name not in used), key=lambda n: -reach(n))
    return top + [s.name for s in ordered if s.name in used], len(top)


def _factories(tree: ast.Module, classes: set[str]) -> list[str]:
    """Module-level functions that return a model: a call of a model class of the file, of
    Model/Sequential, or of another such function (directly or through a variable), or that are
    registered as models (`@register_model`); not those a model class calls (its blocks). Those
    no other calls first, in file order."""
    funcs = [
        s
        for s in tree.body
        if isinstance(s, ast.FunctionDef) and s.name != "dl_model" and not _scripted(s)
    ]
    makers = set(classes) | set(MODEL_CALLS)
    found: list[ast.FunctionDef] = []
    changed = True
    while changed:
        changed = False
        for f in funcs:
            if f not in found and (_registered(f) or _returns_call_of(f, makers)):
                found.append(f)
                makers.add(f.name)
                changed = True
    names = {f.name for f in found}
    called = {
        callee_name(n)
        for f in found
        for n in ast.walk(f)
        if isinstance(n, ast.Call) and callee_name(n) in names - {f.name}
    }
    # a function a model class calls builds one of its blocks (`conv_block(cin, cout)`)
    blocks = {
        callee_name(n)
        for s in tree.body
        if isinstance(s, ast.ClassDef) and s.name in classes
        for n in ast.walk(s)
        if isinstance(n, ast.Call)
    }
    found.sort(key=lambda f: (f.name in called, f.lineno))
    return [f.name for f in found if f.name not in blocks]


def _registered(f: ast.FunctionDef) -> bool:
    return any(
        attribute_chain(d.func if isinstance(d, ast.Call) else d).split(".")[-1] == "register_model"
        for d in f.decorator_list
    )


def _returns_call_of(f: ast.FunctionDef, makers: set[str]) -> bool:
    def maker(v: ast.Call) -> bool:
        name = callee_name(v)
        return name in makers or bool(name and _MODEL_MAKER.fullmatch(name))

    def makes(v: ast.AST | None) -> bool:
        while isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute):
            if maker(v):
                return True
            v = v.func.value  # `Net(...).to(device)`
        return isinstance(v, ast.Call) and maker(v)

    made = {
        t.id
        for n in ast.walk(f)
        if isinstance(n, ast.Assign) and makes(n.value)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    return any(
        isinstance(n, ast.Return)
        and (makes(n.value) or (isinstance(n.value, ast.Name) and n.value.id in made))
        for n in ast.walk(f)
    )


def _scripted(f: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Call) and callee_name(n) in _SCRIPT_CALLS for n in ast.walk(f))


def _own_calls(tree: ast.Module, makers: set[str]) -> list[OwnCall]:
    """The calls of `makers` in the module's functions and `__main__` block, that block's first,
    then main()'s, then the others in file order."""
    scopes: list[tuple[str | None, list[ast.stmt]]] = []
    for s in tree.body:
        # (a factory's own calls are how it builds the model, not a use of it)
        if isinstance(s, ast.FunctionDef) and s.name != "dl_model" and s.name not in makers:
            scopes.append((s.name, s.body))
        elif isinstance(s, ast.If) and _is_main_guard(s.test):
            scopes.append((None, s.body))
    scopes.sort(key=lambda sc: (sc[0] is not None, sc[0] != "main"))
    out: list[OwnCall] = []
    for scope, body in scopes:
        nodes = [n for stmt in body for n in ast.walk(stmt)]
        assigns = [
            n
            for n in nodes
            if isinstance(n, ast.Assign)
            and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name)
        ]
        for n in nodes:
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in makers:
                before = tuple(a for a in assigns if a.lineno < n.lineno)
                out.append(OwnCall(n.func.id, n, scope, before))
    return out


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )
