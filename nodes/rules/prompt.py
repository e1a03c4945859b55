"""``route:<plan_file>`` and ``prompt:<plan_file>`` — the plan's prompt, rendered.

The route is an expander that declares the prompt node with the one template
its state asks for, so a prompt reads exactly its state and that template:
editing one template override re-renders exactly the prompts that use it.
"""

from __future__ import annotations

from .. import prompts
from . import specs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from promptgen.engine.spec import JSON, NodeSpec

    from ..values import PromptValue


def compute_route(param: JSON, values: list[JSON]) -> list[NodeSpec]:
    state = values[0]
    return [specs.prompt(state["plan_file"], state["template"])]


def compute_prompt(param: JSON, values: list[JSON]) -> PromptValue:
    state, template = values
    return {"text": prompts.render(state, template), "template": template["name"], "source": template["source"]}
