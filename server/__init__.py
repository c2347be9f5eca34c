"""The pygls language server of deepeval-lsp."""
