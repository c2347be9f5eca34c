"""deepeval-lsp: catch the mistakes LLMs make in deep-learning code, live, before anyone runs it."""

__version__ = "0.1.0"
