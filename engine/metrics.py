"""Cumulative metrics kept in the store: counters and fixed-bucket histograms.

Builds record increments as ``(type, name, labels, amount)`` tuples — ``"c"`` adds
``amount`` to a counter, ``"h"`` observes ``amount`` in a histogram. Labels are a
canonical ``k=v,k=v`` string (sorted) so that a row is one series. The
Prometheus exposition (``exposition.py``) turns the rows into text; nothing here
imports prometheus_client.
"""

# on the no-op path: see "Import cost" in promptgen/__init__.py
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable

Increment = tuple[str, str, str, float]

_DURATION = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_FAST = (0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)

BUCKETS: dict[str, tuple[float, ...]] = {
    "promptgen_build_duration_seconds": _DURATION,
    "promptgen_prompt_generation_duration_seconds": _FAST,
    "promptgen_node_duration_seconds": _FAST,
}

HELP: dict[str, str] = {
    "promptgen_builds_total": "Builds run, by mode (noop, incremental, full).",
    "promptgen_nodes_recomputed_total": "Nodes recomputed, by node kind and reason.",
    "promptgen_cache_hits_total": "Nodes whose stored value was reused, by node kind.",
    "promptgen_cache_misses_total": "Nodes that had to be recomputed, by node kind.",
    "promptgen_nodes_cut_off_total": "Recomputed nodes whose value did not change, by node kind.",
    "promptgen_files_read_total": "Source files read and hashed.",
    "promptgen_files_stat_total": "Source paths stat'ed.",
    "promptgen_prompt_generation_total": "Prompts served, by achievement state and status (generated, cached).",
    "promptgen_build_duration_seconds": "Wall time of a whole build.",
    "promptgen_prompt_generation_duration_seconds": "Wall time of rendering one prompt.",
    "promptgen_node_duration_seconds": "Wall time of computing one node, by node kind.",
}


def buckets_for(name: str) -> "tuple[float, ...]":
    return BUCKETS.get(name, _DURATION)


def bucket_index(bounds: "tuple[float, ...]", value: float) -> int:
    """Index of the first bucket whose upper bound is ≥ value (len(bounds) = +Inf).

    A scan of ~14 bounds: importing bisect would cost more than it saves."""
    for i, bound in enumerate(bounds):
        if value <= bound:
            return i
    return len(bounds)


def labels(**pairs: str) -> str:
    return ",".join(f"{k}={_clean(str(v))}" for k, v in sorted(pairs.items()))


def parse_labels(text: str) -> "dict[str, str]":
    if not text:
        return {}
    return dict(part.split("=", 1) for part in text.split(","))


def _clean(value: str) -> str:
    return value.replace(",", "_").replace("=", "_").replace("\t", " ").replace("\n", " ")


def counter(name: str, amount: float = 1.0, **pairs: str) -> "Increment":
    return ("c", name, labels(**pairs), float(amount))


def observe(name: str, value: float, **pairs: str) -> "Increment":
    return ("h", name, labels(**pairs), float(value))


def merge(increments: "Iterable[Increment]") -> "list[Increment]":
    """Add up counter increments of the same series (histogram observations stay)."""
    sums: dict[tuple[str, str], float] = {}
    out: list[Increment] = []
    for typ, name, lab, amount in increments:
        if typ == "c":
            sums[(name, lab)] = sums.get((name, lab), 0.0) + amount
        else:
            out.append((typ, name, lab, amount))
    return [("c", n, lab, v) for (n, lab), v in sums.items()] + out


def for_build(result) -> "list[Increment]":
    """The engine's own metrics for one build (``result``: a BuildResult)."""
    from .explain import CUT_OFF, REUSED
    from .spec import is_source

    out: list[Increment] = [
        counter("promptgen_builds_total", mode=result.mode),
        observe("promptgen_build_duration_seconds", result.duration_s),
        counter("promptgen_files_read_total", result.counters.files_read),
        counter("promptgen_files_stat_total", result.counters.files_stat),
    ]
    # most nodes are hits: one series per kind, not per node; a targeted build
    # has no decision for the nodes it did not look at, so hits are what of
    # each kind was not recomputed
    hits: dict[str, int] = dict(result.kind_counts)
    for d in result.decisions:
        if d.status == REUSED or is_source(d.key):
            continue
        hits[d.kind] = hits.get(d.kind, 0) - 1
        out.append(counter("promptgen_cache_misses_total", kind=d.kind))
        out.append(counter("promptgen_nodes_recomputed_total", kind=d.kind, reason=d.reason or ""))
        out.append(observe("promptgen_node_duration_seconds", d.wall_s, kind=d.kind))
        if d.status == CUT_OFF:
            out.append(counter("promptgen_nodes_cut_off_total", kind=d.kind))
    out.extend(counter("promptgen_cache_hits_total", n, kind=kind) for kind, n in hits.items() if n > 0)
    return merge(out)


def for_noop(kind_counts: "dict[str, int]", stat_count: int, duration_s: float) -> "list[Increment]":
    """Metrics of a no-op answered by the fast path: every node was a cache hit."""
    out: list[Increment] = [
        # build.NOOP, spelled out: the no-op path does not import build.py
        # (see promptgen/__init__.py)
        counter("promptgen_builds_total", mode="noop"),
        observe("promptgen_build_duration_seconds", duration_s),
        counter("promptgen_files_stat_total", stat_count),
    ]
    for kind, n in sorted(kind_counts.items()):
        out.append(counter("promptgen_cache_hits_total", n, kind=kind))
    return out
