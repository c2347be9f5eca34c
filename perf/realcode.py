"""Run `deepeval-lsp check` over the real-code corpus as a user would, and print its findings.

    python perf/realcode.py [--corpus ../shared/realcode] [--repo NAME ...] [--json OUT]
                            [--jobs 2] [--no-dynamic] [--timeout 10]

For each repository folder of the corpus (`OWNER+NAME/`), the files that its `files.txt` lists are
checked by one `deepeval-lsp check --format json` process whose working directory is that
repository's root, the way a user runs the tool from a checkout. Printed: the findings by code and
severity, every error (path:line code message) so each can be read and named, and how many model
files the dynamic pass built, by the source of their input shape. Exit status 0; the corpus is
third-party code and lives outside the project (it is read, never copied).
"""

from __future__ import annotations

import argparse
import ast
import collections
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from deepeval_lsp.diagnostics.files import UncheckableFile
from deepeval_lsp.diagnostics.notebook import is_notebook, read_notebook

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "realcode"

# The true bugs of the corpus (its snapshot commits), each read and named: `repo/path:line code`
# and why the code fails when it runs. Every other error-severity finding is a false error.
TRUE_BUGS: dict[str, str] = {
    "lucidrains+denoising-diffusion-pytorch/denoising_diffusion_pytorch/guided_diffusion.py:888 "
    "DL004": "Trainer.save() reads __version__, whose import is commented out (line 27): "
    "NameError on the first checkpoint",
    "lucidrains+denoising-diffusion-pytorch/denoising_diffusion_pytorch/karras_unet_1d.py:654 "
    "DL101": "MPFeedForward of the 1-D U-Net builds Conv2d, which the file never defines (it "
    "defines Conv1d): NameError when the block is built",
    "lucidrains+denoising-diffusion-pytorch/denoising_diffusion_pytorch/karras_unet_1d.py:656 "
    "DL101": "the same Conv2d, second use",
    "lucidrains+denoising-diffusion-pytorch/denoising_diffusion_pytorch/"
    "learned_gaussian_diffusion.py:90 DL004": "model_predictions() uses partial and identity, "
    "neither imported nor defined in the file: NameError on every call",
    "lucidrains+denoising-diffusion-pytorch/denoising_diffusion_pytorch/simple_diffusion.py:705 "
    "DL004": "the assert's message names image_size, which is not defined (img_size is): a "
    "wrong-sized image raises NameError instead of the AssertionError",
    "lucidrains+x-transformers/x_transformers/continuous.py:352 DL003": "forward_rollout() "
    "reads inp before assigning it (line 391) when lens is given: UnboundLocalError",
    "lucidrains+x-transformers/x_transformers/multi_input.py:202 DL004": "the memory-tokens "
    "path checks isinstance(..., Decoder), never imported: NameError",
    "lucidrains+x-transformers/x_transformers/multi_input.py:203 DL101": "math is never "
    "imported: NameError on the memory-tokens path",
    "lucidrains+x-transformers/x_transformers/multi_input.py:206 DL004": "rearrange is never "
    "imported (only pack, repeat, unpack): NameError",
    "lucidrains+x-transformers/x_transformers/multi_input.py:216 DL004": "rearrange, as above",
    "lucidrains+x-transformers/x_transformers/multi_input.py:228 DL004": "rearrange, as above",
    "lucidrains+x-transformers/x_transformers/multi_input.py:235 DL004": "rearrange, as above",
    "lucidrains+x-transformers/x_transformers/multi_input.py:257 DL004": "calc_z_loss is never "
    "imported: NameError when the z-loss is asked for",
    "lucidrains+x-transformers/x_transformers/xval.py:146 DL004": "pad_at_dim is not among "
    "the names imported from x_transformers.x_transformers: NameError with memory tokens and a "
    "mask",
}


def corpus_files(corpus: Path) -> dict[str, list[str]]:
    """files.txt grouped by repository folder, paths relative to that folder."""
    by_repo: dict[str, list[str]] = collections.defaultdict(list)
    for line in (corpus / "files.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        repo, _, rel = line.partition("/")
        by_repo[repo].append(rel)
    return dict(by_repo)


def check_repo(
    corpus: Path, repo: str, files: list[str], extra: list[str], exe: list[str]
) -> list[dict[str, Any]]:
    """One check process from the repository's root; its JSON reports (one per file)."""
    proc = subprocess.run(
        [*exe, "check", "--format", "json", "--color", "never", *extra, *files],
        cwd=corpus / repo,
        capture_output=True,
        text=True,
    )
    try:
        reports = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = (proc.stderr or proc.stdout)[-2000:]
        return [{"path": f, "repo": repo, "crash": tail, "diagnostics": []} for f in files]
    for r in reports:
        r["repo"] = repo
    return reports


_MODEL_BASES = {"Module", "Model", "Sequential", "LightningModule", "Functional"}


def _program_text(path: Path) -> str:
    """A file's Python text; a notebook's code cells, in order, as the check reads them."""
    if is_notebook(path):
        try:
            return read_notebook(path).program
        except UncheckableFile:  # not a notebook the check can read: nothing to count
            return ""
    return path.read_text(encoding="utf-8", errors="replace")


def _last_name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return _last_name(node.func)
    return ""


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(_program_text(path))
    except (SyntaxError, ValueError, OSError):
        return None


def model_class_names(repo_root: Path) -> set[str]:
    """Names of the classes of a repository that are models: a base (its last name) is
    Module, Model, Sequential, or one of the repository's own model classes."""
    bases: dict[str, set[str]] = collections.defaultdict(set)
    for f in repo_root.rglob("*.py"):
        tree = _parse(f)
        for n in ast.walk(tree) if tree else ():
            if isinstance(n, ast.ClassDef):
                bases[n.name] |= {_last_name(b) for b in n.bases}
    models = set(_MODEL_BASES)
    grew = True
    while grew:
        new = {c for c, bs in bases.items() if c not in models and bs & models}
        models |= new
        grew = bool(new)
    return models


def is_model_file(path: Path, models: set[str]) -> bool:
    """A file that defines a model: a class among `models` (model_class_names), or a function
    that builds a Model(…) or Sequential(…); a notebook or script that builds one at module
    level. Syntax only: this is how the metric "model files built" is counted."""
    tree = _parse(path)
    if tree is None:
        return False
    for n in ast.walk(tree):
        if isinstance(n, ast.ClassDef) and (
            n.name in models or {_last_name(b) for b in n.bases} & models
        ):
            return True
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.Module):
            body = ast.walk(fn) if isinstance(fn, ast.FunctionDef) else iter(fn.body)
            for n in body:
                call = n.value if isinstance(n, ast.Assign | ast.Expr) else n
                if isinstance(call, ast.Call) and _last_name(call.func) in ("Model", "Sequential"):
                    return True
    return False


def input_source(report: dict[str, Any]) -> str:
    """Where the built model's input shape came from, read from the report's notes."""
    for note in report.get("summary", {}).get("notes", []):
        if "assumed from the dataset" in note:
            return "guessed: dataset named in the file"
        if "assumed from the first layer" in note:
            return "guessed: first layer"
        if "input shape" in note and "assumed" in note:
            return "guessed: " + note.split("assumed", 1)[1].split(";")[0].strip()
    return "known (Input(shape=…), pragma, call in the file, task)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--repo", action="append", help="only these repository folders")
    ap.add_argument("--json", type=Path, help="write every report here")
    ap.add_argument("--jobs", type=int, default=2, help="repositories checked at once")
    ap.add_argument("--no-dynamic", action="store_true")
    ap.add_argument("--timeout", type=float)
    args = ap.parse_args(argv)
    if not (args.corpus / "files.txt").is_file():
        print(f"no corpus at {args.corpus} (files.txt missing)", file=sys.stderr)
        return 2
    by_repo = corpus_files(args.corpus)
    if args.repo:
        by_repo = {r: f for r, f in by_repo.items() if r in set(args.repo)}
    extra = ["--no-dynamic"] if args.no_dynamic else []
    if args.timeout:
        extra += ["--timeout", str(args.timeout)]
    exe = [sys.executable, "-m", "deepeval_lsp"]
    t0 = time.monotonic()
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = [
            pool.submit(check_repo, args.corpus, repo, files, extra, exe)
            for repo, files in sorted(by_repo.items())
        ]
        reports = [r for fut in futures for r in fut.result()]
    elapsed = time.monotonic() - t0

    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    errors: list[str] = []
    named: list[str] = []
    crashes = [r for r in reports if "crash" in r]
    for r in reports:
        for d in r.get("diagnostics", []):
            counts[(d["code"], d["severity"])] += 1
            if d["severity"] == "error":
                line = d["range"]["start"]["line"] + 1
                cell = f"cell {d['cell']}:" if "cell" in d else ""  # a notebook's, in its cell
                key = f"{r['repo']}/{r['path']}:{cell}{line} {d['code']}"
                (named if key in TRUE_BUGS else errors).append(f"{key} {d['message']}")
    print(f"{len(reports)} files in {len(by_repo)} repositories, {elapsed:.0f} s")
    print("\nfindings by code and severity:")
    for (code, sev), n in sorted(counts.items()):
        print(f"  {code:8} {sev:12} {n}")
    print(f"\nerrors that are named true bugs ({len(named)}):")
    for e in named:
        print("  " + e.splitlines()[0][:160])
        print("      " + TRUE_BUGS[" ".join(e.split(" ")[:2])])
    print(f"\nfalse errors, not among the named true bugs ({len(errors)}):")
    for e in errors:
        print("  " + e.splitlines()[0][:220])
    if not args.no_dynamic:
        models = [r for r in reports if (r.get("summary") or {}).get("model")]
        sources = collections.Counter(input_source(r) for r in models)
        classes = {repo: model_class_names(args.corpus / repo) for repo in by_repo}
        model_files = [
            r
            for r in reports
            if is_model_file(args.corpus / r["repo"] / r["path"], classes[r["repo"]])
        ]
        built = [r for r in model_files if (r.get("summary") or {}).get("model")]
        share = 100 * len(built) / max(1, len(model_files))
        print(
            f"\ndynamic pass built a model: {len(models)} of {len(reports)} files; "
            f"{len(built)} of the {len(model_files)} model files ({share:.0f} %)"
        )
        for src, n in sources.most_common():
            print(f"  {n:4}  {src}")
        stops = collections.Counter()
        for r in reports:
            if not (r.get("summary") or {}).get("model"):
                notes = (r.get("summary") or {}).get("notes") or ["(no note)"]
                stops[notes[-1].split(":")[0][:90]] += 1
        print("\nnot built, by last note:")
        for note, n in stops.most_common(25):
            print(f"  {n:4}  {note}")
    for r in crashes:
        print(f"\ncheck crashed in {r['repo']}: {r['crash']}")
    if args.json:
        args.json.write_text(json.dumps(reports, indent=1))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
