"""``template:<name>`` — a prompt template: the workspace's override file, else the built-in text."""

from __future__ import annotations

from .. import prompts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from promptgen.engine.spec import JSON

    from ..values import TemplateValue


def compute_template(param: JSON, values: list[JSON]) -> TemplateValue:
    return prompts.template_value(param["name"], param["path"], values[0])
