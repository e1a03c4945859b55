"""The status table, shared by ``status`` and ``watch`` (rich imported here only)."""

from __future__ import annotations

from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from promptgen.nodes.values import PlanReport


def progress(report: PlanReport) -> str:
    total = len(report["achievements"])
    done = sum(1 for a in report["achievements"] if a["state"] in ("approved", "skipped"))
    return f"{done}/{total}"


def status_table(reports: list[PlanReport], title: str) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("plan")
    table.add_column("progress", justify="right")
    table.add_column("current")
    table.add_column("state")
    table.add_column("also available")
    table.add_column("warnings", justify="right")
    for r in reports:
        cur = r.get("current")
        table.add_row(
            f"@{r['feature']}" + ("" if r["folder_name"] == r["feature"] else f"  ({r['folder_name']})"),
            progress(r),
            cur["number"] if cur else "—",
            cur["state"] if cur else r["plan_state"],
            ", ".join(r["available"]),
            str(len(r["warnings"])) if r["warnings"] else "",
        )
    return table
