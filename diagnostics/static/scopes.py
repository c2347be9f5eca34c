"""Python scope analysis for the static pass: bindings, uses, and what each name refers to.

One iterative walk over the tree (deeply nested code cannot overflow the stack) builds the scopes
(module, class, function, lambda, comprehension), records every binding and every read of a name,
then resolves reads by Python's rules (LEGB, class bodies invisible to nested functions). It finds
undefined names and locals read before assignment, and tells the framework checks which module or
object a name such as `nn` or `layers` stands for.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

from deepeval_lsp.diagnostics.text import dotted_name

BUILTIN_NAMES = frozenset(dir(builtins)) | {
    "__file__",
    "__name__",
    "__doc__",
    "__builtins__",
    "__spec__",
    "__loader__",
    "__package__",
    "__path__",
    "__debug__",
    "__annotations__",
    "__dict__",
    "__module__",
    "__qualname__",
    "__class__",
}

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


@dataclass
class Binding:
    name: str
    kind: (
        str  # import | def | class | assign | param | loop | with | except | walrus | star | other
    )
    node: ast.AST
    # For imports and aliases: the dotted object path the name stands for ("torch.nn").
    target: str | None = None
    # Where the binding takes effect, for "read before assignment" (line, col).
    effective: tuple[int, int] = (0, 0)


@dataclass
class Use:
    name: str
    node: ast.Name
    scope: Scope
    loops: tuple[ast.AST, ...]  # enclosing loops inside the same function


@dataclass(eq=False)
class Scope:
    kind: str  # module | class | function | comprehension
    node: ast.AST
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    star_imports: list[str | None] = field(default_factory=list)  # module names; None if relative

    def bind(self, b: Binding) -> None:
        self.bindings.setdefault(b.name, []).append(b)


@dataclass
class ScopeInfo:
    module: Scope
    uses: list[Use]
    future_annotations: bool
    # Collected on the same walk, so the checks need no walk of their own.
    imports: list[ast.Import | ast.ImportFrom] = field(default_factory=list)
    attributes: list[ast.Attribute] = field(default_factory=list)
    calls: list[ast.Call] = field(default_factory=list)
    # Statements the compiler rejects: (node, message), e.g. `return` outside a function.
    misplaced: list[tuple[ast.AST, str]] = field(default_factory=list)

    def lookup(self, use: Use) -> tuple[Scope, list[Binding]] | None:
        """The scope and bindings a read refers to, or None (builtin or undefined)."""
        return lookup(use.scope, use.name)


def resolve_name(scope: Scope, name: str, depth: int = 0) -> str | None:
    """The dotted object path `name` stands for in `scope` ("nn" -> "torch.nn"), if certain."""
    found = lookup(scope, name)
    if found is None or depth > 8:
        return None
    where, binds = found
    targets = {b.target for b in binds}
    if len(targets) != 1:
        return None
    (t,) = targets
    if t is None or not t.startswith("@"):
        return t
    root, _, rest = t[1:].partition(".")
    base = resolve_name(where, root, depth + 1)
    if base is None:
        return None
    return f"{base}.{rest}" if rest else base


def lookup(scope: Scope, name: str) -> tuple[Scope, list[Binding]] | None:
    s: Scope | None = scope
    first = True
    while s is not None:
        if name in s.globals:
            s = _module_of(s)
            return (s, s.bindings[name]) if name in s.bindings else None
        if (first or s.kind != "class") and name in s.bindings:
            return s, s.bindings[name]
        first = False
        s = s.parent
    return None


def _module_of(scope: Scope) -> Scope:
    while scope.parent is not None:
        scope = scope.parent
    return scope


def _end(node: ast.AST) -> tuple[int, int]:
    return (
        getattr(node, "end_lineno", None) or node.lineno,
        getattr(node, "end_col_offset", 0) or 0,
    )  # type: ignore[attr-defined]


def _start(node: ast.AST) -> tuple[int, int]:
    return (node.lineno, node.col_offset)  # type: ignore[attr-defined]


def analyse(tree: ast.Module) -> ScopeInfo:
    """Build scopes and uses for a module."""
    module = Scope("module", tree, None)
    future = any(
        isinstance(n, ast.ImportFrom)
        and n.module == "__future__"
        and any(a.name == "annotations" for a in n.names)
        for n in tree.body
    )
    uses: list[Use] = []
    # Work items: (node, scope, enclosing loops, effective position for Name stores)
    stack: list[tuple[ast.AST, Scope, tuple[ast.AST, ...], tuple[int, int] | None]] = [
        (stmt, module, (), None) for stmt in reversed(tree.body)
    ]

    info = ScopeInfo(module, uses, future)

    def push(nodes, scope, loops, eff=None):
        # Reversed, so statements pop in source order (`global x` before `x = …`).
        stack.extend((n, scope, loops, eff) for n in reversed(nodes) if n is not None)

    def push_annotation(ann, scope, loops):
        if ann is None or future:
            return
        push([ann], scope, loops)

    load, store = ast.Load, ast.Store
    while stack:
        node, scope, loops, eff = stack.pop()
        kind = type(node)
        # The common expression nodes first, by exact type: this loop is the pass's hot path.
        if kind is ast.Name:
            ctx = type(node.ctx)
            if ctx is load:
                uses.append(Use(node.id, node, scope, loops))
            elif ctx is store:
                _bind_name(scope, node.id, "assign", node, eff or _end(node))
            continue
        if kind is ast.Constant:
            continue
        if kind is ast.Attribute:
            info.attributes.append(node)
            stack.append((node.value, scope, loops, eff))
            continue
        if kind is ast.Call:
            info.calls.append(node)
            push(_children(node), scope, loops, eff)
            continue
        if kind in _PLAIN:
            push(_children(node), scope, loops, eff)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _bind_name(scope, node.name, "def", node, _start(node))
            push(node.decorator_list, scope, loops)
            push(node.args.defaults + [d for d in node.args.kw_defaults if d], scope, loops)
            for a in _all_args(node.args):
                push_annotation(a.annotation, scope, loops)
            push_annotation(node.returns, scope, loops)
            fscope = Scope("function", node, scope)
            for a in _all_args(node.args):
                fscope.bind(Binding(a.arg, "param", a, effective=(0, 0)))
            push(node.body, fscope, ())
            continue
        if isinstance(node, ast.Lambda):
            push(node.args.defaults + [d for d in node.args.kw_defaults if d], scope, loops)
            lscope = Scope("function", node, scope)
            for a in _all_args(node.args):
                lscope.bind(Binding(a.arg, "param", a))
            push([node.body], lscope, ())
            continue
        if isinstance(node, ast.ClassDef):
            _bind_name(scope, node.name, "class", node, _start(node))
            push(node.decorator_list + node.bases + [k.value for k in node.keywords], scope, loops)
            cscope = Scope("class", node, scope)
            push(node.body, cscope, ())
            continue
        if isinstance(node, _COMPREHENSIONS):
            comp = Scope("comprehension", node, scope)
            gens = node.generators
            push([gens[0].iter], scope, loops)
            items: list[ast.AST] = []
            for i, g in enumerate(gens):
                items.append(g.target)
                if i:
                    items.append(g.iter)
                items.extend(g.ifs)
            if isinstance(node, ast.DictComp):
                items += [node.key, node.value]
            else:
                items.append(node.elt)
            push(items, comp, loops, (0, 0))
            continue
        if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom)):
            if scope.kind in ("module", "class"):
                word = "return" if isinstance(node, ast.Return) else "yield"
                info.misplaced.append((node, f"'{word}' outside function"))
        elif isinstance(node, (ast.Break, ast.Continue)):
            if not loops:
                word = "break" if isinstance(node, ast.Break) else "continue"
                info.misplaced.append((node, f"'{word}' outside loop"))
            continue
        if isinstance(node, ast.Import):
            info.imports.append(node)
            for a in node.names:
                if a.asname:
                    _bind_name(scope, a.asname, "import", node, _end(node), target=a.name)
                else:
                    root = a.name.split(".")[0]
                    _bind_name(scope, root, "import", node, _end(node), target=root)
            continue
        if isinstance(node, ast.ImportFrom):
            info.imports.append(node)
            base = node.module if not node.level else None
            for a in node.names:
                if a.name == "*":
                    scope.star_imports.append(base)
                    continue
                target = f"{base}.{a.name}" if base else None
                _bind_name(scope, a.asname or a.name, "import", node, _end(node), target=target)
            continue
        if isinstance(node, ast.Global):
            scope.globals.update(node.names)
            continue
        if isinstance(node, ast.Nonlocal):
            scope.nonlocals.update(node.names)
            continue
        if isinstance(node, ast.Assign):
            push([node.value], scope, loops)
            # `L = keras.layers` makes L an alias the framework checks can follow.
            alias = _dotted(node.value)
            for t in node.targets:
                if isinstance(t, ast.Name) and alias is not None:
                    _bind_name(scope, t.id, "alias", t, _end(node), target=alias)
                else:
                    push([t], scope, loops, _end(node))
            continue
        if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            push([node.value] if node.value else [], scope, loops)
            if isinstance(node, ast.AnnAssign):
                if scope.kind != "function":
                    push_annotation(node.annotation, scope, loops)
                if node.value is None and isinstance(node.target, ast.Name):
                    continue  # `x: int` declares, it does not bind
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                uses.append(Use(node.target.id, node.target, scope, loops))
            push([node.target], scope, loops, _end(node))
            continue
        if isinstance(node, ast.NamedExpr):
            push([node.value], scope, loops)
            s = scope
            while s.kind == "comprehension" and s.parent is not None:
                s = s.parent
            _bind_name(s, node.target.id, "walrus", node, _end(node))
            continue
        if isinstance(node, (ast.For, ast.AsyncFor)):
            push([node.iter], scope, loops)
            inner = (*loops, node)
            push([node.target], scope, inner, _start(node.target))
            push(node.body, scope, inner)
            push(node.orelse, scope, loops)
            continue
        if isinstance(node, ast.While):
            inner = (*loops, node)
            push([node.test], scope, inner)
            push(node.body, scope, inner)
            push(node.orelse, scope, loops)
            continue
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                push([item.context_expr], scope, loops)
                if item.optional_vars is not None:
                    push([item.optional_vars], scope, loops, _end(item.context_expr))
            push(node.body, scope, loops)
            continue
        if isinstance(node, ast.ExceptHandler):
            push([node.type] if node.type else [], scope, loops)
            if node.name:
                _bind_name(scope, node.name, "except", node, _start(node))
            push(node.body, scope, loops)
            continue
        if isinstance(node, (ast.MatchAs, ast.MatchStar)):
            if node.name:
                _bind_name(scope, node.name, "other", node, _start(node))
            if isinstance(node, ast.MatchAs) and node.pattern is not None:
                push([node.pattern], scope, loops)
            continue
        if isinstance(node, ast.MatchMapping):
            if node.rest:
                _bind_name(scope, node.rest, "other", node, _start(node))
            push(node.keys + node.patterns, scope, loops)
            continue
        if isinstance(node, ast.arg):
            continue
        if isinstance(node, ast.Constant):
            continue
        push(_children(node), scope, loops, eff)
    return info


# Nodes with nothing to record: only their children matter.
_PLAIN = frozenset(
    {
        ast.keyword,
        ast.BinOp,
        ast.UnaryOp,
        ast.BoolOp,
        ast.Compare,
        ast.Subscript,
        ast.Slice,
        ast.Tuple,
        ast.List,
        ast.Set,
        ast.Dict,
        ast.Starred,
        ast.IfExp,
        ast.Expr,
        ast.If,
        ast.JoinedStr,
        ast.FormattedValue,
        ast.Assert,
        ast.Raise,
        ast.Try,
        ast.Delete,
        ast.Await,
        ast.Pass,
    }
)

# Fields that hold no names: expression contexts and operators are AST nodes too, and walking
# them costs as much as walking the expressions.
_NO_NAMES = frozenset({"ctx", "op", "ops", "type_comment", "kind", "type_ignores"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _children(node: ast.AST) -> list[ast.AST]:
    cls = type(node)
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _CHILD_FIELDS[cls] = tuple(f for f in cls._fields if f not in _NO_NAMES)
    out: list[ast.AST] = []
    for f in fields:
        v = getattr(node, f, None)
        if isinstance(v, list):
            out.extend(x for x in v if isinstance(x, ast.AST))
        elif isinstance(v, ast.AST):
            out.append(v)
    return out


def _bind_name(
    scope: Scope,
    name: str,
    kind: str,
    node: ast.AST,
    eff: tuple[int, int],
    target: str | None = None,
) -> None:
    if name in scope.globals:
        scope = _module_of(scope)
    elif name in scope.nonlocals:
        s = scope.parent
        while s is not None and not (s.kind == "function" and name in s.bindings):
            s = s.parent
        if s is None:
            return
        scope = s
    scope.bind(Binding(name, kind, node, target, eff))


def _all_args(args: ast.arguments) -> list[ast.arg]:
    out = list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)
    if args.vararg:
        out.append(args.vararg)
    if args.kwarg:
        out.append(args.kwarg)
    return out


def _dotted(node: ast.AST) -> str | None:
    """`a.b.c` as a string, for aliases of a dotted name that is itself an import ("L = nn")."""
    name = dotted_name(node)
    return "@" + name if name is not None else None  # '@' marks "resolve the root name first"


def unbound_reads(info: ScopeInfo) -> list[Use]:
    """Reads of a function's local name that come before every assignment to it (not in a loop
    that assigns it later): these raise UnboundLocalError whenever they run."""
    out: list[Use] = []
    for use in info.uses:
        scope = use.scope
        if scope.kind != "function" or use.name in scope.globals or use.name in scope.nonlocals:
            continue
        binds = scope.bindings.get(use.name)
        if not binds or any(b.kind == "param" for b in binds):
            continue
        first = min(b.effective for b in binds)
        pos = _start(use.node)
        if pos >= first:
            continue
        if any(any(_inside(b.node, loop) for b in binds) for loop in use.loops):
            continue
        out.append(use)
    return out


def _inside(node: ast.AST, outer: ast.AST) -> bool:
    if not hasattr(node, "lineno"):
        return False
    return _start(outer) <= _start(node) and _end(node) <= _end(outer)
