"""Where samples come from: `openai:<name>`, `replay:<folder or .jsonl>`, `reference`.

- `openai:<name>` asks an OpenAI-compatible endpoint (benchmark/generation.py).
- `replay:<folder>` scores recorded programs laid out as the study published them,
  `<model>/<prompting>/<task>/generated_code_<k>.py`; the model's name is the folder's name.
  The k-th file in numeric order is sample k-1, whether the numbering starts at 0 or 1. A
  folder that holds several such model folders replays each of them.
- `replay:<file.jsonl>` scores records `{"model"?, "prompting", "task", "sample"?, "answer" |
  "code"}`, one per line; `answer` is a chat answer (the code is extracted from it), `code` is
  taken as it is; the model defaults to the file's stem and the sample to the record's order.
- `reference` answers every task with the task's own reference program: a sanity run that must
  score 100%, one sample per task, prompting "none".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from deepeval_lsp.benchmark.prompting import PROMPTINGS

_GENERATED = re.compile(r"^generated_code_(\d+)\.py$")


class ModelSpecError(ValueError):
    """A --model value that cannot be used; the message is one line."""


@dataclass
class ReplayRecord:
    text: str
    is_code: bool  # True: a program as it is; False: a chat answer to extract code from


@dataclass
class ModelSource:
    """One model of a run."""

    kind: str  # openai | replay | reference
    name: str  # the name reports show (the model folder's name for a replay)
    target: str = ""  # the API model name, or the replay path
    # replay only: (prompting, task_id) -> records ordered by sample index
    records: dict[tuple[str, str], list[ReplayRecord]] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        return "reference" if self.kind == "reference" else f"{self.kind}:{self.target}"

    def replay(self, prompting: str, task_id: str, index: int) -> ReplayRecord | None:
        found = self.records.get((prompting, task_id), [])
        return found[index] if index < len(found) else None

    def promptings(self) -> list[str]:
        """The promptings a replay holds, in the usual order."""
        have = {p for p, _ in self.records}
        return [p for p in PROMPTINGS if p in have] + sorted(have - set(PROMPTINGS))


def parse_models(specs: list[str]) -> list[ModelSource]:
    """Resolve `--model` values (replays are read here, so a bad path fails before any work)."""
    out: list[ModelSource] = []
    for spec in specs:
        out.extend(parse_model(spec))
    names = [m.name for m in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ModelSpecError(f"two models share the name {dupes[0]!r}")
    return out


def parse_model(spec: str) -> list[ModelSource]:
    spec = spec.strip()
    if spec == "reference":
        return [ModelSource(kind="reference", name="reference")]
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ModelSpecError(
            f"model {spec!r}: expected openai:<name>, replay:<folder or .jsonl> or reference"
        )
    if kind == "openai":
        return [ModelSource(kind="openai", name=rest, target=rest)]
    if kind == "replay":
        return _replay(Path(rest).expanduser(), rest)
    raise ModelSpecError(
        f"model {spec!r}: unknown kind {kind!r} (use openai:, replay: or reference)"
    )


def _replay(path: Path, raw: str) -> list[ModelSource]:
    if not path.exists():
        raise ModelSpecError(f"replay {raw!r}: no such file or folder")
    if path.is_file():
        return _replay_jsonl(path, raw)
    if _is_model_folder(path):
        return [_replay_folder(path, raw)]
    models = [d for d in sorted(path.iterdir()) if d.is_dir() and _is_model_folder(d)]
    if not models:
        raise ModelSpecError(
            f"replay {raw!r}: no <prompting>/<task>/generated_code_<k>.py files found"
        )
    return [_replay_folder(d, str(d)) for d in models]


def _is_model_folder(path: Path) -> bool:
    return (
        any(
            _GENERATED.match(f.name)
            for d in path.iterdir()
            if d.is_dir()
            for t in d.iterdir()
            if t.is_dir()
            for f in t.iterdir()
        )
        if path.is_dir()
        else False
    )


def _replay_folder(path: Path, raw: str) -> ModelSource:
    source = ModelSource(kind="replay", name=path.name, target=raw)
    for prompting_dir in sorted(d for d in path.iterdir() if d.is_dir()):
        for task_dir in sorted(d for d in prompting_dir.iterdir() if d.is_dir()):
            files = []
            for f in task_dir.iterdir():
                m = _GENERATED.match(f.name)
                if m and f.is_file():
                    files.append((int(m.group(1)), f))
            records = []
            for _, f in sorted(files):
                try:
                    text = f.read_text(encoding="utf-8", errors="replace")
                except OSError as e:
                    raise ModelSpecError(f"replay {raw!r}: cannot read {f}: {e}") from None
                records.append(ReplayRecord(text=text, is_code=True))
            if records:
                source.records[(prompting_dir.name, task_dir.name)] = records
    return source


def _replay_jsonl(path: Path, raw: str) -> list[ModelSource]:
    by_model: dict[str, ModelSource] = {}
    indexed: dict[tuple[str, str, str], dict[int, ReplayRecord]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ModelSpecError(f"replay {raw!r}: cannot read: {e}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise ModelSpecError(f"{path}:{n}: not valid JSON ({e.msg})") from None
        if not isinstance(rec, dict):
            raise ModelSpecError(f"{path}:{n}: expected a JSON object")
        prompting, task = rec.get("prompting"), rec.get("task")
        if not isinstance(prompting, str) or not isinstance(task, str):
            raise ModelSpecError(f"{path}:{n}: 'prompting' and 'task' must be strings")
        if isinstance(rec.get("code"), str):
            record = ReplayRecord(rec["code"], is_code=True)
        elif isinstance(rec.get("answer"), str):
            record = ReplayRecord(rec["answer"], is_code=False)
        else:
            raise ModelSpecError(f"{path}:{n}: needs an 'answer' or a 'code' string")
        model = rec.get("model") if isinstance(rec.get("model"), str) else path.stem
        slot = indexed.setdefault((model, prompting, task), {})
        index = rec.get("sample")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            index = len(slot)
        if index in slot:
            raise ModelSpecError(
                f"{path}:{n}: sample {index} of {model}/{prompting}/{task} appears twice"
            )
        slot[index] = record
        by_model.setdefault(model, ModelSource(kind="replay", name=model, target=raw))
    if not by_model:
        raise ModelSpecError(f"replay {raw!r}: the file holds no records")
    for (model, prompting, task), slot in indexed.items():
        # a gap in sample numbers is a missing sample, not a shifted one
        top = max(slot) + 1
        recs = [slot.get(i, ReplayRecord("", is_code=True)) for i in range(top)]
        by_model[model].records[(prompting, task)] = recs
    return list(by_model.values())
