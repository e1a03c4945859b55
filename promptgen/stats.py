"""Cumulative performance figures, from the store's metrics (and the unfolded journal).

``promptgen.get_performance_stats()`` and ``promptgen stats`` both come here.
"""

from __future__ import annotations

from promptgen.engine import journal
from promptgen.engine.metrics import parse_labels

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from .workspace import Workspace


def performance_stats(ws: Workspace) -> tuple[dict[str, Any], Optional[str]]:
    """The figures (empty before the first build), and what is wrong with the
    store if it cannot be read (then the figures are empty too)."""
    view = ws.read_store()
    with view as store:
        if store is None:
            return compute([], []), view.problem
        counters = store.counters()
        histograms = store.histograms()
        pending = journal.pending(ws.store_dir, store)
    return compute(counters, histograms, pending), None


def compute(counters: list, histograms: list, pending: Optional[list] = None) -> dict[str, Any]:
    """The figures: cache hit rate over all nodes, average parse / generation / build time, calls."""
    totals: dict[tuple[str, str], float] = {}
    for name, labels, value in counters:
        totals[(name, labels)] = totals.get((name, labels), 0.0) + value
    hsum: dict[tuple[str, str], list[float]] = {}
    for name, labels, _buckets, s, c in histograms:
        acc = hsum.setdefault((name, labels), [0.0, 0.0])
        acc[0] += s
        acc[1] += c
    for typ, name, labels, amount in pending or []:
        if typ == "c":
            totals[(name, labels)] = totals.get((name, labels), 0.0) + amount
        else:
            acc = hsum.setdefault((name, labels), [0.0, 0.0])
            acc[0] += amount
            acc[1] += 1

    def total(name: str, **match: str) -> float:
        return sum(v for (n, lab), v in totals.items() if n == name and _matches(lab, match))

    def average(name: str, **match: str) -> Optional[float]:
        s = c = 0.0
        for (n, lab), (hs, hc) in hsum.items():
            if n == name and _matches(lab, match):
                s += hs
                c += hc
        return s / c if c else None

    hits = total("promptgen_cache_hits_total")
    misses = total("promptgen_cache_misses_total")
    builds = {mode: int(total("promptgen_builds_total", mode=mode)) for mode in ("noop", "incremental", "full")}
    return {
        "cache_hit_rate": round(hits / (hits + misses), 4) if hits + misses else None,
        "avg_parse_time": _round(average("promptgen_node_duration_seconds", kind="plan")),
        "avg_generation_time": _round(average("promptgen_prompt_generation_duration_seconds")),
        "avg_build_time": _round(average("promptgen_build_duration_seconds")),
        "total_calls": int(total("promptgen_builds_total")),
        "total_builds": builds,
        "prompts_generated": int(total("promptgen_prompt_generation_total", status="generated")),
        "prompts_cached": int(total("promptgen_prompt_generation_total", status="cached")),
        "nodes_cache_hits": int(hits),
        "nodes_cache_misses": int(misses),
    }


def _matches(labels: str, match: dict[str, str]) -> bool:
    if not match:
        return True
    lab = parse_labels(labels)
    return all(lab.get(k) == v for k, v in match.items())


def _round(x: Optional[float]) -> Optional[float]:
    return None if x is None else round(x, 6)
