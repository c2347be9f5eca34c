"""Code extraction from chat answers shaped as models really answer."""

from __future__ import annotations

import ast

from deepeval_lsp.benchmark.extract import extract_code

PROGRAM = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc(x.flatten(1))


def dl_model():
    return Net()
"""


def test_one_python_fence_with_prose_around():
    answer = (
        f"Sure! Here is the model you asked for:\n\n```python\n{PROGRAM}```\n\n"
        "The model flattens the image and applies one linear layer."
    )
    assert extract_code(answer) == PROGRAM


def test_bare_fence_and_tilde_fence_and_odd_tags():
    assert extract_code(f"```\n{PROGRAM}```") == PROGRAM
    assert extract_code(f"~~~py\n{PROGRAM}~~~") == PROGRAM
    assert extract_code(f"```Python3\n{PROGRAM}```") == PROGRAM


def test_code_without_any_fence_is_taken_as_is():
    assert extract_code(PROGRAM) == PROGRAM


def test_code_in_prose_without_fences_drops_the_sentences():
    answer = f"Here is the code:\n{PROGRAM}\nThis model has one layer and ten outputs."
    got = extract_code(answer)
    assert got == PROGRAM
    ast.parse(got)


def test_imports_in_one_block_and_the_model_in_the_next_are_joined():
    answer = (
        "First the imports:\n```python\nimport torch\nimport torch.nn as nn\n```\n"
        "Then the model:\n```python\n" + PROGRAM.split("\n\n\n", 1)[1] + "```\n"
        "And to use it:\n```python\nmodel = dl_model()\nprint(model)\n```\n"
    )
    got = extract_code(answer)
    assert got.startswith("import torch\nimport torch.nn as nn")
    assert "def dl_model" in got
    assert "print(model)" not in got
    ast.parse(got)


def test_shell_and_output_blocks_are_left_out():
    answer = (
        "Install it:\n```bash\npip install torch\n```\n"
        f"```python\n{PROGRAM}```\nOutput:\n```text\nNet(...)\n```"
    )
    assert extract_code(answer) == PROGRAM


def test_the_block_with_the_entry_point_wins_over_a_longer_usage_example():
    usage = "\n".join(f"print({i})" for i in range(40))
    answer = f"```python\n{PROGRAM}```\nTry it:\n```python\n{usage}\n```"
    assert extract_code(answer) == PROGRAM


def test_keras_functional_answer():
    keras_prog = (
        "from tensorflow.keras.layers import Input, Dense\n"
        "from tensorflow.keras.models import Model\n\n"
        "def dl_model():\n    inp = Input(shape=(28, 28, 1))\n"
        "    out = Dense(10, activation='softmax')(inp)\n"
        "    return Model(inputs=inp, outputs=out)\n"
    )
    answer = (
        "To solve this, we will:\n1. Create an input layer.\n2. Add a dense layer.\n\n"
        f"```python\n{keras_prog}```\n"
    )
    assert extract_code(answer) == keras_prog


def test_unterminated_fence_of_a_truncated_answer():
    answer = f"```python\n{PROGRAM}"
    assert extract_code(answer) == PROGRAM


def test_answers_without_code_are_empty():
    assert extract_code("") == ""
    assert extract_code(None) == ""
    assert extract_code("I'm sorry, I cannot help with that.") == ""
    assert extract_code("```python\n\n```") == ""


def test_crlf_answers():
    answer = f"```python\r\n{PROGRAM.replace(chr(10), chr(13) + chr(10))}```\r\n"
    assert extract_code(answer) == PROGRAM


def test_a_notebook_answer_is_the_program_of_its_code_cells():
    from tests.diagnostics.notebooks import notebook_text

    imports, model_class, make = PROGRAM.split("\n\n\n")
    notebook = notebook_text(
        ("markdown", "# The model"),
        "%matplotlib inline\n" + imports,
        model_class,
        ("markdown", "Build it:"),
        make,
    )
    program = f"pass\n{imports}\n{model_class}\n{make}"
    assert extract_code(notebook) == program
    assert extract_code(f"Here is the notebook:\n\n```json\n{notebook}```\n\nRun all cells.") == (
        program
    )
    assert extract_code(f"The notebook:\n{notebook}\nSave it as model.ipynb.") == program
    ast.parse(program)


def test_json_that_is_no_notebook_is_not_a_program():
    assert extract_code('```json\n{"cells": 3}\n```') == ""
    assert extract_code('```json\n{"layers": [1, 2]}\n```\n```python\nx = 1\n```') == "x = 1\n"
