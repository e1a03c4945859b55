"""``promptgen metrics``: Prometheus text exposition of the stored metrics."""

from __future__ import annotations

import sys

from promptgen.engine import exposition, journal

from ..storeview import open_store
from ..workspace import UsageError, locate

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def run(ns: argparse.Namespace) -> int:
    ws = locate(ns.workspace, ns.plan_root, ns.store)
    with open_store(ws) as store:
        # no store yet: an empty exposition (a cron job should not fail before the first build)
        counters = store.counters() if store else []
        histograms = store.histograms() if store else []
        pending = journal.pending(ws.store_dir, store) if store else []
    # unfolded no-op increments are part of the history: add them in memory
    totals: dict[tuple[str, str], float] = {(n, lab): v for n, lab, v in counters}
    extra_obs: dict[tuple[str, str], list[float]] = {}
    for typ, name, lab, amount in pending:
        if typ == "c":
            totals[(name, lab)] = totals.get((name, lab), 0.0) + amount
        else:
            extra_obs.setdefault((name, lab), []).append(amount)
    hist = _merge_histograms(histograms, extra_obs)
    registry = exposition.registry_from([(n, lab, v) for (n, lab), v in sorted(totals.items())], hist,
                                        {"workspace": ws.root})
    if ns.metrics_file:
        try:
            exposition.write_textfile(ns.metrics_file, registry)
        except OSError as exc:
            # the error is about the temporary file next to the target: name the target
            raise UsageError(f"cannot write the metrics file {ns.metrics_file}: {exc.strerror or exc}") from None
        sys.stderr.write(f"promptgen: metrics written to {ns.metrics_file}\n")
    else:
        sys.stdout.write(exposition.render(registry))
    return 0


def _merge_histograms(rows, extra):
    from promptgen.engine.metrics import bucket_index, buckets_for

    by_key = {(n, lab): [list(b), s, c] for n, lab, b, s, c in rows}
    for (name, lab), values in extra.items():
        bounds = buckets_for(name)
        entry = by_key.setdefault((name, lab), [[0] * (len(bounds) + 1), 0.0, 0])
        for v in values:
            entry[0][bucket_index(bounds, v)] += 1
            entry[1] += v
            entry[2] += 1
    return [(n, lab, b, s, c) for (n, lab), (b, s, c) in sorted(by_key.items())]
