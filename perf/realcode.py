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
import collections
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "realcode"


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
    crashes = [r for r in reports if "crash" in r]
    for r in reports:
        for d in r.get("diagnostics", []):
            counts[(d["code"], d["severity"])] += 1
            if d["severity"] == "error":
                line = d["range"]["start"]["line"] + 1
                errors.append(f"{r['repo']}/{r['path']}:{line} {d['code']} {d['message']}")
    print(f"{len(reports)} files in {len(by_repo)} repositories, {elapsed:.0f} s")
    print("\nfindings by code and severity:")
    for (code, sev), n in sorted(counts.items()):
        print(f"  {code:8} {sev:12} {n}")
    print(f"\nerrors ({len(errors)}):")
    for e in errors:
        print("  " + e.splitlines()[0][:220])
    if not args.no_dynamic:
        models = [r for r in reports if (r.get("summary") or {}).get("model")]
        sources = collections.Counter(input_source(r) for r in models)
        print(f"\ndynamic pass built a model: {len(models)} of {len(reports)} files")
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
