"""``--timings``: where the time of a build went (rich tables, imported here only)."""

from __future__ import annotations

from typing import Any

from .output import console

TOP = 15


def kind_rows(decisions: list[Any]) -> list[dict[str, Any]]:
    """Per node kind: counts by outcome, total and slowest wall time (slowest kind first)."""
    kinds: dict[str, dict[str, Any]] = {}
    for d in decisions:
        k = kinds.setdefault(d.kind, {"kind": d.kind, "nodes": 0, "ran": 0, "reused": 0, "cut_off": 0,
                                      "total_s": 0.0, "slowest": None, "slowest_s": 0.0})
        k["nodes"] += 1
        k[d.status] += 1
        k["total_s"] += d.wall_s
        if d.wall_s > k["slowest_s"]:
            k["slowest"], k["slowest_s"] = d.key, d.wall_s
    return sorted(kinds.values(), key=lambda k: -k["total_s"])


def timings_json(result: Any) -> dict[str, Any]:
    """The same figures as :func:`print_timings`, for ``build --json --timings``."""
    from promptgen.engine.graph import critical_path

    kinds = [{**k, "total_s": round(k["total_s"], 6), "slowest_s": round(k["slowest_s"], 6)}
             for k in kind_rows(result.decisions)]
    ran = sorted((d for d in result.decisions if d.wall_s > 0), key=lambda d: -d.wall_s)[:TOP]
    wall = {d.key: d.wall_s for d in result.decisions}
    path, total = critical_path(result.specs, wall)
    return {
        "kinds": kinds,
        "slowest": [{"node": d.key, "kind": d.kind, "status": d.status, "wall_s": round(d.wall_s, 6)} for d in ran],
        "critical_path": {"nodes": list(path), "rule_s": round(total, 6)},
    }


def print_timings(result: Any) -> None:
    from promptgen.engine.graph import critical_path
    from rich.table import Table

    out = console()
    t = Table(title="time by node kind (slowest first)", title_justify="left")
    for col, just in (("kind", "left"), ("nodes", "right"), ("recomputed", "right"), ("cut off", "right"),
                      ("reused", "right"), ("total ms", "right"), ("slowest node", "left")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for k in kind_rows(result.decisions):
        t.add_row(k["kind"], str(k["nodes"]), str(k["ran"] + k["cut_off"]), str(k["cut_off"]), str(k["reused"]),
                  f"{k['total_s'] * 1000:.2f}", k["slowest"] or "")
    out.print(t)

    ran = sorted((d for d in result.decisions if d.wall_s > 0), key=lambda d: -d.wall_s)[:TOP]
    t = Table(title=f"slowest nodes (top {TOP})", title_justify="left")
    for col, just in (("node", "left"), ("kind", "left"), ("outcome", "left"), ("ms", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for d in ran:
        t.add_row(d.key, d.kind, d.status, f"{d.wall_s * 1000:.3f}")
    out.print(t)

    wall = {d.key: d.wall_s for d in result.decisions}
    path, total = critical_path(result.specs, wall)
    if not path or total <= 0:
        out.print("critical path: nothing was recomputed")
        return
    out.print(f"critical path ({total * 1000:.2f} ms of rule time, build wall time "
              f"{result.duration_s * 1000:.1f} ms):")
    for key in path:
        out.print(f"  {key}  {wall.get(key, 0.0) * 1000:.3f} ms")
