"""The snapshot of the checker's own code: what counts as the program changing it."""

from __future__ import annotations

import warnings

from deepeval_lsp.diagnostics.dynamic.child import integrity, meta_patches


def test_a_warning_attributed_to_the_checker_is_no_change() -> None:
    # warnings.warn adds __warningregistry__ to the globals of the module it is attributed to
    ns = vars(meta_patches)
    ns.pop("__warningregistry__", None)
    before = integrity.snapshot()
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        exec("__import__('warnings').warn('shown')", ns)  # attributed to meta_patches
    assert "__warningregistry__" in ns
    assert integrity.changed(before) is None


def test_a_name_added_to_the_checker_is_a_change() -> None:
    ns = vars(meta_patches)
    before = integrity.snapshot()
    ns["_forged"] = True
    try:
        assert integrity.changed(before) == f"{meta_patches.__name__}._forged"
    finally:
        del ns["_forged"]
