"""Definitions, not scripts: the part of a file that the model needs (DESIGN.md §6).

Files in an editor are often whole training scripts. The dynamic pass runs only imports, function
and class definitions, simple assignments (hyper-parameters, `device = …`) and the top-level
statements that build the model (a backward slice from the model variable). Training, evaluation,
prediction, data loading, downloads, saving, plotting and `if __name__ == "__main__":` blocks never
run. The kept statements are the original ast nodes, so line and column numbers stay the file's.
"""

from __future__ import annotations

import ast
import bisect
import builtins
import copy
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
        "load_model",
        "save_model",
        "save_pretrained",
        "savez",
        "savez_compressed",
        "savetxt",
        "tofile",
        "fromfile",
        "read_text",
        "read_bytes",
        "write_text",
        "write_bytes",
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
        "get_file",
        "load_dataset",
        "compile",
        "summary",
        "print",
        "sleep",
    }
)
# The FORBIDDEN_CALLS that make a dataset or a loader of one.
DATA_LOADING_CALLS = frozenset(
    {
        "DataLoader",
        "ImageFolder",
        "image_dataset_from_directory",
        "text_dataset_from_directory",
        "flow_from_directory",
        "flow_from_dataframe",
        "load_dataset",
        "load_data",
        "read_csv",
        "read_json",
        "read_parquet",
        "fetch_openml",
    }
)
assert DATA_LOADING_CALLS <= FORBIDDEN_CALLS
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
    # Names kept code reads that only dropped statements bind: name -> line of the first such
    # statement. The run binds each to a stand-in (stubs.DroppedValue), never a NameError.
    stand_ins: dict[str, int] = field(default_factory=dict)
    # 1-based lines of the module-level statements kept that call a model or a layer on data the
    # program builds itself (`out = model(torch.randn(4, 8))`): their shapes are the program's.
    model_calls: list[int] = field(default_factory=list)
    # The stand-ins that only a size computed from the data binds (`INPUT_DIM = len(TEXT.vocab)`,
    # `n_features = X.shape[1]`): the run may give them a conventional size instead.
    sizes: set[str] = field(default_factory=set)


def is_forbidden(stmt: ast.AST) -> bool:
    """Does the statement train, load, save, plot, download or otherwise act on the world?"""
    for node in ast.walk(stmt):
        if isinstance(node, ast.Call):
            name = callee_name(node)
            dotted = attribute_chain(node.func)
            head = dotted.split(".")
            if name == "load_data" and len(head) >= 2 and head[-2] in PLACEHOLDER_DATASETS:
                continue  # the worker answers these with placeholder arrays, no download
            if name in FORBIDDEN_CALLS or (name or "").startswith("fetch_"):
                return True
            if any(m in head[:-1] for m in DATA_MODULES):
                return True
        elif isinstance(node, ast.With | ast.AsyncWith):
            return True
    return False


def _copies_in(stmt: ast.stmt) -> bool:
    """`model.embedding.weight.data = pretrained`: a value stored into a part of the model (its
    weights, most often), which builds nothing; it runs only if what it reads is kept."""
    return (
        isinstance(stmt, ast.Assign)
        and all(isinstance(t, ast.Attribute | ast.Subscript) for t in stmt.targets)
        and isinstance(stmt.value, ast.Name | ast.Attribute | ast.Subscript)
    )


def _loads_data(func: ast.FunctionDef) -> bool:
    """Does the function call a data loader or a dataset reader (DataLoader, load_dataset, …)?"""
    return any(
        isinstance(n, ast.Call) and callee_name(n) in DATA_LOADING_CALLS for n in ast.walk(func)
    )


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


def _eager_uses(stmt: ast.stmt) -> set[str]:
    """Names a top-level statement reads when it runs: not those read inside the functions and
    lambdas it defines (they run later, if ever), nor a comprehension's own variables."""
    out: set[str] = set()
    local: set[str] = set()
    todo: list[ast.AST] = [stmt]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            todo.extend(node.decorator_list)
            todo.extend(d for d in node.args.defaults + node.args.kw_defaults if d is not None)
            continue
        if isinstance(node, ast.Lambda):
            todo.extend(d for d in node.args.defaults + node.args.kw_defaults if d is not None)
            continue
        if isinstance(node, ast.comprehension):
            local |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            out.add(node.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            out.add(node.target.id)  # `total += x` reads total
        todo.extend(ast.iter_child_nodes(node))
    return out - local


def _augmented(stmt: ast.stmt) -> set[str]:
    """The names a statement reads by augmenting them (`for x in xs: total += x`)."""
    return {
        n.target.id
        for n in ast.walk(stmt)
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)
    }


# What a program may build at module level and still be run by the check, as the data that it
# passes to its model: literals, numpy arrays and torch tensors from factories, and the usual
# reshaping of them. numpy runs for real on the CPU; torch's factories give meta tensors.
_ARRAY_FUNCS = frozenset(
    {
        "tensor",
        "as_tensor",
        "asarray",
        "array",
        "from_numpy",
        "Tensor",
        "FloatTensor",
        "LongTensor",
        "IntTensor",
        "BoolTensor",
        "randn",
        "rand",
        "randint",
        "random",
        "normal",
        "uniform",
        "randn_like",
        "rand_like",
        "zeros",
        "ones",
        "zeros_like",
        "ones_like",
        "full",
        "empty",
        "arange",
        "linspace",
        "eye",
        "cat",
        "concat",
        "concatenate",
        "stack",
        "reshape",
        "expand_dims",
        "float32",
        "float64",
        "int64",
        "int32",
    }
)
_TENSOR_METHODS = frozenset(
    {
        "view",
        "reshape",
        "permute",
        "unsqueeze",
        "squeeze",
        "transpose",
        "t",
        "float",
        "long",
        "int",
        "double",
        "half",
        "bool",
        "to",
        "flatten",
        "contiguous",
        "repeat",
        "expand",
        "astype",
        "clone",
        "detach",
        "type",
        "size",
    }
)
_ARRAY_MODULES = frozenset({"torch", "numpy"})


def _array_aliases(tree: ast.Module) -> set[str]:
    """The names under which the file imports torch or numpy (`np`, `th`, `torch`)."""
    out: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                if a.name.split(".")[0] in _ARRAY_MODULES:
                    out.add(a.asname or a.name.split(".")[0])
    return out


def _is_layer_call(node: ast.Call, model_callables: set[str]) -> bool:
    """`nn.Linear(3, 4)`, `layers.Dense(8)`, `Net()`: a call that makes a layer or a model."""
    name = callee_name(node)
    if name in model_callables:
        return True
    parts = attribute_chain(node.func).split(".")
    return len(parts) >= 2 and ("nn" in parts[:-1] or "layers" in parts[:-1])


def _cheap_call(node: ast.Call, aliases: set[str]) -> bool:
    """A call that builds data the check may run: an array factory of torch or numpy, or a
    reshaping method of such an array, or a hyper-parameter-like builtin."""
    parts = attribute_chain(node.func).split(".")
    if isinstance(node.func, ast.Attribute):
        if parts[0] in aliases and len(parts) >= 2:
            return parts[-1] in _ARRAY_FUNCS or parts[-1] == "manual_seed"
        return node.func.attr in _TENSOR_METHODS
    return _simple_value(node)


def _calls_model(func: ast.expr, callees: set[str], model_callables: set[str]) -> bool:
    """`model(…)`, `model.forward(…)`, `nn.Linear(3, 4)(…)`."""
    if isinstance(func, ast.Name):
        return func.id in callees
    if isinstance(func, ast.Attribute):
        return (
            func.attr == "forward" and isinstance(func.value, ast.Name) and func.value.id in callees
        )
    return isinstance(func, ast.Call) and _is_layer_call(func, model_callables)


def _model_call(
    stmt: ast.stmt, callees: set[str], model_callables: set[str], aliases: set[str]
) -> bool:
    """A module-level statement that calls a model or a layer (`out = model(x)`, `y =
    nn.Linear(3, 4)(x)`), every other call in it building data the check may run."""
    if not isinstance(stmt, ast.Expr | ast.Assign | ast.AnnAssign) or stmt.value is None:
        return False
    calls = False
    for node in ast.walk(stmt.value):
        if isinstance(node, ast.Call):
            if _calls_model(node.func, callees, model_callables):
                calls = True
            elif not (_cheap_call(node, aliases) or _is_layer_call(node, model_callables)):
                return False
        elif isinstance(node, ast.Lambda | ast.NamedExpr | ast.Await | ast.Yield | ast.YieldFrom):
            return False
    return calls


def _cheap_data(stmt: ast.stmt, aliases: set[str]) -> bool:
    """An assignment of data the check may run (`x = torch.randn(4, 8)`, `x = x.view(2, -1)`)."""
    if not isinstance(stmt, ast.Assign | ast.AnnAssign) or stmt.value is None:
        return False
    for node in ast.walk(stmt.value):
        if isinstance(node, ast.Call) and not _cheap_call(node, aliases):
            return False
        if isinstance(node, ast.Lambda | ast.NamedExpr | ast.Await | ast.Yield | ast.YieldFrom):
            return False
    return True


# torch functions that make a CPU tensor whatever the default device (`torch.from_numpy`).
_CPU_MADE = frozenset(
    {"from_numpy", "Tensor", "FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor"}
)


class _ToMeta(ast.NodeTransformer):
    """`torch.from_numpy(a)` -> `torch.empty_like(torch.from_numpy(a), device="meta")`: the
    check's patches keep `Tensor.to` from moving tensors, and on meta only the shape counts."""

    def __init__(self, aliases: set[str]) -> None:
        self.aliases = aliases

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        parts = attribute_chain(node.func).split(".")
        if len(parts) != 2 or parts[0] not in self.aliases or parts[1] not in _CPU_MADE:
            return node
        func = ast.Attribute(
            value=ast.Name(parts[0], ast.Load()), attr="empty_like", ctx=ast.Load()
        )
        meta = ast.keyword(arg="device", value=ast.Constant("meta"))
        call = ast.Call(func=func, args=[node], keywords=[meta])
        for n in ast.walk(call):
            if n is not node and not isinstance(n, ast.Load):
                ast.copy_location(n, node)
        return call


def _on_meta(stmt: ast.stmt, aliases: set[str]) -> ast.stmt:
    """The statement with each tensor that torch makes on the CPU (`torch.from_numpy(a)`) moved
    to the meta device, where the model is: a copy, the file's positions kept."""
    if not any(
        isinstance(n, ast.Call) and attribute_chain(n.func).split(".")[-1] in _CPU_MADE
        for n in ast.walk(stmt)
    ):
        return stmt
    return _ToMeta(aliases).visit(copy.deepcopy(stmt))


def _catches_import_error(stmt: ast.Try) -> bool:
    """`try: import x / except ImportError: …`: the whole statement is the import."""
    if not any(isinstance(s, ast.Import | ast.ImportFrom) for s in stmt.body):
        return False
    for h in stmt.handlers:
        caught = [h.type] if not isinstance(h.type, ast.Tuple) else h.type.elts
        if h.type is None or any(
            attribute_chain(c).split(".")[-1]
            in {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
            for c in caught
        ):
            return True
    return False


def slice_program(tree: ast.Module) -> Slice:
    """Keep what builds the model; drop what trains, loads, saves, plots or runs as a script.

    n log n in the length of the file: every statement's names are read once, and each fixed
    point below is a worklist over the statements a change can affect. What is kept has its
    inputs kept (a statement reading a name that only dropped statements bind is dropped too,
    unless it builds the model); the names kept code still reads that only dropped statements
    bind are `stand_ins`.
    """
    classes = model_classes(tree)
    funcs = {s.name: s for s in tree.body if isinstance(s, ast.FunctionDef)}
    # (a `get_…`/`make_…` function that makes a data loader is no model builder, whatever it
    # is called with: `train_loader = get_data_loader(train_data, …)` needs the data)
    model_funcs = {
        f
        for f, node in funcs.items()
        if f == "dl_model"
        or "model" in f.lower()
        or (f.lower().startswith(("build", "create", "make", "get_")) and not _loads_data(node))
    }
    body = tree.body
    keep = [False] * len(body)
    main = [is_main_block(stmt) for stmt in body]
    simple: list[int] = []  # hyper-parameter-like assignments, kept unless they need data
    protected: set[int] = set()  # kept whatever they read: they are the model (or imports)
    seeds: list[int] = []
    model_vars: list[str] = []
    seen_vars: set[str] = set()
    aliases = _array_aliases(tree)
    model_callables = classes | model_funcs | MODEL_CALLS
    # Names the file calls at module level (`out = layer(x)`): a layer bound to one is a model.
    called = {
        n.func.id
        for i, stmt in enumerate(body)
        if not main[i] and not isinstance(stmt, ast.FunctionDef | ast.ClassDef)
        for n in ast.walk(stmt)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    for i, stmt in enumerate(body):
        if main[i]:
            continue
        if isinstance(
            stmt,
            ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
        ):
            keep[i] = True
            seeds.append(i)
            protected.add(i)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            layer = (
                isinstance(stmt.value, ast.Call)
                and _is_layer_call(stmt.value, model_callables)
                and any(n in called for n in names)
            )
            if (_builds_model(stmt.value, model_funcs, classes) or layer) and not is_forbidden(
                stmt
            ):
                keep[i] = True
                seeds.append(i)
                protected.add(i)
                for n in names:
                    if n not in seen_vars:
                        seen_vars.add(n)
                        model_vars.append(n)
            elif _simple_value(stmt.value) and not is_forbidden(stmt):
                keep[i] = True
                simple.append(i)
        elif isinstance(stmt, ast.Try) and (
            _catches_import_error(stmt)
            or all(
                isinstance(s, ast.Import | ast.ImportFrom | ast.Assign | ast.Pass)
                for s in stmt.body + [x for h in stmt.handlers for x in h.body]
            )
        ):
            keep[i] = True
            protected.add(i)
    stmts = [_Stmt(s, _targets(s), _uses(s), False) for s in body]
    for i, st in enumerate(stmts):
        if not keep[i] and not main[i]:
            st.forbidden = is_forbidden(st.node)
    needed: set[str] = set(model_vars)
    for i in seeds:
        needed |= stmts[i].uses
    blocked = _backward_slice(stmts, keep, main, needed)
    for i, st in enumerate(stmts):
        if keep[i] and i not in protected and st.targets & seen_vars and not _copies_in(st.node):
            protected.add(i)  # `model.add(Dense(10))`, `model = model.to(device)`
    calls = _keep_model_calls(stmts, keep, main, set(model_vars), model_callables, aliases)
    defined_by_kept = _drop_what_needs_dropped(stmts, keep, main, protected, set(simple))
    blocked = {n: line for n, line in blocked.items() if n not in defined_by_kept}
    data = set(calls) | {i for i in range(len(body)) if keep[i] and _cheap_data(body[i], aliases)}
    kept = [_on_meta(s, aliases) if i in data else s for i, s in enumerate(body) if keep[i]]
    dropped = [s.lineno for i, s in enumerate(body) if not keep[i]]
    stand_ins = _stand_ins(stmts, keep)
    module = ast.Module(body=kept, type_ignores=[])
    model_calls = [body[i].lineno for i in calls if keep[i]]
    sizes = _sizes(stmts, keep, set(stand_ins))
    return Slice(module, model_vars, dropped, blocked, stand_ins, model_calls, sizes)


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


def _keep_model_calls(
    stmts: list[_Stmt],
    keep: list[bool],
    main: list[bool],
    model_vars: set[str],
    model_callables: set[str],
    aliases: set[str],
) -> list[int]:
    """Keep the module-level calls of a model or layer on data the program builds itself
    (literals, numpy, torch factories, reshapes of them), with the statements that build that
    data; a call whose data any other statement above it binds (a file read, a function of the
    program's) is not kept: its shapes would not be the program's. Returns the calls kept."""
    definers: dict[str, list[int]] = {}  # ascending
    for i, st in enumerate(stmts):
        if not main[i]:
            for name in st.targets:
                definers.setdefault(name, []).append(i)
    cheap = [
        not keep[i] and not main[i] and not st.forbidden and _cheap_data(st.node, aliases)
        for i, st in enumerate(stmts)
    ]
    found: list[int] = []
    for c, st in enumerate(stmts):
        if keep[c] or main[c] or st.forbidden:
            continue
        if not _model_call(st.node, model_vars, model_callables, aliases):
            continue
        take: set[int] = set()
        todo = [(name, c) for name in _eager_uses(st.node)]
        seen: set[tuple[str, int]] = set()
        sound = True
        while todo and sound:
            name, at = todo.pop()
            if (name, at) in seen:
                continue
            seen.add((name, at))
            before = [j for j in definers.get(name, ()) if j < at]
            for j in before:
                if keep[j] or j in take:
                    continue
                if name in model_vars:
                    continue  # a loaded model is the model built before it: its architecture
                if not cheap[j]:
                    sound = False
                    break
                take.add(j)
                todo.extend((n, j) for n in _eager_uses(stmts[j].node))
        if sound:
            for j in take:
                keep[j] = True
            keep[c] = True
            found.append(c)
    return found


def _drop_what_needs_dropped(
    stmts: list[_Stmt], keep: list[bool], main: list[bool], protected: set[int], simple: set[int]
) -> set[str]:
    """Drop a kept statement that reads a name no kept statement binds (`x = x_train[..., None]`
    after a dropped `load_data()`), or an assignment that reads the name it assigns with no kept
    definition above it (`data = data.shuffle(100)` after a dropped first `data = …`); to a fixed
    point, as one drop can orphan another. The statements that build the model and the imports
    and definitions stay (what they read of dropped code becomes a stand-in). A hyper-parameter
    (`simple`) is dropped too when what it reads is bound nowhere; any other statement then stays
    and fails as the program would. Returns the names the kept statements define, builtins
    included. A statement whose nearest binding above of a name it reads is dropped reads that
    dropped value (`xs = [1, 2]` … `xs = tf.data.Dataset.range(7)`, `ds = window(xs)`), and is
    dropped too.
    """
    definers: dict[str, list[int]] = {}  # every statement binding the name, ascending
    for i, st in enumerate(stmts):
        if not main[i]:
            for name in st.targets:
                definers.setdefault(name, []).append(i)
    reached: dict[int, list[int]] = {}  # a binding -> the statements it is the nearest one of
    kept_definers: dict[str, list[int]] = {}  # ascending: the first kept one is the `first` entry
    bound: set[str] = set()
    for i, st in enumerate(stmts):
        bound |= st.targets
        if keep[i]:
            for name in st.targets:
                kept_definers.setdefault(name, []).append(i)
    alive = {name: len(js) for name, js in kept_definers.items()}
    first = dict.fromkeys(kept_definers, 0)  # index into kept_definers of the first still kept
    readers: dict[str, list[int]] = {}  # statements reading a name they do not assign
    self_readers: dict[str, list[int]] = {}  # assignments reading a name they assign, ascending
    self_done = dict.fromkeys(kept_definers, 0)
    known = set(dir(builtins)) | MODULE_GLOBALS
    to_drop: list[int] = []
    for i, st in enumerate(stmts):
        if not keep[i] or i in protected:
            continue
        assigns = isinstance(st.node, ast.Assign | ast.AnnAssign | ast.AugAssign)
        augmented = set() if assigns else _augmented(st.node)
        for name in sorted(_eager_uses(st.node)):
            if name in st.targets:
                if not assigns and name not in augmented:
                    continue  # `for n in sizes: …` binds n before reading it
                self_readers.setdefault(name, []).append(i)
                if kept_definers[name][0] >= i:
                    to_drop.append(i)
            elif name not in known and (i in simple or name in bound):
                readers.setdefault(name, []).append(i)
                if not alive.get(name):
                    to_drop.append(i)
                js = definers.get(name, [])
                k = bisect.bisect_left(js, i)
                if k:
                    reached.setdefault(js[k - 1], []).append(i)
                    if not keep[js[k - 1]]:
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
        to_drop.extend(reached.get(i, ()))
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


# Names every module has: reading one is no sign of a dropped statement.
MODULE_GLOBALS = frozenset({"__file__", "__name__", "__doc__", "__builtins__", "__spec__"})


def _stand_ins(stmts: list[_Stmt], keep: list[bool]) -> dict[str, int]:
    """The names kept code reads (in its functions too) that a dropped statement binds: name ->
    line of the first such statement. Builtins are left alone."""
    dropped_at: dict[str, int] = {}
    for i, st in enumerate(stmts):
        if not keep[i]:
            for name in st.targets:
                dropped_at.setdefault(name, st.node.lineno)
    read: set[str] = set()
    for i, st in enumerate(stmts):
        if keep[i]:
            read |= st.uses
    known = set(dir(builtins)) | MODULE_GLOBALS
    return {n: line for n, line in sorted(dropped_at.items()) if n in read and n not in known}


# Calls whose result is a number when their argument is data: `len(vocab)`, `int(n * 0.8)`.
_SIZE_CALLS = frozenset({"len", "int", "round", "max", "min"})


def _sizes(stmts: list[_Stmt], keep: list[bool], names: set[str]) -> set[str]:
    """The names of `names` that every dropped statement binding them assigns alone, to a size
    read off data: `len(…)`, `int(…)`, an item (`X.shape[1]`, `vocab.stoi[pad]`), an attribute
    (`tokenizer.vocab_size`), `x.size(1)`, numbers, and arithmetic of those."""
    out: dict[str, bool] = {}
    for i, st in enumerate(stmts):
        if keep[i] or not st.targets & names:
            continue
        node = st.node
        single = (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        )
        for name in st.targets & names:
            out[name] = out.get(name, True) and single and _size_value(node.value)  # type: ignore[attr-defined]
    return {n for n, ok in out.items() if ok}


def _size_value(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return type(node.value) in (int, float)
    if isinstance(node, ast.BinOp):
        return _size_value(node.left) and _size_value(node.right)
    if isinstance(node, ast.UnaryOp):
        return _size_value(node.operand)
    if isinstance(node, ast.Subscript | ast.Attribute | ast.Name):
        return True
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            return node.func.id in _SIZE_CALLS
        return isinstance(node.func, ast.Attribute) and node.func.attr in {"size", "numel", "dim"}
    return False
