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
# Methods that add to a model built step by step (`model.add(Dense(10))`).
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
    changed = True
    while changed:
        changed = False
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef) and stmt.name not in found:
                for b in stmt.bases:
                    last = attribute_chain(b).split(".")[-1]
                    if last in {"Module", "Model", "Layer", "Sequential"} or last in found:
                        found.add(stmt.name)
                        changed = True
                        break
    return found


def slice_program(tree: ast.Module) -> Slice:
    """Keep what builds the model; drop what trains, loads, saves, plots or runs as a script."""
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
    simple: set[int] = set()  # hyper-parameter-like assignments, kept unless they need data
    seeds: list[int] = []
    model_vars: list[str] = []
    for i, stmt in enumerate(body):
        if is_main_block(stmt):
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
                model_vars.extend(n for n in names if n not in model_vars)
            elif _simple_value(stmt.value) and not is_forbidden(stmt):
                keep[i] = True
                simple.add(i)
        elif isinstance(stmt, ast.Try) and all(
            isinstance(s, ast.Import | ast.ImportFrom | ast.Assign | ast.Pass)
            for s in stmt.body + [x for h in stmt.handlers for x in h.body]
        ):
            keep[i] = True

    # Statements after a model variable's creation that add to it (`model.add(…)`), or
    # functional-API layer calls that the model's inputs/outputs depend on.
    needed: set[str] = set()
    for i in seeds:
        needed |= _uses(body[i])
    needed |= set(model_vars)
    blocked: dict[str, int] = {}
    # Backward slice, to a fixed point: a statement is needed when it defines or mutates a
    # needed name; statements that act on the world never run.
    changed = True
    while changed:
        changed = False
        for i in range(len(body) - 1, -1, -1):
            stmt = body[i]
            if keep[i] or is_main_block(stmt):
                continue
            defined = _targets(stmt)
            if not defined & needed:
                continue
            if is_forbidden(stmt) or (
                isinstance(stmt, ast.For | ast.While | ast.AsyncFor) and (_has_training(stmt))
            ):
                for n in defined & needed:
                    blocked.setdefault(n, stmt.lineno)
                continue
            keep[i] = True
            needed |= _uses(stmt)
            changed = True
    # A "simple" assignment that reads what only dropped code defines (`x = x_train[..., None]`
    # after a dropped `load_data()`) would fail: drop it too, to a fixed point.
    known = set(dir(builtins))
    changed = True
    while changed:
        changed = False
        defined_by_kept = set(known)
        for i, stmt in enumerate(body):
            if keep[i]:
                defined_by_kept |= _targets(stmt)
        for i in sorted(simple):
            if keep[i] and not _uses(body[i]) <= defined_by_kept - (
                _targets(body[i]) - (_defined_before(body, keep, i))
            ):
                keep[i] = False
                changed = True
    blocked = {n: line for n, line in blocked.items() if n not in defined_by_kept}
    kept = [s for i, s in enumerate(body) if keep[i]]
    dropped = [s.lineno for i, s in enumerate(body) if not keep[i]]
    module = ast.Module(body=kept, type_ignores=[])
    return Slice(module, model_vars, dropped, blocked)


def _defined_before(body: list[ast.stmt], keep: list[bool], i: int) -> set[str]:
    out: set[str] = set()
    for j in range(i):
        if keep[j]:
            out |= _targets(body[j])
    return out


def _has_training(stmt: ast.stmt) -> bool:
    return is_forbidden(stmt)
