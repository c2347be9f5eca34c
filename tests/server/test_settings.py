"""Settings: one parser, bad values keep their defaults and are named in one-line problems."""

from __future__ import annotations

from deepeval_lsp.server.settings import Settings, parse_settings


def test_defaults_and_a_full_valid_section():
    assert parse_settings(None) == (Settings(), [])
    s, problems = parse_settings(
        {
            "dynamicChecks": False,
            "debounceMs": 120,
            "timeoutMs": 2000,
            "inputShape": "1x3x32x32",
            "framework": "keras",
            "pythonPath": "/usr/bin/python3",
        }
    )
    assert problems == []
    assert s == Settings(False, 120, 2000, (1, 3, 32, 32), "keras")
    assert parse_settings({"inputShape": [1, 10]})[0].input_shape == (1, 10)
    assert parse_settings({"inputShape": "(2, 4)"})[0].input_shape == (2, 4)
    assert parse_settings({"inputShape": None})[0].input_shape is None


def test_bad_values_keep_defaults_with_one_line_each():
    s, problems = parse_settings(
        {
            "dynamicChecks": "yes",
            "debounceMs": -1,
            "timeoutMs": 1.5,
            "inputShape": "a,b",
            "framework": "jax",
            "colour": "red",
        }
    )
    assert s == Settings()
    assert len(problems) == 6
    assert all("\n" not in p and p.startswith("deepeval.") for p in problems)
    joined = " ".join(problems)
    for key in ("dynamicChecks", "debounceMs", "timeoutMs", "inputShape", "framework", "colour"):
        assert f"deepeval.{key}" in joined
    assert parse_settings({"debounceMs": True})[1]  # a bool is not a number here
    assert parse_settings({"inputShape": [0, 3]})[1]
    assert parse_settings(["not", "an", "object"])[1]


def test_check_options_follow_the_settings():
    s = Settings(dynamic_checks=False, timeout_ms=1234, input_shape=(1, 4), framework="torch")
    o = s.check_options(root="/w")
    assert (o.dynamic, o.timeout_ms, o.input_shape, o.framework, o.workspace_root) == (
        False,
        1234,
        (1, 4),
        "torch",
        "/w",
    )
    assert s.check_options(dynamic=True).dynamic is True
