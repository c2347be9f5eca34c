"""Definitions, not scripts: the part of a file that the model needs (DESIGN.md §6).

Files in an editor are often whole training scripts. The dynamic pass runs only imports, function
and class definitions, simple assignments (hyper-parameters, `device = …`) and the top-level
statements that build the model (a backward slice from the model variable). Training, evaluation,
prediction, data loading, downloads, saving, plotting and `if __name__ == "__main__":` blocks never
run. The kept statements are the original ast nodes, so line and column numbers stay the file's.
"""

from __future__ import annotations

import ast
import builtins
import heapq
from dataclasses import dataclass, field

from deepeval_lsp.diagnostics.datasets import KERAS_DATASETS
from deepeval_lsp.diagnostics.text import attribute_chain, callee_name

# Calls that load data, download, save, plot, train or predict: a statement containing one never
# runs, and a name defined only by such a statement makes the model uncheckable.
FORBIDDEN_CALLS = frozenset(
    {
        "fit",
        "fit_generator",
        "train",
        "train_on_batch",
        "evaluate",
        "evaluate_generator",
        "predict",
        "predict_generator",
        "predict_on_batch",
        "test_on_batch",
        "save",
        "save_weights",
        "load_weights",
        "load_state_dict",
        "load",
        "load_data",
        "download",
        "urlretrieve",
        "urlopen",
        "read_csv",
        "read_excel",
        "read_json",
        "read_parquet",
        "read_table",
        "loadtxt",
        "genfromtxt",
        "imread",
        "open",
        "DataLoader",
        "ImageFolder",
        "image_dataset_from_directory",
        "flow_from_directory",
        "flow_from_dataframe",
        "text_dataset_from_directory",
        "backward",
        "step",
        "zero_grad",
        "show",
        "savefig",
        "plot",
        "imshow",
        "figure",
        "subplots",
        "export",
        "to_json",
        "to_csv",
        "dump",
        "system",
        "run",
        "Popen",
        "remove",
        "rmtree",
        "makedirs",
        "mkdir",
        "input",
        "get",
        "post",
        "fetch_openml",
        "load_dataset",
        "compile",
        "summary",
        "print",
        "sleep",
    }
)
# keras.datasets whose load_data() the worker answers with placeholder arrays (meta_patches).
PLACEHOLDER_DATASETS = frozenset(d.name for d in KERAS_DATASETS)
# Dataset constructors (torchvision.datasets.MNIST(...), keras.datasets.mnist.load_data()).
DATA_MODULES = ("datasets", "data", "pd", "pandas", "requests", "urllib", "plt", "pyplot", "wandb")
# Methods that add to a model built step by step (`model.add(Dense(10))`), or to a parser.
MUTATING_METHODS = frozenset(
    {
        "add",
        "append",
        "extend",
        "insert",
        "add_module",
        "register_module",
        "register_buffer",
        "register_parameter",
        "build",
        "to",
        "cuda",
        "cpu",
        "eval",
        "apply",
        "update",
        "half",
        "float",
        "double",
        "requires_grad_",
        # a command-line parser whose parse_args() gives the hyper-parameters
        "add_argument",
        "add_argument_group",
        "add_mutually_exclusive_group",
        "set_defaults",
    }
)
# Constructors whose result is a model.
MODEL_CALLS = frozenset({"Sequential", "Model", "ModuleList", "ModuleDict", "Functional"})


@dataclass
class Slice:
    module: ast.Module
    model_vars: list[str] = field(default_factory=list)
    dropped_lines: list[int] = field(default_factory=list)  # 1-based first lines of dropped stmts
    # Names the model needs that only a dropped statement (data loading, …) defines: name -> line.
    blocked: dict[str, int] = field(default_factory=dict)


def is_forbidden(stmt: ast.AST) -> bool:
    """Does the statement train, load, save, plot, download or otherwise act on the world?"""
    for node in ast.walk(stmt):
        if isinstance(node, ast.Call):
            name = callee_name(node)
            dotted = attribute_chain(node.func)
            head = dotted.split(".")
            if name == "load_data" and len(head) >= 2 and head[-2] in PLACEHOLDER_DATASETS:
                continue  # the worker answers these with placeholder arrays, no download
            if name in FORBIDDEN_CALLS:
                return True
            if any(m in head[:-1] for m in DATA_MODULES):
                return True
        elif isinstance(node, ast.With | ast.AsyncWith):
            return True
    return False


def is_main_block(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.If):
        return False
    t = stmt.test
    return isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == "__name__"


def _simple_value(node: ast.AST) -> bool:
    """Hyper-parameter-like values: literals, names, arithmetic, containers, `torch.device(…)`."""
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            name = attribute_chain(n.func)
            if name not in {
                "torch.device",
                "device",
                "torch.cuda.is_available",
                "len",
                "int",
                "float",
                "tuple",
                "list",
                "range",
                "dict",
                "max",
                "min",
                "round",
                "os.environ.get",
                "is_available",
            } and not name.endswith("cuda.is_available"):
                return False
        elif isinstance(
            n,
            ast.Lambda
            | ast.ListComp
            | ast.DictComp
            | ast.GeneratorExp
            | ast.SetComp
            | ast.Await
            | ast.Yield
            | ast.YieldFrom
            | ast.NamedExpr,
        ):
            return False
    return True


def _targets(stmt: ast.stmt) -> set[str]:
    """Names a top-level statement binds or mutates."""
    out: set[str] = set()
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {stmt.name}
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        for a in stmt.names:
            out.add((a.asname or a.name).split(".")[0])
        return out
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATING_METHODS
            and isinstance(node.func.value, ast.Name)
        ):
            out.add(node.func.value.id)
        elif isinstance(node, ast.Attribute | ast.Subscript) and isinstance(node.ctx, ast.Store):
            base = node.value
            while isinstance(base, ast.Attribute | ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
    return out


def _uses(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _builds_model(value: ast.AST, model_funcs: set[str], model_classes: set[str]) -> bool:
    if not isinstance(value, ast.Call):
        return False
    name = callee_name(value)
    if name in MODEL_CALLS or name in model_classes or name in model_funcs:
        return True
    # `Net().to(device)`, `nn.Sequential(...).cuda()`
    if isinstance(value.func, ast.Attribute) and isinstance(value.func.value, ast.Call):
        return _builds_model(value.func.value, model_funcs, model_classes)
    return False


def model_classes(tree: ast.Module) -> set[str]:
    """Classes defined in the file that look like models (subclass Module/Model/Layer, or one)."""
    found: set[str] = set()
    subclasses: dict[str, list[str]] = {}  # base name -> classes deriving from it
    todo: list[str] = []
    for stmt in tree.body:
        if not isinstance(stmt, ast.ClassDef):
            continue
        for b in stmt.bases:
            last = attribute_chain(b).split(".")[-1]
            if last in {"Module", "Model", "Layer", "Sequential"}:
                todo.append(stmt.name)
            else:
                subclasses.setdefault(last, []).append(stmt.name)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(subclasses.get(name, ()))
    return found


@dataclass
class _Stmt:
    """What the slicer reads of a top-level statement, computed once."""

    node: ast.stmt
    targets: set[str]
    uses: set[str]
    forbidden: bool


def slice_program(tree: ast.Module) -> Slice:
    """Keep what builds the model; drop what trains, loads, saves, plots or runs as a script.

    Linear in the length of the file (n log n for the backward slice): every statement's names are
    read once, and each fixed point below is a worklist over the statements a change can affect.
    """
    classes = model_classes(tree)
    funcs = {s.name for s in tree.body if isinstance(s, ast.FunctionDef)}
    model_funcs = {
        f
        for f in funcs
        if f == "dl_model"
        or "model" in f.lower()
        or f.lower().startswith(("build", "create", "make", "get_"))
    }
    body = tree.body
    keep = [False] * len(body)
    main = [is_main_block(stmt) for stmt in body]
    simple: list[int] = []  # hyper-parameter-like assignments, kept unless they need data
    seeds: list[int] = []
    model_vars: list[str] = []
    seen_vars: set[str] = set()
    for i, stmt in enumerate(body):
        if main[i]:
            continue
        if isinstance(
            stmt,
            ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
        ):
            keep[i] = True
            seeds.append(i)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if _builds_model(stmt.value, model_funcs, classes) and not is_forbidden(stmt):
                keep[i] = True
                seeds.append(i)
                for n in names:
                    if n not in seen_vars:
                        seen_vars.add(n)
                        model_vars.append(n)
            elif _simple_value(stmt.value) and not is_forbidden(stmt):
                keep[i] = True
                simple.append(i)
        elif isinstance(stmt, ast.Try) and all(
            isinstance(s, ast.Import | ast.ImportFrom | ast.Assign | ast.Pass)
            for s in stmt.body + [x for h in stmt.handlers for x in h.body]
        ):
            keep[i] = True
    stmts = [_Stmt(s, _targets(s), _uses(s), False) for s in body]
    for i, st in enumerate(stmts):
        if not keep[i] and not main[i]:
            st.forbidden = is_forbidden(st.node)
    needed: set[str] = set(model_vars)
    for i in seeds:
        needed |= stmts[i].uses
    blocked = _backward_slice(stmts, keep, main, needed)
    defined_by_kept = _drop_simple_that_need_dropped(stmts, keep, simple)
    blocked = {n: line for n, line in blocked.items() if n not in defined_by_kept}
    kept = [s for i, s in enumerate(body) if keep[i]]
    dropped = [s.lineno for i, s in enumerate(body) if not keep[i]]
    module = ast.Module(body=kept, type_ignores=[])
    return Slice(module, model_vars, dropped, blocked)


def _backward_slice(
    stmts: list[_Stmt], keep: list[bool], main: list[bool], needed: set[str]
) -> dict[str, int]:
    """Keep every statement that defines or mutates a needed name (adding what it reads to the
    needed names), to a fixed point; statements that act on the world never run, and the names
    they alone would define are returned as blocked: name -> line.

    The statements are taken in the order of repeated bottom-up passes over the file (pass, then
    line, descending), so that a blocked name gets the line a reader scanning up from its first use
    would find. A name needed while pass p is at statement k is first met by the statements above
    k in pass p, by the others in pass p + 1.
    """
    definers: dict[str, list[int]] = {}
    for i, st in enumerate(stmts):
        if not keep[i] and not main[i]:
            for name in st.targets:
                definers.setdefault(name, []).append(i)
    # (pass, -index, sequence, name): name is None to keep the statement, else a name it blocks.
    events: list[tuple[int, int, int, str | None]] = []
    sequence = 0

    def need(name: str, at_pass: int, at: int) -> None:
        nonlocal sequence
        for j in definers.get(name, ()):
            sequence += 1
            when = at_pass if j < at else at_pass + 1
            heapq.heappush(events, (when, -j, sequence, name if stmts[j].forbidden else None))

    for name in sorted(needed):
        need(name, 1, len(stmts))
    blocked: dict[str, int] = {}
    while events:
        at_pass, minus_j, _, name = heapq.heappop(events)
        j = -minus_j
        if name is not None:
            blocked.setdefault(name, stmts[j].node.lineno)
            continue
        if keep[j]:
            continue
        keep[j] = True
        for used in sorted(stmts[j].uses - needed):
            needed.add(used)
            need(used, at_pass, j)
    return blocked


def _drop_simple_that_need_dropped(
    stmts: list[_Stmt], keep: list[bool], simple: list[int]
) -> set[str]:
    """Drop a kept simple assignment that reads a name no kept statement defines (`x =
    x_train[..., None]` after a dropped `load_data()`), or that reads the name it assigns with no
    kept definition above it; to a fixed point, as one drop can orphan another. Returns the names
    the kept statements define, builtins included.
    """
    kept_definers: dict[str, list[int]] = {}  # ascending: the first kept one is the `first` entry
    for i, st in enumerate(stmts):
        if keep[i]:
            for name in st.targets:
                kept_definers.setdefault(name, []).append(i)
    alive = {name: len(js) for name, js in kept_definers.items()}
    first = dict.fromkeys(kept_definers, 0)  # index into kept_definers of the first still kept
    readers: dict[str, list[int]] = {}  # simple statements reading a name they do not assign
    self_readers: dict[str, list[int]] = {}  # ... reading a name they assign, ascending
    self_done = dict.fromkeys(kept_definers, 0)
    known = set(dir(builtins))
    to_drop: list[int] = []
    for i in simple:
        st = stmts[i]
        for name in st.uses:
            if name in st.targets:
                self_readers.setdefault(name, []).append(i)
                if kept_definers[name][0] >= i:
                    to_drop.append(i)
            elif name not in known:
                readers.setdefault(name, []).append(i)
                if not alive.get(name):
                    to_drop.append(i)

    def first_kept(name: str) -> int:
        js = kept_definers[name]
        k = first[name]
        while k < len(js) and not keep[js[k]]:
            k += 1
        first[name] = k
        return js[k] if k < len(js) else len(stmts)

    while to_drop:
        i = to_drop.pop()
        if not keep[i]:
            continue
        keep[i] = False
        for name in stmts[i].targets:
            alive[name] -= 1
            if alive[name] == 0:
                to_drop.extend(readers.get(name, ()))
            # A self-reader at or above the first kept definition no longer has one above it.
            limit = first_kept(name)
            users = self_readers.get(name, [])
            k = self_done[name]
            while k < len(users) and users[k] <= limit:
                to_drop.append(users[k])
                k += 1
            self_done[name] = k
    defined_by_kept = set(known)
    for name, count in alive.items():
        if count:
            defined_by_kept.add(name)
    return defined_by_kept
