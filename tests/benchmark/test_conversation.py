"""`deepeval-lsp bench --prompting …+repair…` against a real scripted OpenAI-compatible server:
the rounds of each conversation, the stopping rule, the token sums, the fixes-only rounds,
the cache serving a rerun, and the report's repair tables."""

from __future__ import annotations

import json

from deepeval_lsp.benchmark.selftest import mutants
from deepeval_lsp.diagnostics.tasks.suite import load_suite

from deepeval_lsp.cli import main

from .fake_openai import FakeOpenAI
from .repair_script import RepairScript, tokens, turn_of
from .sqlite_rows import db_rows

SUITE = load_suite("builtin")


def _bench(db, server, tasks, promptings: str, *extra: str) -> int:
    return main(
        [
            "bench",
            "--db",
            str(db),
            "--model",
            "openai:fixer",
            "--model",
            "openai:stubborn",
            "--base-url",
            server.base_url,
            "--prompting",
            promptings,
            "--samples",
            "1",
            "-q",
            "--workers",
            "2",
            *[a for t in tasks for a in ("--task", t.id)],
            *extra,
        ]
    )


def _rounds(db) -> dict[tuple[str, str, str], list[dict]]:
    out: dict[tuple[str, str, str], list[dict]] = {}
    for r in db_rows(db, "select * from rounds order by model, prompting, task_id, round"):
        out.setdefault((r["model"], r["prompting"], r["task_id"]), []).append(r)
    return out


def _samples(db) -> dict[tuple[str, str, str], dict]:
    return {
        (s["model"], s["prompting"], s["task_id"]): s for s in db_rows(db, "select * from samples")
    }


def test_static_errors_are_sent_back_until_fixed_or_the_rounds_are_spent(tmp_path, capsys, request):
    """A hallucinated `nn.Conv2D` (a static error with a verified fix): the fixer repairs it in
    round 1, the stubborn model never does and stops after its 2 rounds; a correct program
    makes no round; the fixes-only rounds cost no tokens; a rerun is served by the cache."""
    broken_task, good_task = SUITE.get("img_avgpool_pointwise_mnist"), SUITE.tasks[0]
    mutant = mutants(broken_task, ["hallucinated_member"])[0]
    script = RepairScript([broken_task, good_task], {broken_task.id: mutant.source})
    db, cache = tmp_path / "b.db", tmp_path / "cache"
    tasks = [broken_task, good_task]
    args = ("repair,zeroshot+repair-fixes", "--no-dynamic", "--cache-dir", str(cache))
    server = FakeOpenAI(script, by_request=True).__enter__()
    request.addfinalizer(server.__exit__)
    assert _bench(db, server, tasks, *args) == 0, capsys.readouterr().err
    asked = len(server.log)
    turns = sorted((e.model, turn_of(e.body)) for e in server.log if turn_of(e.body))
    assert turns == [("fixer", 1), ("stubborn", 1), ("stubborn", 2)]

    rounds, samples = _rounds(db), _samples(db)
    assert len(samples) == 8
    fix = rounds[("fixer", "zeroshot+repair:2", broken_task.id)]
    assert [(r["round"], r["kind"], r["errors"] > 0) for r in fix] == [
        (0, "answer", True),
        (1, "repair", False),
    ]
    stub = rounds[("stubborn", "zeroshot+repair:2", broken_task.id)]
    assert [(r["round"], r["kind"], r["errors"] > 0) for r in stub] == [
        (0, "answer", True),
        (1, "repair", True),
        (2, "repair", True),
    ]
    # the follow-up turn: the finding as `check` renders it, and the verified fix as a hint
    last = json.loads(stub[2]["messages"])
    assert [m["role"] for m in last] == ["system", "user", "assistant", "user", "assistant", "user"]
    feedback = last[-1]["content"]
    assert "DL104" in feedback and "has no member `Conv2D`" in feedback
    assert "replace `self.pointwise = nn.Conv2D(" in feedback
    assert "with `self.pointwise = nn.Conv2d(" in feedback
    for model in ("fixer", "stubborn"):
        # a program without errors makes no repair round
        assert [r["round"] for r in rounds[(model, "zeroshot+repair:2", good_task.id)]] == [0]
        fixes = rounds[(model, "zeroshot+repair-fixes:2", broken_task.id)]
        assert [(r["kind"], r["errors"], r["fixes_applied"]) for r in fixes] == [
            ("answer", fixes[0]["errors"], None),
            ("fixes", 0, 1),
        ]
        assert (fixes[1]["prompt_tokens"], fixes[1]["completion_tokens"]) == (0, 0)
        assert fixes[1]["messages"] is None and "nn.Conv2d(" in fixes[1]["code"]
        s = samples[(model, "zeroshot+repair-fixes:2", broken_task.id)]
        assert (s["prompt_tokens"], s["completion_tokens"]) == tokens(0)
        assert s["code"] == fixes[1]["code"] and s["static_errors"] == 0
    # the sample: its last round's program and findings, every round's tokens
    s = samples[("stubborn", "zeroshot+repair:2", broken_task.id)]
    assert s["prompt_tokens"] == sum(tokens(t)[0] for t in range(3))
    assert s["completion_tokens"] == sum(tokens(t)[1] for t in range(3))
    assert s["code"] == stub[2]["code"] and s["prompt"] == stub[2]["messages"]
    assert s["static_errors"] == stub[2]["static_errors"] >= 1
    assert {r["sample_id"] for r in stub} == {s["id"]}
    s = samples[("fixer", "zeroshot+repair:2", broken_task.id)]
    assert s["code"] == fix[1]["code"] and s["static_errors"] == 0
    assert s["prompt_tokens"] == tokens(0)[0] + tokens(1)[0]
    found = db_rows(db, "select code from findings where sample_id = ?", s["id"])
    assert "DL104" not in {f["code"] for f in found}

    # the whole conversation is in the cache key: a rerun into a new database asks nothing
    assert _bench(tmp_path / "again.db", server, tasks, *args) == 0
    assert len(server.log) == asked
    again = _rounds(tmp_path / "again.db")
    assert {k: len(v) for k, v in again.items()} == {k: len(v) for k, v in rounds.items()}


def test_prompting_spellings_are_checked_and_stored_canonically(tmp_path, capsys):
    db = tmp_path / "b.db"
    assert main(["bench", "--db", str(db), "--prompting", "fewshot+repair:0"]) == 2
    assert "whole number from 1 to 10" in capsys.readouterr().err
    assert main(["bench", "--db", str(db), "--prompting", "fewshot+retry"]) == 2
    assert "unknown prompting 'fewshot+retry'" in capsys.readouterr().err
    task = SUITE.get("img_avgpool_pointwise_mnist")
    broken = mutants(task, ["hallucinated_member"])[0].source
    replay = tmp_path / "r.jsonl"
    replay.write_text(json.dumps({"prompting": "oneshot", "task": task.id, "code": broken}))
    args = ["bench", "--db", str(db), "--model", f"replay:{replay}", "--task", task.id]
    args += ["--samples", "1", "-q", "--no-dynamic"]
    assert main([*args, "--prompting", "oneshot+repair"]) == 2
    assert "a replay cannot answer" in capsys.readouterr().err
    # replayed programs take the fixes-only repair; round 0 is the base method's program
    assert main([*args, "--prompting", "oneshot+repair-fixes:1"]) == 0
    rows = db_rows(db, "select prompting, round, kind, errors, prompt_tokens from rounds")
    assert [(r["prompting"], r["round"], r["kind"], r["errors"] > 0) for r in rows] == [
        ("oneshot+repair-fixes:1", 0, "answer", True),
        ("oneshot+repair-fixes:1", 1, "fixes", False),
    ]
    (sample,) = db_rows(db, "select static_errors, prompt_tokens from samples")
    assert sample == {"static_errors": 0, "prompt_tokens": None}


def test_a_shape_error_is_repaired_and_the_report_counts_it_by_round(tmp_path, capsys, request):
    """`Linear(800, …)` where 784 features arrive: a shape error the dynamic pass finds, with a
    verified fix. The fixer builds in round 1, the stubborn model never does (3 rounds), and
    the fixes-only rounds build in round 1 without a token; the report says so by round."""
    task = SUITE.tasks[0]
    mutant = mutants(task, ["linear_in_features"])[0]
    server = FakeOpenAI(RepairScript([task], {task.id: mutant.source}), by_request=True)
    server.__enter__()
    request.addfinalizer(server.__exit__)
    db = tmp_path / "b.db"
    assert _bench(db, server, [task], "repair,zeroshot+repair-fixes", "--no-cache") == 0
    capsys.readouterr()
    rounds, samples = _rounds(db), _samples(db)
    fix = rounds[("fixer", "zeroshot+repair:2", task.id)]
    assert [(r["executable"], r["failure_dl_error"]) for r in fix] == [
        (0, "Input Tensor Shape Mismatch"),
        (1, None),
    ]
    feedback = json.loads(fix[1]["messages"])[-1]["content"]
    assert "DL301" in feedback and "verified" in feedback
    assert "with `nn.Linear(784," in feedback
    stub = rounds[("stubborn", "zeroshot+repair:2", task.id)]
    assert [r["executable"] for r in stub] == [0, 0, 0]
    for model in ("fixer", "stubborn"):
        fixes = rounds[(model, "zeroshot+repair-fixes:2", task.id)]
        assert [(r["kind"], r["executable"], r["prompt_tokens"]) for r in fixes] == [
            ("answer", 0, tokens(0)[0]),
            ("fixes", 1, 0),
        ]
    built = {k[:2]: s["first_built_round"] for k, s in samples.items()}
    assert built == {
        ("fixer", "zeroshot+repair:2"): 1,
        ("stubborn", "zeroshot+repair:2"): None,
        ("fixer", "zeroshot+repair-fixes:2"): 1,
        ("stubborn", "zeroshot+repair-fixes:2"): 1,
    }
    assert samples[("fixer", "zeroshot+repair:2", task.id)]["executable"] == 1
    assert samples[("stubborn", "zeroshot+repair:2", task.id)]["executable"] == 0

    assert main(["report", "--db", str(db), "--format", "json"]) == 0
    repair = {
        (e["model"], e["prompting"]): e for e in json.loads(capsys.readouterr().out)["repair"]
    }
    exec_by_round = {k: [r["executability_rate"] for r in e["by_round"]] for k, e in repair.items()}
    assert exec_by_round == {
        ("fixer", "zeroshot+repair:2"): [0.0, 100.0, 100.0],
        ("fixer", "zeroshot+repair-fixes:2"): [0.0, 100.0, 100.0],
        ("stubborn", "zeroshot+repair:2"): [0.0, 0.0, 0.0],
        ("stubborn", "zeroshot+repair-fixes:2"): [0.0, 100.0, 100.0],
    }
    e = repair[("fixer", "zeroshot+repair:2")]
    assert (e["base_prompting"], e["method"], e["fixed"], e["first_built"]) == (
        "zeroshot",
        "repair",
        1,
        {"1": 1},
    )
    assert e["repair_tokens"] == e["tokens_per_fixed"] == sum(tokens(1))
    assert e["taxonomy_before"] == {"Input Tensor Shape Mismatch": 1}
    assert e["taxonomy_after"] == {}
    e = repair[("stubborn", "zeroshot+repair:2")]
    assert (e["fixed"], e["tokens_per_fixed"]) == (0, None)
    assert e["repair_tokens"] == sum(tokens(1)) + sum(tokens(2))
    assert e["taxonomy_after"] == {"Input Tensor Shape Mismatch": 1}
    e = repair[("stubborn", "zeroshot+repair-fixes:2")]
    assert (e["fixed"], e["repair_tokens"], e["tokens_per_fixed"]) == (1, 0, 0.0)

    assert main(["report", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "repair: programs after each round" in text
    assert "Input Tensor Shape Mismatch" in text
    out = tmp_path / "r.html"
    assert main(["report", "--db", str(db), "--format", "html", "--out", str(out)]) == 0
    html = out.read_text()
    assert "Executability by repair round" in html and html.count("<polyline") == 4
    assert main(["report", "--db", str(db), "--format", "csv"]) == 0
    assert "fixer,zeroshot+repair:2,zeroshot,1," in capsys.readouterr().out
