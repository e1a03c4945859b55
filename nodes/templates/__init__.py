"""Built-in prompt templates, one per state (``<name>.md``).

Plain text with ``$placeholder`` / ``${placeholder}`` fields filled by
:func:`string.Template.safe_substitute` — a template can never run code. A
workspace overrides one by writing ``.promptgen/templates/<name>.md``. The
placeholders are listed in :mod:`promptgen.nodes.prompts`.
"""
