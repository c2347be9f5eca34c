"""A published program's text as the study's runs read it: the note dropped, and `dl_model()`
completed for the executability run where a program has none."""

from __future__ import annotations

import textwrap

from deepeval_lsp.benchmark.study.text import completed_for_run, study_source

MODULE_LEVEL = textwrap.dedent("""\
    import math
    from functools import reduce

    # the model, built at module level
    layers = [math.floor(2.5), 3]
    model = reduce(lambda a, b: a * b, layers)
    """)


def _run(source: str) -> object:
    namespace: dict[str, object] = {}
    exec(compile(source, "generated_code.py", "exec"), namespace)
    return namespace["dl_model"]()  # type: ignore[operator]


def test_a_module_level_model_becomes_the_body_of_dl_model_returning_it() -> None:
    done = completed_for_run(MODULE_LEVEL)
    assert done is not None
    assert done.startswith("import math\nfrom functools import reduce\n\ndef dl_model():\n")
    assert done.rstrip().endswith("    return model")
    assert _run(done) == 6


def test_a_return_outside_any_function_is_kept_as_the_functions_return() -> None:
    source = MODULE_LEVEL + "return [model]\n"
    try:
        compile(source, "generated_code.py", "exec")
    except SyntaxError as e:
        assert "outside function" in str(e)
    done = completed_for_run(source)
    assert done is not None and done.count("return") == 1
    assert _run(done) == [6]


def test_programs_that_need_or_allow_no_completion_are_left_alone() -> None:
    defined = "import math\n\ndef dl_model():\n    return math.pi\n"
    assigned = "import math\n\ndl_model = lambda: math.pi\n"
    imported = "from somewhere import dl_model\nx = 1\n"
    for source in (
        defined,
        assigned,
        imported,
        "import math\n",
        "",
        "def f(:\n  pass\n",
        "from m import a\n\t\tb = 1\n",
    ):
        assert completed_for_run(source) is None, source


def test_the_docstring_and_decorators_are_placed_as_python_needs_them() -> None:
    source = textwrap.dedent('''\
        """A model."""
        import functools

        @functools.lru_cache
        def width():
            return 4

        model = width() * 2
        ''')
    done = completed_for_run(source)
    assert done is not None
    assert done.startswith(
        '"""A model."""\nimport functools\n\ndef dl_model():\n'
        "    @functools.lru_cache\n    def width():\n"
    )
    assert _run(done) == 8


def test_a_program_indented_with_tabs_is_completed_with_tabs() -> None:
    source = "import math\nif True:\n\tmodel = math.e\n"
    done = completed_for_run(source)
    assert done is not None and "\n\tif True:\n\t\tmodel = math.e\n\treturn model" in done
    assert _run(done) == __import__("math").e


def test_the_note_in_published_programs_is_dropped_and_nothing_else() -> None:
    program = "import keras\n\ndef dl_model():\n    model = keras.Sequential()\n    return model\n"
    head, sep, rest = program.partition("def dl_model")
    for note in ("，增加dl_model 和 return model\n", " 和 return model\n"):
        assert study_source(head + note + sep + rest) == (program, True)
    assert study_source(program) == (program, False)
