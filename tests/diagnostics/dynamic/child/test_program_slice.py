"""The program slicer: the same slice as whole-file fixed-point scans, in n log n time."""

from __future__ import annotations

import ast
import builtins
import random

import pytest
from deepeval_lsp.diagnostics.dynamic.child import program_slice as ps
from deepeval_lsp.diagnostics.text import attribute_chain, callee_name


def reference_model_classes(tree: ast.Module) -> set[str]:
    """The slicer's earlier model_classes: repeated passes to a fixed point."""
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


def _stores_a_value(stmt: ast.stmt) -> bool:
    """`model.x.weight.data = w`, `model[0] = b`: a value put into the model, no building."""
    return (
        isinstance(stmt, ast.Assign)
        and all(not isinstance(t, ast.Name | ast.Tuple | ast.List) for t in stmt.targets)
        and isinstance(stmt.value, ast.Name | ast.Attribute | ast.Subscript)
    )


def reference_slice(tree: ast.Module) -> ps.Slice:
    """slice_program as whole-file passes to each fixed point (quadratic): its specification."""
    classes = reference_model_classes(tree)
    funcs = {s.name: s for s in tree.body if isinstance(s, ast.FunctionDef)}
    model_funcs = {
        f
        for f, node in funcs.items()
        if f == "dl_model"
        or "model" in f.lower()
        or (
            f.lower().startswith(("build", "create", "make", "get_"))
            and not any(
                isinstance(n, ast.Call) and callee_name(n) in ps.DATA_LOADING_CALLS
                for n in ast.walk(node)
            )
        )
    }
    body = tree.body
    keep = [False] * len(body)
    simple: set[int] = set()
    tried: set[int] = set()
    seeds: list[int] = []
    model_vars: list[str] = []
    for i, stmt in enumerate(body):
        if ps.is_main_block(stmt):
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
            if ps._builds_model(stmt.value, model_funcs, classes) and not ps.is_forbidden(stmt):
                keep[i] = True
                seeds.append(i)
                model_vars.extend(n for n in names if n not in model_vars)
            elif ps._simple_value(stmt.value) and not ps.is_forbidden(stmt):
                keep[i] = True
                simple.add(i)
        elif isinstance(stmt, ast.Try) and (
            ps._catches_import_error(stmt)
            or all(
                isinstance(s, ast.Import | ast.ImportFrom | ast.Assign | ast.Pass)
                for s in stmt.body + [x for h in stmt.handlers for x in h.body]
            )
        ):
            keep[i] = True
            tried.add(i)
    needed: set[str] = set()
    for i in seeds:
        needed |= ps._uses(body[i])
    needed |= set(model_vars)
    blocked: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for i in range(len(body) - 1, -1, -1):
            stmt = body[i]
            if keep[i] or ps.is_main_block(stmt):
                continue
            defined = ps._targets(stmt)
            if not defined & needed:
                continue
            if ps.is_forbidden(stmt):
                for n in defined & needed:
                    blocked.setdefault(n, stmt.lineno)
                continue
            keep[i] = True
            needed |= ps._uses(stmt)
            changed = True
    protected = (
        set(seeds)
        | tried
        | {
            i
            for i in range(len(body))
            if keep[i] and ps._targets(body[i]) & set(model_vars) and not _stores_a_value(body[i])
        }
    )
    bound: set[str] = set()
    for stmt in body:
        bound |= ps._targets(stmt)
    known = set(dir(builtins)) | ps.MODULE_GLOBALS
    changed = True
    while changed:
        changed = False
        defined_by_kept = set(known)
        for i, stmt in enumerate(body):
            if keep[i]:
                defined_by_kept |= ps._targets(stmt)
        for i, stmt in enumerate(body):
            if not keep[i] or i in protected:
                continue
            before: set[str] = set()
            for j in range(i):
                if keep[j]:
                    before |= ps._targets(body[j])
            own = ps._targets(stmt)
            assigns = isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign)
            augmented = {
                n.target.id
                for n in ast.walk(stmt)
                if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)
            }
            for name in ps._eager_uses(stmt):
                if name in own:
                    orphan = (assigns or name in augmented) and name not in before
                else:
                    orphan = name not in defined_by_kept and (i in simple or name in bound)
                    if name not in known and (i in simple or name in bound):
                        above = [
                            j
                            for j in range(i)
                            if not ps.is_main_block(body[j]) and name in ps._targets(body[j])
                        ]
                        orphan = orphan or bool(above and not keep[above[-1]])
                if orphan:
                    keep[i] = False
                    changed = True
                    break
    blocked = {n: line for n, line in blocked.items() if n not in defined_by_kept}
    kept = [s for i, s in enumerate(body) if keep[i]]
    dropped = [s.lineno for i, s in enumerate(body) if not keep[i]]
    read: set[str] = set()
    for s in kept:
        read |= ps._uses(s)
    stand_ins: dict[str, int] = {}
    for i, stmt in enumerate(body):
        if not keep[i]:
            for name in ps._targets(stmt):
                if name in read and name not in known:
                    stand_ins.setdefault(name, stmt.lineno)
    module = ast.Module(body=kept, type_ignores=[])
    return ps.Slice(module, model_vars, dropped, blocked, dict(sorted(stand_ins.items())))


NAMES = ["a", "b", "c", "d", "x", "model", "net", "data", "len"]


def _statement(rng: random.Random, k: int) -> str:
    """One top-level statement of a random kind over a few shared names, so that definitions,
    uses, redefinitions and self-references cross in every order."""
    n, m = rng.choice(NAMES), rng.choice(NAMES)
    choices = [
        f"{n} = {k}",
        f"{n} = {m} + 1",
        f"{n} = {n} * 2",
        f"{n} = np.load('f{k}.npy')",
        f"{n} = {m}.fit({n})",
        f"{n}, {m} = {k}, {k}",
        f"{n} = transform({m})",
        f"{n} = Net{k % 3}()",
        f"{n} = {m} = {n} = nn.Sequential()",
        f"{n} = nn.Sequential(nn.Linear({m}, 2))",
        f"{n}.add(layer({m}))",
        f"{n}[0] = {m}",
        f"{n}.attr = {m}",
        f"for {n} in range({m}):\n    {m}.train()",
        f"for {n} in range(3):\n    {m} = {n}",
        f"print({n})",
        f"for {n} in range(3):\n    {m} += {n}",
        f"{n} += {m}",
        f"def build_{k}():\n    return {n}",
        f"def get_loader_{k}(v):\n    return DataLoader(v, {n})",
        f"{n} = get_loader_{k}({m})",
        f"def helper_{k}(v):\n    return v + {m}",
        f"class Net{k % 3}(nn.Module):\n    size = {n}",
        f"class Sub{k}(Net{(k + 1) % 3}):\n    pass",
        f"class Late{k}(Sub{k + 1}):\n    pass",
        f"if __name__ == '__main__':\n    {n} = {m}",
        f"try:\n    import keras\nexcept ImportError:\n    {n} = None",
        f"{n}: int = {m}",
        f"with open('f') as fh:\n    {n} = fh.read()",
    ]
    return rng.choice(choices)


def random_program(seed: int, statements: int) -> str:
    rng = random.Random(seed)
    lines = ["import numpy as np", "from torch import nn"]
    lines += [_statement(rng, k) for k in range(statements)]
    return "\n".join(lines) + "\n"


def _same(source: str) -> None:
    tree = ast.parse(source)
    got, want = ps.slice_program(tree), reference_slice(tree)
    assert [ast.dump(s) for s in got.module.body] == [ast.dump(s) for s in want.module.body]
    assert got.model_vars == want.model_vars
    assert got.dropped_lines == want.dropped_lines
    assert got.blocked == want.blocked
    assert got.stand_ins == want.stand_ins
    assert ps.model_classes(tree) == reference_model_classes(tree)


@pytest.mark.parametrize("seed", range(300))
def test_same_slice_as_the_fixed_point_scans(seed: int) -> None:
    _same(random_program(seed, 5 + seed % 40))


def test_same_slice_of_a_longer_program() -> None:
    _same(random_program(12345, 400))


def test_a_long_program_is_sliced() -> None:
    """Thousands of statements: what the model needs is kept, data loading and training are not."""
    body = "".join(
        f"hidden_{i} = 8 * {i % 5 + 1}\n"
        f"data_{i} = np.load('x{i}.npy')\n"
        f"scaled_{i} = data_{i} * hidden_{i}\n"
        f"print(hidden_{i})\n"
        for i in range(2000)
    )
    model = "net = nn.Sequential(nn.Linear(hidden_1999, 2))\n"
    src = f"import numpy as np\nfrom torch import nn\n{body}{model}"
    tree = ast.parse(src)
    sl = ps.slice_program(tree)
    kept = {ps._targets(s).pop() for s in sl.module.body if isinstance(s, ast.Assign)}
    assert kept == {f"hidden_{i}" for i in range(2000)} | {"net"}
    assert sl.model_vars == ["net"] and sl.blocked == {}
    assert len(sl.dropped_lines) == 3 * 2000
