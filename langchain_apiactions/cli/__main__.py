"""`python -m langchain_apiactions.cli`: the `apiactions` command."""

from langchain_apiactions.cli import main

raise SystemExit(main())
