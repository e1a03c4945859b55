"""``parallel:<D>`` — the dependencies declared in plan folder ``D``'s ``parallel.json``.

The first of the accepted file names that exists is read (the inventory picks
it); it applies to every plan in ``D``. Validation against the PLAN's
achievements is the state's business: this node only parses.
"""

from __future__ import annotations

from ..parallel import parse_parallel
from . import files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from promptgen.engine.spec import JSON

    from ..values import ParallelValue


def compute_parallel(param: JSON, values: list[JSON]) -> Optional[ParallelValue]:
    path = param["path"]
    if path is None:
        return None
    text = files.text(values[0])
    if text is None:
        return {"path": path, "parsed": None, "error": files.error(values[0])}
    return {"path": path, "parsed": parse_parallel(text), "error": None}
