"""`python -m deepeval_lsp` runs the command line."""

from deepeval_lsp.cli import main

raise SystemExit(main())
