"""One module per verb; each exposes ``run(ns) -> exit code``."""
