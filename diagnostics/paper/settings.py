"""What the paper engine's pool is started with (its job, environment and limits), apart from
the engine itself: the checker's process reads these to describe the engine
(dynamic.engines.PAPER) without importing the engine's machinery.
"""

from __future__ import annotations

from deepeval_lsp.diagnostics.sandbox.limits import SandboxLimits

JOB = "deepeval_lsp.diagnostics.paper.engine:run_job"
# Set in the zygote's environment before TensorFlow is imported (TensorFlow reads them then).
ENV = {
    "TF_USE_LEGACY_KERAS": "1",  # tf.keras is tf-keras (Keras 2), not Keras 3
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "CUDA_VISIBLE_DEVICES": "",
    "OMP_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",  # programs that plot at import time draw into memory, headless
}
# More address space than the default engine's 4 GiB, measured: a forked child of a TensorFlow
# zygote maps 1.42 GiB before the program runs, and building a model whose weights take 1.5 GiB
# (a Dense layer on a flattened 224×224×64 feature map, as the study's machine built) peaks at
# 6.2 GiB (the initializers' temporaries: about three times the weights). 4 GiB turns that model
# into an out-of-memory failure the study did not have; 8 GiB admits it. RLIMIT_AS is the only
# memory bound (no cgroup): no more than that.
LIMITS = SandboxLimits(address_space_bytes=8 << 30)
