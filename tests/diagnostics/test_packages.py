"""The real third-party packages: reported as not checkable, stubbed by the dynamic pass."""

from __future__ import annotations

from deepeval_lsp.diagnostics.packages import REAL_PACKAGES, STUBBED_WHEN_MISSING


def test_tensorflow_is_real_but_not_stubbed():
    assert {"tensorflow", "tf_keras"} <= REAL_PACKAGES
    assert not {"tensorflow", "tf_keras"} & STUBBED_WHEN_MISSING
    assert STUBBED_WHEN_MISSING <= REAL_PACKAGES
    assert {"torchvision", "einops", "jaxtyping", "cv2"} <= STUBBED_WHEN_MISSING
