"""The study-compatible reading's rules about output names, aliases and loops (docs/semantic.md).

Each rule was kept because it moved tasks of the study's published per-task scores to an exact
match (perf/semantic_study.py); these tests pin what each one does to a small program.
"""

from __future__ import annotations

import textwrap

import pytest
from deepeval_lsp.diagnostics.semantic.api_graph import ExtractionError, extract
from deepeval_lsp.diagnostics.semantic.rules import OUR_RULES
from deepeval_lsp.diagnostics.semantic.similarity import compare, run_semantic, study_task_scores
from deepeval_lsp.diagnostics.semantic.study_rules import STUDY_RULES, STUDY_UNNAMED
from deepeval_lsp.diagnostics.text import parse_python

REFERENCE = textwrap.dedent(
    """
    from keras.models import Model
    from keras.layers import Input, Conv2D, Flatten, Dense

    def dl_model():
        input_layer = Input(shape=(28, 28, 1))
        conv = Conv2D(32, (3, 3), activation='relu')(input_layer)
        flatten = Flatten()(conv)
        output_layer = Dense(units=10, activation='softmax')(flatten)
        model = Model(inputs=input_layer, outputs=output_layer)
        return model
    """
)


def _variant(*edits: tuple[str, str]) -> str:
    source = REFERENCE
    for old, new in edits:
        assert old in source
        source = source.replace(old, new)
    return source


def test_keras_model_with_an_unexpected_output_name_loses_its_sequences() -> None:
    renamed = _variant(
        ("from keras.models import Model", "import keras"),
        ("output_layer = Dense", "dense2 = Dense"),
        (
            "model = Model(inputs=input_layer, outputs=output_layer)",
            "model = keras.Model(inputs=input_layer, outputs=dense2)",
        ),
    )
    ex = extract(renamed, rules=STUDY_RULES)
    assert ex.sequences == [] and "output" in (ex.sequence_error or "")
    scores = compare(REFERENCE, renamed, rules=STUDY_RULES).scores
    assert scores["api_set_f1"] == pytest.approx(100.0)
    assert scores["api_seq_f1"] == 0.0
    # Named as the study expected, keras.Model(...) reads like Model(...).
    for name in ("output_layer", "outputs", "output"):
        src = renamed.replace("dense2", name)
        assert compare(REFERENCE, src, rules=STUDY_RULES).scores["api_seq_f1"] == 100.0
    # The default reading does not care about names.
    assert extract(renamed).sequences == [("Input", "Conv2D", "Flatten", "Dense")]


def test_bare_model_with_an_unexpected_output_name_adds_an_unnamed_set_entry() -> None:
    renamed = _variant(("output_layer", "fc2"))
    ex = extract(renamed, rules=STUDY_RULES)
    assert ex.apis == ["Input", "Conv2D", "Flatten", "Dense", STUDY_UNNAMED]
    scores = compare(REFERENCE, renamed, rules=STUDY_RULES).scores
    assert scores["api_set_precision"] == pytest.approx(80.0)  # 4 of 5 entries in the reference
    assert scores["api_set_recall"] == pytest.approx(100.0)
    assert scores["api_seq_f1"] == pytest.approx(100.0)  # the sequences are not affected
    assert STUDY_UNNAMED not in extract(renamed).apis


def test_an_alias_adds_one_unnamed_set_entry_on_either_side() -> None:
    aliased = _variant(
        (
            "flatten = Flatten()(conv)",
            "main_path = conv\n    alias = main_path\n    flatten = Flatten()(alias)",
        ),
    )
    ex = extract(aliased, rules=STUDY_RULES)
    assert ex.apis.count(STUDY_UNNAMED) == 1  # once, however many aliases
    scores = compare(REFERENCE, aliased, rules=STUDY_RULES).scores
    assert scores["api_set_precision"] == pytest.approx(80.0)
    assert scores["api_seq_f1"] == pytest.approx(100.0)
    # A reference with an alias has the entry too: a candidate without one misses it ...
    back = compare(aliased, REFERENCE, rules=STUDY_RULES).scores
    assert back["api_set_recall"] == pytest.approx(80.0)
    # ... and the reference is still 100% similar to itself.
    assert compare(aliased, aliased, rules=STUDY_RULES).scores["api_set_f1"] == 100.0


def test_the_unnamed_entry_is_no_diagnostic() -> None:
    aliased = _variant(("flatten = Flatten()(conv)", "x = conv\n    flatten = Flatten()(x)"))
    report, diagnostics = run_semantic(aliased, "a.py", REFERENCE, rules=STUDY_RULES)
    assert STUDY_UNNAMED in report["extra_apis"]
    assert not any(STUDY_UNNAMED in d.message for d in diagnostics)


def test_a_repetition_loop_is_read_and_other_loops_fail() -> None:
    repeated = _variant(
        (
            "conv = Conv2D(32, (3, 3), activation='relu')(input_layer)",
            "conv = input_layer\n    for _ in range(2):\n"
            "        conv = Conv2D(32, (3, 3), activation='relu')(conv)",
        ),
    )
    ex = extract(repeated, rules=STUDY_RULES)
    assert ex.sequences == [("Input", "Conv2D", "Conv2D", "Flatten", "Dense")]
    # The loop variable used in the body: the study's extractor could not read it.
    with pytest.raises(ExtractionError, match="loop"):
        extract(repeated.replace("Conv2D(32,", "Conv2D(32 * (_ + 1),"), rules=STUDY_RULES)
    # Not a constant range: likewise.
    with pytest.raises(ExtractionError, match="loop"):
        extract(repeated.replace("range(2)", "[1, 2]"), rules=STUDY_RULES)
    # A loop that calls nothing (freezing a base model's layers) does not matter.
    frozen = _variant(
        (
            "    model = Model(",
            "    for layer in []:\n        layer.trainable = False\n    model = Model(",
        ),
    )
    assert extract(frozen, rules=STUDY_RULES).sequences


def test_a_layer_output_that_does_not_reach_the_model_output_keeps_the_sequences() -> None:
    dangling = _variant(
        ("flatten = Flatten()(conv)", "unused = Dense(5)(conv)\n    flatten = Flatten()(conv)"),
    )
    ex = extract(dangling, rules=STUDY_RULES)
    assert ex.sequences == [("Input", "Conv2D", "Flatten", "Dense")]


def test_a_helper_called_with_positional_and_keyword_arguments_fails() -> None:
    helper = _variant(
        (
            "    conv = Conv2D(32, (3, 3), activation='relu')(input_layer)",
            "    def block(input_tensor, filters):\n"
            "        x = Conv2D(filters, (3, 3), activation='relu')(input_tensor)\n"
            "        return x\n\n"
            "    conv = block(input_layer, filters=32)",
        ),
    )
    with pytest.raises(ExtractionError, match="positional and keyword"):
        extract(helper, rules=STUDY_RULES)
    assert extract(helper).sequences  # the default reading binds both
    # All by keyword (as the study's references call their blocks), or all by position: read.
    for call in ("block(input_tensor=input_layer, filters=32)", "block(input_layer, 32)"):
        src = helper.replace("block(input_layer, filters=32)", call)
        assert compare(REFERENCE, src, rules=STUDY_RULES).scores["api_seq_f1"] == 100.0


def test_an_api_called_on_another_api_calls_result_fails() -> None:
    with_data = _variant(
        (
            "    input_layer = Input(",
            "    (x_train, y_train), (x_test, y_test) = mnist.load_data()\n"
            "    y_train = to_categorical(y_train, 10)\n"
            "    input_layer = Input(",
        ),
    )
    with pytest.raises(ExtractionError, match="result of another API call"):
        extract(with_data, rules=STUDY_RULES)
    assert extract(with_data).sequences
    # Loading the data alone (e.g. to read the input shape) is no such call.
    loaded = with_data.replace("    y_train = to_categorical(y_train, 10)\n", "")
    assert compare(REFERENCE, loaded, rules=STUDY_RULES).scores["api_seq_f1"] == 100.0


def test_an_operator_cuts_only_the_paths_through_it() -> None:
    # A branch joined through an operator: the study read the paths around it.
    branched = _variant(
        ("from keras.layers import Input, Conv2D, Flatten, Dense", "from keras.layers import *"),
        (
            "    flatten = Flatten()(conv)",
            "    pooled = GlobalAveragePooling2D()(input_layer)\n"
            "    weighted = input_layer * pooled\n"
            "    added = Add()([conv, weighted])\n"
            "    flatten = Flatten()(added)",
        ),
    )
    ex = extract(branched, rules=STUDY_RULES)
    assert ex.sequences == [("Input", "Conv2D", "Add", "Flatten", "Dense")]
    assert ex.sequence_error is None
    assert "GlobalAveragePooling2D" in ex.apis
    # The default reading follows the operator.
    assert ("Input", "GlobalAveragePooling2D", "Add", "Flatten", "Dense") in extract(
        branched
    ).sequences
    # An operator on every path to the output leaves no sequence; the API set is still read.
    scaled = _variant(("flatten = Flatten()(conv)", "flatten = Flatten()(conv * 2.0)"))
    ex = extract(scaled, rules=STUDY_RULES)
    assert ex.sequences == [] and "operator" in (ex.sequence_error or "")
    assert compare(REFERENCE, scaled, rules=STUDY_RULES).scores["api_set_f1"] == 100.0


def test_a_helper_returning_several_tensors_by_name() -> None:
    helper = _variant(
        (
            "    conv = Conv2D(32, (3, 3), activation='relu')(input_layer)",
            "    def block(input_tensor):\n"
            "        a = Conv2D(32, (3, 3), activation='relu')(input_tensor)\n"
            "        b = Conv2D(32, (3, 3), activation='relu')(input_tensor)\n"
            "        return [a, b]\n\n"
            "    outs = block(input_layer)\n"
            "    conv = outs[0]",
        ),
    )
    # A list of names was read, with the unnamed set entry an alias gives.
    ex = extract(helper, rules=STUDY_RULES)
    assert ex.sequences == [("Input", "Conv2D", "Flatten", "Dense")]
    assert STUDY_UNNAMED in ex.apis
    # A tuple of names lost the sequences; the API set is still read.
    as_tuple = helper.replace("return [a, b]", "return a, b")
    ex = extract(as_tuple, rules=STUDY_RULES)
    assert ex.sequences == [] and "tuple" in (ex.sequence_error or "")
    assert compare(REFERENCE, as_tuple, rules=STUDY_RULES).scores["api_set_f1"] == 100.0
    # Any other expression returned still fails the sample.
    with pytest.raises(ExtractionError, match="returning an expression"):
        extract(helper.replace("return [a, b]", "return [a, b + 1]"), rules=STUDY_RULES)
    assert STUDY_UNNAMED not in extract(helper).apis  # the default reading has no such entry


def test_the_first_tensor_named_as_an_output_is_the_output() -> None:
    early = _variant(
        ("conv = Conv2D", "output = Conv2D"),
        ("Flatten()(conv)", "Flatten()(output)"),
    )
    # `output` names the convolution before output_layer names the Dense: the study's paths
    # end at the convolution, whatever Model(...) is given.
    ex = extract(early, rules=STUDY_RULES)
    assert ex.sequences == [("Input", "Conv2D")]
    assert ex.apis == ["Input", "Conv2D", "Flatten", "Dense"]
    assert extract(early).sequences == [("Input", "Conv2D", "Flatten", "Dense")]
    # Named first by a helper, the tensor is not the output.
    in_helper = _variant(
        (
            "    conv = Conv2D(32, (3, 3), activation='relu')(input_layer)",
            "    def block(input_tensor):\n"
            "        output = Conv2D(32, (3, 3), activation='relu')(input_tensor)\n"
            "        return output\n\n"
            "    conv = block(input_layer)",
        ),
    )
    assert extract(in_helper, rules=STUDY_RULES).sequences == [
        ("Input", "Conv2D", "Flatten", "Dense")
    ]


def test_a_program_without_functions_is_left_out_of_the_task_mean() -> None:
    body = REFERENCE.split("def dl_model():\n", 1)[1]
    module_level = textwrap.dedent(REFERENCE.split("def dl_model():\n", 1)[0]) + textwrap.dedent(
        body.replace("    return model\n", "")
    )
    assert "def " not in module_level
    assert STUDY_RULES.left_out(parse_python(module_level))
    assert STUDY_RULES.left_out(parse_python(REFERENCE)) is None
    # Left out like an empty file: the task's mean is the other sample's, not half of it.
    wrong = _variant(("Conv2D(32", "Dense(32"))
    alone = study_task_scores(REFERENCE, [wrong])
    assert study_task_scores(REFERENCE, [wrong, module_level]) == pytest.approx(alone)
    # A program with a function but no dl_model() still counts, as 0 where nothing is read.
    with_helper = module_level.replace(
        "input_layer = Input", "def unused():\n    pass\n\ninput_layer = Input"
    )
    assert STUDY_RULES.left_out(parse_python(with_helper)) is None
    # The default reading scores the module-level model.
    assert study_task_scores(REFERENCE, [module_level], rules=OUR_RULES)["api_set_f1"] == 100.0


@pytest.mark.parametrize("call", ["model.fit(x, y)", "model.evaluate(x, y)", "model.predict(x)"])
def test_a_dl_model_that_trains_is_left_out_of_the_task_mean(call: str) -> None:
    trains = _variant(("    return model", f"    {call}\n    return model"))
    assert STUDY_RULES.left_out(parse_python(trains))
    wrong = _variant(("Conv2D(32", "Dense(32"))
    alone = study_task_scores(REFERENCE, [wrong])
    assert study_task_scores(REFERENCE, [wrong, trains]) == pytest.approx(alone)
    # Its structure still reads in a single-file comparison.
    assert compare(REFERENCE, trains, rules=STUDY_RULES).scores["api_seq_f1"] == 100.0


def test_training_outside_dl_model_or_with_fit_generator_counts() -> None:
    at_module_level = REFERENCE + "\nmodel = dl_model()\nmodel.fit(x, y)\n"
    generator = _variant(("    return model", "    model.fit_generator(gen)\n    return model"))
    for source in (at_module_level, generator):
        assert STUDY_RULES.left_out(parse_python(source)) is None
        assert study_task_scores(REFERENCE, [source])["api_set_f1"] == 100.0


BRANCHES = textwrap.dedent(
    """
    from keras.models import Model
    from keras.layers import Input, Conv2D, Concatenate, Flatten, Dense

    def dl_model():
        input_layer = Input(shape=(28, 28, 1))
        path3 = Conv2D(16, (1, 1))(input_layer)
        path3_1 = Conv2D(16, (3, 3))(path3)
        path3_2 = Conv2D(16, (5, 5))(path3)
        path3 = Concatenate()([path3_1, path3_2])
        flatten = Flatten()(path3)
        output_layer = Dense(units=10, activation='softmax')(flatten)
        model = Model(inputs=input_layer, outputs=output_layer)
        return model
    """
)


def test_a_renamed_reassignment_reading_its_new_name_fails() -> None:
    # The second `path3` becomes `path3_1`, the name the Concatenate reads: the study failed.
    with pytest.raises(ExtractionError, match="renamed"):
        extract(BRANCHES, rules=STUDY_RULES)
    assert extract(BRANCHES).sequences  # the default reading has no renaming
    # The same clash without the self-reference reads: path3_1 is reassigned itself, so the
    # Concatenate reads `path3_1_1`.
    no_loop = BRANCHES.replace(
        "    path3_2 = Conv2D(16, (5, 5))(path3)\n",
        "    path3_1 = Conv2D(16, (1, 1))(path3_1)\n    path3_2 = Conv2D(16, (5, 5))(path3)\n",
    )
    ex = extract(no_loop, rules=STUDY_RULES)
    assert ("Input", "Conv2D", "Conv2D", "Conv2D", "Concatenate", "Flatten", "Dense") in (
        ex.sequences
    )
    # Without a clash nothing is renamed onto an existing name.
    plain = BRANCHES.replace("path3_1", "left").replace("path3_2", "right")
    assert extract(plain, rules=STUDY_RULES).sequences


HELPER_X = textwrap.dedent(
    """
    from keras.models import Model
    from keras.layers import Input, Conv2D, Add, Flatten, Dense

    def dl_model():
        input_layer = Input(shape=(28, 28, 1))

        def block(x):
            x = Conv2D(16, (3, 3), padding='same')(x)
            return x

        main = block(input_layer)
        branch = Conv2D(16, (1, 1))(input_layer)
        added = Add()([main, branch])
        flatten = Flatten()(added)
        output_layer = Dense(units=10, activation='softmax')(flatten)
        model = Model(inputs=input_layer, outputs=output_layer)
        return model
    """
)


def test_a_helper_parameter_named_x_cuts_the_paths_through_the_helper() -> None:
    ex = extract(HELPER_X, rules=STUDY_RULES)
    # The path through block() is lost; the branch's path is read, the set is complete.
    # (Both paths spell the same sequence: it counts once per path.)
    assert ex.sequences == [("Input", "Conv2D", "Add", "Flatten", "Dense")]
    assert ex.counts == [1]
    assert ex.apis == ["Input", "Conv2D", "Add", "Flatten", "Dense"]
    assert extract(HELPER_X).counts == [2]
    # Another parameter name is read through.
    renamed = HELPER_X.replace("block(x)", "block(t)").replace("same')(x)", "same')(t)")
    assert extract(renamed, rules=STUDY_RULES).counts == [2]
    # Every path through the helper: the sequences are 0, the API set is still scored.
    only_helper = HELPER_X.replace("added = Add()([main, branch])", "added = Add()([main, main])")
    cut = extract(only_helper, rules=STUDY_RULES)
    assert cut.sequences == [] and "named x" in (cut.sequence_error or "")
    scores = compare(HELPER_X, only_helper, rules=STUDY_RULES).scores
    assert scores["api_set_f1"] == 100.0 and scores["api_seq_f1"] == 0.0


def test_an_inline_call_in_dl_model_cuts_and_one_in_a_list_or_helper_loses_the_sequences() -> None:
    inline = HELPER_X.replace("block(x)", "block(t)").replace("same')(x)", "same')(t)")
    inline = inline.replace(
        "flatten = Flatten()(added)", "flatten = Flatten()(Conv2D(8, (1, 1))(added))"
    )
    # Only the paths through the inline call's result are lost: here, every path.
    cut = extract(inline, rules=STUDY_RULES)
    assert cut.sequences == [] and "inline call" in (cut.sequence_error or "")
    # A path around the inline call is kept.
    around = inline.replace(
        "output_layer = Dense(units=10, activation='softmax')(flatten)",
        "flat_branch = Flatten()(branch)\n"
        "    both = Add()([flatten, flat_branch])\n"
        "    output_layer = Dense(units=10, activation='softmax')(both)",
    )
    assert extract(around, rules=STUDY_RULES).sequences == [
        ("Input", "Conv2D", "Flatten", "Add", "Dense")
    ]
    # An inline call inside a list, or in a helper, costs the sample its sequences.
    in_list = inline.replace("Flatten()(Conv2D(8, (1, 1))(added))", "Flatten()(added)").replace(
        "added = Add()([main, branch])", "added = Add()([main, Conv2D(16, (1, 1))(input_layer)])"
    )
    listed = extract(in_list, rules=STUDY_RULES)
    assert listed.sequences == [] and listed.apis
    in_helper = inline.replace("Flatten()(Conv2D(8, (1, 1))(added))", "Flatten()(added)").replace(
        "x = Conv2D(16, (3, 3), padding='same')(t)",
        "x = Conv2D(16, (3, 3), padding='same')(Conv2D(8, (1, 1))(t))",
    )
    assert extract(in_helper, rules=STUDY_RULES).sequences == []
    assert extract(inline).counts == [2]  # the default reading follows inline calls


RETURN_EXPR = textwrap.dedent(
    """
    from keras.models import Model
    from keras.layers import Input, Conv2D, Add, Flatten, Dense

    def dl_model():
        input_layer = Input(shape=(28, 28, 1))

        def block(input_tensor):
            conv1 = Conv2D(16, (3, 3), padding='same')(input_tensor)
            conv2 = Conv2D(16, (1, 1), padding='same')(conv1)
            shortcut = input_tensor
            return Add()([conv2, shortcut])

        merged = block(input_layer)
        flatten = Flatten()(merged)
        output_layer = Dense(units=10, activation='softmax')(flatten)
        model = Model(inputs=input_layer, outputs=output_layer)
        return model
    """
)


def test_a_helper_returning_a_layer_on_names_or_an_operator_returns_its_last_variable() -> None:
    ex = extract(RETURN_EXPR, rules=STUDY_RULES)
    # The helper returns `shortcut` (its last assignment): the input itself. The returned
    # Add is not read, and the returned layer call is an unnamed set entry.
    assert ex.sequences == [("Input", "Flatten", "Dense")]
    assert ex.apis == ["Input", "Conv2D", "Flatten", "Dense", STUDY_UNNAMED]
    last_conv = RETURN_EXPR.replace("        shortcut = input_tensor\n", "").replace(
        "[conv2, shortcut]", "[conv2, input_tensor]"
    )
    ex = extract(last_conv, rules=STUDY_RULES)
    assert ex.sequences == [("Input", "Conv2D", "Conv2D", "Flatten", "Dense")]
    # An operator on two names: the same reading, without the unnamed entry.
    operator = last_conv.replace(
        "return Add()([conv2, input_tensor])", "return conv2 + input_tensor"
    )
    ex = extract(operator, rules=STUDY_RULES)
    assert ex.sequences == [("Input", "Conv2D", "Conv2D", "Flatten", "Dense")]
    assert STUDY_UNNAMED not in ex.apis
    # Other returned expressions still fail the sample: a layer spelled as an attribute, a
    # layer applied to a name, and a helper without an assignment to return.
    failing = [
        RETURN_EXPR.replace("return Add()", "return keras.layers.Add()"),
        RETURN_EXPR.replace("return Add()([conv2, shortcut])", "return Add()(shortcut)"),
        RETURN_EXPR.replace(
            "        conv1 = Conv2D(16, (3, 3), padding='same')(input_tensor)\n"
            "        conv2 = Conv2D(16, (1, 1), padding='same')(conv1)\n"
            "        shortcut = input_tensor\n",
            "",
        ).replace("[conv2, shortcut]", "[input_tensor, input_tensor]"),
    ]
    for source in failing:
        assert source != RETURN_EXPR
        with pytest.raises(ExtractionError, match="returning an expression"):
            extract(source, rules=STUDY_RULES)
    # The default reading follows the returned expression.
    assert set(extract(RETURN_EXPR).sequences) == {
        ("Input", "Conv2D", "Conv2D", "Add", "Flatten", "Dense"),
        ("Input", "Add", "Flatten", "Dense"),
    }
