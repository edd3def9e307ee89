"""PDF rendering of ballot papers from layouts in ``ballots/`` (RULES.md B1–B4)."""
