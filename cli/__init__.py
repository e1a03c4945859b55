"""The ``promptgen`` command: argument parsing, output, exit codes. Thin by design."""
