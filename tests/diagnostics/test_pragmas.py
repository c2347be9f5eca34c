"""`# deepeval:` comments: every key with its value's text."""

from __future__ import annotations

from deepeval_lsp.diagnostics.pragmas import parse_pragmas


def test_keys_on_one_line_and_a_bracketed_value_whole():
    assert parse_pragmas("#deepeval: input=(1, 3, 32, 32), task=img_lenet_mnist") == {
        "input": "(1, 3, 32, 32)",
        "task": "img_lenet_mnist",
    }


def test_a_trailing_comment_counts_and_the_first_value_wins():
    source = (
        "model = Net()  # deepeval: input=[(2, 16), (2, 16)]\n"
        "# deepeval : task=easy_task_1\n"
        "# deepeval: input=(9,)\n"
    )
    assert parse_pragmas(source) == {"input": "[(2, 16), (2, 16)]", "task": "easy_task_1"}


def test_an_unbracketed_shape_runs_to_the_end_of_the_line():
    assert parse_pragmas("# deepeval: input=1, 3, 32, 32\n") == {"input": "1, 3, 32, 32"}


def test_comments_that_are_not_pragmas_say_nothing():
    assert parse_pragmas("x = 1  # task=easy_task_1\n# deepeval:\n") == {}
