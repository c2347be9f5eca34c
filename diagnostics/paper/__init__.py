"""The paper-compatible engine: programs run as the DeepEval study ran them (Keras 2 semantics)."""
