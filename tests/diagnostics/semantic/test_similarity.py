"""The semantic pass: API graphs, set and ROUGE-L scores, references, and check() integration."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics.pragmas import parse_task_pragma
from deepeval_lsp.diagnostics.semantic.api_graph import ExtractionError, extract
from deepeval_lsp.diagnostics.semantic.rules import OUR_RULES, Rules, canonical_api
from deepeval_lsp.diagnostics.semantic.similarity import (
    MEASURES,
    compare,
    lcs_length,
    rouge_l,
    sequence_scores,
    set_scores,
    study_task_scores,
)
from deepeval_lsp.diagnostics.semantic.study_rules import STUDY_RULES
from deepeval_lsp.diagnostics.tasks.suite import BUILTIN_SUITE, find_task
from hypothesis import given
from hypothesis import strategies as st

KERAS_BRANCHES = textwrap.dedent(
    """
    from keras.layers import Input, Conv2D, MaxPooling2D, Add, Flatten, Dense
    from keras.models import Model

    def dl_model():
        input_layer = Input(shape=(32, 32, 3))

        def block(input_tensor):
            x = Conv2D(16, 3, padding='same')(input_tensor)
            x = MaxPooling2D(2)(x)
            return x

        main = block(input_tensor=input_layer)
        branch = Conv2D(16, 1, strides=2)(input_layer)
        added = Add()([main, branch])
        flat = Flatten()(added)
        output_layer = Dense(10, activation='softmax')(flat)
        model = Model(inputs=input_layer, outputs=output_layer)
        return model
    """
)

TORCH_RESIDUAL = textwrap.dedent(
    """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, padding=1)
            self.bn = nn.BatchNorm2d(c)

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)) + x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, padding=1)
            self.blocks = nn.Sequential(Block(16), Block(16))
            self.head = nn.Linear(16, 10)

        def forward(self, x):
            x = self.stem(x)
            x = self.blocks(x)
            x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
            return self.head(x)
    """
)


def _lcs_dp(a: list[str], b: list[str]) -> int:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = (
                table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
            )
    return table[-1][-1]


@given(
    st.lists(st.sampled_from("ABCDE"), max_size=40),
    st.lists(st.sampled_from("ABCDE"), max_size=40),
)
def test_bit_parallel_lcs_equals_dynamic_programming(a: list[str], b: list[str]) -> None:
    assert lcs_length(a, b) == _lcs_dp(a, b)


def test_rouge_l_and_set_scores_on_hand_computed_examples() -> None:
    ref = ["Input", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    cand = ["Input", "Conv2D", "Flatten", "Dense", "Dense", "Dropout"]
    # LCS = Input Conv2D Flatten Dense (4): precision 4/6, recall 4/5.
    p, r, f = rouge_l(ref, cand)
    assert (p, r) == pytest.approx((4 / 6, 4 / 5))
    assert f == pytest.approx(2 * p * r / (p + r))
    # Sets: {Input Conv2D MaxPooling2D Flatten Dense} vs {… Dropout}: 4 shared.
    assert set_scores(ref, cand) == pytest.approx((4 / 5, 4 / 5, 4 / 5))
    assert set_scores(ref, []) == (0.0, 0.0, 0.0)


def test_sequence_matrix_takes_row_and_column_maxima() -> None:
    refs = [("A", "B", "C"), ("A", "D")]
    cands = [("A", "B", "C")]
    p, r, _ = sequence_scores(refs, cands)
    # Rows: ref1 best 1.0; ref2 vs cand: LCS 1 -> precision 1/3, recall 1/2.
    # Columns: cand best against ref1 -> 1.0 for both measures.
    assert p == pytest.approx(((1 + 1 / 3) / 2 + 1) / 2)
    assert r == pytest.approx(((1 + 1 / 2) / 2 + 1) / 2)


def test_sequence_counts_equal_repeating_the_sequences() -> None:
    refs = [("A", "B"), ("A", "C", "D")]
    cands = [("A", "B", "D"), ("C",)]
    weighted = sequence_scores(refs, cands, [3, 1], [1, 2])
    repeated = sequence_scores([refs[0]] * 3 + [refs[1]], [cands[0]] + [cands[1]] * 2)
    assert weighted == pytest.approx(repeated)


def test_keras_functional_paths_through_an_inlined_helper_and_a_branch() -> None:
    e = extract(KERAS_BRANCHES)
    assert sorted(e.sequences) == sorted(
        [
            ("Input", "Conv2D", "MaxPooling2D", "Add", "Flatten", "Dense"),
            ("Input", "Conv2D", "Add", "Flatten", "Dense"),
        ]
    )
    # Model and the helper are not APIs.
    assert e.apis == ["Input", "Conv2D", "MaxPooling2D", "Add", "Flatten", "Dense"]
    assert (
        e.model_line
        == KERAS_BRANCHES.splitlines().index(
            "    model = Model(inputs=input_layer, outputs=output_layer)"
        )
        + 1
    )


def test_parallel_branches_of_the_same_layers_count_as_several_paths() -> None:
    src = KERAS_BRANCHES.replace(
        "branch = Conv2D(16, 1, strides=2)(input_layer)", "branch = block(input_layer)"
    )
    e = extract(src)
    assert e.sequences == [("Input", "Conv2D", "MaxPooling2D", "Add", "Flatten", "Dense")]
    assert e.counts == [2]


def test_loops_over_range_are_unrolled() -> None:
    src = textwrap.dedent(
        """
        from keras import layers, Model
        def dl_model():
            x = inp = layers.Input((8,))
            for _ in range(3):
                x = layers.Dense(8)(x)
            return Model(inp, layers.Dense(2)(x))
        """
    )
    assert extract(src).sequences == [("Input", "Dense", "Dense", "Dense", "Dense")]


def test_pytorch_module_with_a_residual_add() -> None:
    e = extract(TORCH_RESIDUAL)
    # Through each block's convolution, or along its skip connection (relu follows the add).
    # Functional spellings count as their layer classes (F.relu is ReLU).
    one_block = [("Conv2d", "BatchNorm2d", "ReLU"), ("ReLU",)]
    expected = {
        ("Conv2d", *a, *b, "AdaptiveAvgPool2d", "Flatten", "Linear")
        for a in one_block
        for b in one_block
    }
    assert set(e.sequences) == expected
    assert set(e.apis) == {
        "Conv2d",
        "BatchNorm2d",
        "Linear",
        "ReLU",
        "AdaptiveAvgPool2d",
        "Flatten",
    }


def test_functional_and_layer_spellings_are_one_api() -> None:
    modules = TORCH_RESIDUAL.replace("F.relu(", "nn.ReLU()(").replace(
        "torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)", "nn.Flatten()(nn.AdaptiveAvgPool2d(1)(x))"
    )
    assert compare(TORCH_RESIDUAL, modules).scores["api_seq_f1"] == pytest.approx(100.0)
    keras_fn = KERAS_BRANCHES.replace("Add()([main, branch])", "add([main, branch])")
    assert compare(KERAS_BRANCHES, keras_fn).scores["api_set_f1"] == pytest.approx(100.0)
    assert canonical_api("relu") == "ReLU" and canonical_api("Conv2D") == "Conv2D"


def test_pytorch_sequential_at_module_level() -> None:
    src = (
        "import torch.nn as nn\n"
        "model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))\n"
    )
    assert extract(src).sequences == [("Linear", "ReLU", "Linear")]


def test_a_candidate_without_a_model_scores_zero_and_says_why() -> None:
    c = compare(KERAS_BRANCHES, "print('hello')\n")
    assert c.scores == dict.fromkeys(MEASURES, 0.0)
    assert c.error
    assert c.missing_apis == ["Input", "Conv2D", "MaxPooling2D", "Add", "Flatten", "Dense"]


def test_identical_programs_score_100_and_different_names_do_not_matter() -> None:
    renamed = KERAS_BRANCHES.replace("input_layer", "inp").replace("added", "z")
    c = compare(KERAS_BRANCHES, renamed)
    assert all(v == pytest.approx(100.0) for v in c.scores.values())
    assert c.missing_apis == c.extra_apis == c.missing_sequences == []


def test_study_compatible_mode_fails_where_the_study_did() -> None:
    sequential = "from keras.models import Sequential\nfrom keras.layers import Dense\n" + (
        "def dl_model():\n    m = Sequential()\n    m.add(Dense(10))\n    return m\n"
    )
    assert extract(sequential).sequences == [("Dense",)]
    with pytest.raises(ExtractionError):
        extract(sequential, rules=STUDY_RULES)
    operator = KERAS_BRANCHES.replace("added = Add()([main, branch])", "added = main + branch")
    assert extract(operator).sequences  # our reading follows operators
    compat = extract(operator, rules=STUDY_RULES)  # the study kept the API set only
    assert compat.sequences == [] and "operator" in (compat.sequence_error or "")
    assert compat.apis == ["Input", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    direct = KERAS_BRANCHES.replace("added = Add()([main, branch])", "added = add([main, branch])")
    assert extract(direct).sequences
    with pytest.raises(ExtractionError, match="API called directly"):
        extract(direct, rules=STUDY_RULES)


def test_study_task_scores_leave_out_empty_and_unparsable_samples() -> None:
    good = compare(KERAS_BRANCHES, KERAS_BRANCHES, rules=STUDY_RULES).scores
    scores = study_task_scores(KERAS_BRANCHES, [KERAS_BRANCHES, "", "def (:\n"])
    assert scores == pytest.approx(good)
    half = study_task_scores(KERAS_BRANCHES, [KERAS_BRANCHES, "def dl_model():\n    return 1\n"])
    assert half["api_set_f1"] == pytest.approx(50.0)
    assert study_task_scores(KERAS_BRANCHES, [""]) == dict.fromkeys(MEASURES, 0.0)


def test_task_pragma() -> None:
    assert parse_task_pragma("import torch\n# deepeval: task=easy_task_1\n") == "easy_task_1"
    assert parse_task_pragma("#deepeval: input=(1, 3, 32, 32), task=img_lenet_mnist") == (
        "img_lenet_mnist"
    )
    assert parse_task_pragma("x = 1  # task=easy_task_1\n") is None


def test_every_builtin_reference_is_100_percent_similar_to_itself() -> None:
    refs = sorted(BUILTIN_SUITE.glob("*/*.py"))
    assert len(refs) >= 100, f"{len(refs)} references under {BUILTIN_SUITE}"
    for path in refs:
        source = path.read_text(encoding="utf-8")
        scores = compare(source, source).scores
        assert scores == pytest.approx(dict.fromkeys(MEASURES, 100.0)), path.name


def test_check_reports_scores_and_places_diagnostics(tmp_path: Path) -> None:
    candidate = KERAS_BRANCHES.replace("x = MaxPooling2D(2)(x)", "x = Dropout(0.5)(x)").replace(
        "Add, Flatten", "Add, Dropout, Flatten"
    )
    report = check(
        candidate,
        "cand.py",
        CheckOptions(dynamic=False, reference_source=KERAS_BRANCHES),
    )
    assert report.passes["semantic"] == "ran"
    sem = report.semantic
    assert sem is not None
    assert sem["missing_apis"] == ["MaxPooling2D"]
    assert sem["extra_apis"] == ["Dropout"]
    assert sem["api_set_f1"] == pytest.approx(100 * 5 / 6, abs=0.01)
    lines = candidate.splitlines()
    by_code = {d.code: d for d in report.diagnostics if d.source_pass == "semantic"}
    assert lines[by_code["DL502"].range.start.line].strip() == "x = Dropout(0.5)(x)"
    assert "model = Model(" in lines[by_code["DL501"].range.start.line]
    assert by_code["DL501"].dl_error == "Missing Structure"


def test_check_without_a_reference_does_not_run_the_pass() -> None:
    report = check(KERAS_BRANCHES, "a.py", CheckOptions(dynamic=False))
    assert report.semantic is None
    assert report.passes["semantic"].startswith("not run")
    missing = check(
        "# deepeval: task=no_such_task\n" + KERAS_BRANCHES, "a.py", CheckOptions(dynamic=False)
    )
    assert missing.semantic is None
    assert "no task 'no_such_task'" in missing.passes["semantic"]


@pytest.mark.corpus
def test_check_finds_a_study_task_by_pragma(study_data: Path) -> None:
    suite = study_data / "DeepEval" / "benchmark" / "DeepEval"
    task = find_task("easy_task_1", suite)
    source, requirement = task.reference, task.requirement
    assert "MNIST" in requirement and requirement.startswith("Please assist me")
    report = check(
        "# deepeval: task=easy_task_1\n" + source,
        "a.py",
        CheckOptions(dynamic=False, suite=str(suite)),
    )
    assert report.semantic is not None and report.semantic["api_seq_f1"] == 100.0
    assert report.semantic["task"] == "easy_task_1"


@pytest.mark.corpus
@pytest.mark.parametrize("rules", [OUR_RULES, STUDY_RULES], ids=["ours", "study"])
def test_every_study_reference_is_100_percent_similar_to_itself(
    study_data: Path, rules: Rules
) -> None:
    refs = sorted((study_data / "DeepEval" / "benchmark" / "DeepEval").glob("*/*.py"))
    assert len(refs) == 100
    for path in refs:
        source = path.read_text(encoding="utf-8")
        scores = compare(source, source, rules=rules).scores
        assert scores == pytest.approx(dict.fromkeys(MEASURES, 100.0)), path.name


# Cells where the study-compatible extractor lands within the bar (3 points of the study's mean
# API-set F1 and API-sequence F1 over the 100 tasks); perf/semantic_study.py prints all 16.
CELLS_WITHIN_BAR = [
    ("codellama_7b_instruct_hf", "zeroshot"),
    ("codellama_7b_instruct_hf", "oneshot"),
    ("codellama_7b_instruct_hf", "oneshotcot"),
    ("codellama_7b_instruct_hf", "fewshot"),
    ("deepseek_coder_v2_lite_instruct", "oneshot"),
    ("deepseek_coder_v2_lite_instruct", "oneshotcot"),
    ("gpt_4o", "zeroshot"),
    ("gpt_4o", "oneshot"),
    ("gpt_4o", "oneshotcot"),
    ("gpt_4o", "fewshot"),
    ("deepseek_coder_v2_lite_instruct", "zeroshot"),
    ("deepseek_coder_v2_lite_instruct", "fewshot"),
    ("gemma_2_9b_it", "zeroshot"),
    ("gemma_2_9b_it", "oneshot"),
    ("gemma_2_9b_it", "oneshotcot"),
]


@pytest.mark.corpus
@pytest.mark.parametrize(("model", "prompting"), CELLS_WITHIN_BAR)
def test_study_cells_within_three_points(study_data: Path, model: str, prompting: str) -> None:
    suite = study_data / "DeepEval" / "benchmark" / "DeepEval"
    responses = study_data / "DeepEval" / "response" / "DeepEval" / model / prompting
    theirs: dict[str, dict[str, float]] = {}
    with (study_data / "paper_results" / "semantic_by_task.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if (row["model"], row["prompting"]) == (model, prompting) and row["task"] != "Average":
                theirs[row["task"]] = {k: float(row[k]) for k in MEASURES}
    ours = {k: 0.0 for k in ("api_set_f1", "api_seq_f1")}
    for task in theirs:
        level = task.split("_")[0].capitalize()
        samples = sorted((responses / task).glob("generated_code_*.py"))
        scores = study_task_scores(
            (suite / level / f"{task}.py").read_text(encoding="utf-8"),
            [p.read_text(encoding="utf-8", errors="replace") for p in samples],
        )
        for k in ours:
            ours[k] += scores[k] / len(theirs)
    for k in ours:
        study_mean = sum(t[k] for t in theirs.values()) / len(theirs)
        assert abs(ours[k] - study_mean) <= 3.0, (k, ours[k], study_mean)


@pytest.mark.parametrize(
    "source",
    [
        "def dl_model():\n    return dl_model()\n",  # unbounded recursion
        "def dl_model():\n    x = Input((1,))\n    while True:\n        x = Dense(1)(x)\n",
        "def dl_model():\n"
        "    x = Input((1,))\n"
        "    for i in range(10**9):\n"
        "        for j in range(10**9):\n"
        "            x = Dense(1)(x)\n"
        "    return Model(x, x)\n",
        "x = " + "(" * 150 + "1" + ")" * 150 + "\n",
        "def dl_model():\n    x = Input((1,))\n"
        + "".join("    x = Add()([Dense(1)(x), x])\n" for _ in range(60))
        + "    return Model(x, x)\n",  # 2^60 paths
        "class M(nn.Module):\n    def forward(self, x):\n        return self(x)\n",
    ],
)
def test_pathological_programs_end_quickly_without_crashing(source: str) -> None:
    # Whatever the candidate does, it is scored (0 when unreadable) and never raises.
    c = compare(KERAS_BRANCHES, source)
    assert set(c.scores) == set(MEASURES)
