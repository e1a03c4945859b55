"""Prometheus text exposition of the stored metrics, via prometheus_client.

prometheus_client is imported here only, by ``promptgen metrics``: it is slow to
import and no build needs it.
"""

from __future__ import annotations

from typing import Iterable, Optional

from .metrics import HELP, buckets_for, parse_labels


def registry_from(counters: Iterable[tuple[str, str, float]],
                  histograms: Iterable[tuple[str, str, list[int], float, int]],
                  const_labels: Optional[dict[str, str]] = None):
    """A CollectorRegistry holding the stored series as metric families.

    ``const_labels`` are added to every series (the CLI adds ``workspace`` so that
    several workspaces can be exported to one textfile-collector directory).
    """
    from prometheus_client.core import CollectorRegistry, CounterMetricFamily, HistogramMetricFamily

    counters = list(counters)
    histograms = list(histograms)

    class StoreCollector:
        def collect(self):
            families: dict[str, CounterMetricFamily] = {}
            for name, labels, value in counters:
                lab = {**(const_labels or {}), **parse_labels(labels)}
                base = name[:-6] if name.endswith("_total") else name
                fam = families.get(name)
                if fam is None:
                    fam = families[name] = CounterMetricFamily(base, HELP.get(name, name), labels=sorted(lab))
                fam.add_metric([lab[k] for k in sorted(lab)], value)
            yield from families.values()
            hfam: dict[str, HistogramMetricFamily] = {}
            for name, labels, counts, total, count in histograms:
                lab = {**(const_labels or {}), **parse_labels(labels)}
                fam = hfam.get(name)
                if fam is None:
                    fam = hfam[name] = HistogramMetricFamily(name, HELP.get(name, name), labels=sorted(lab))
                bounds = buckets_for(name)
                cumulative, buckets = 0, []
                for bound, n in zip(list(bounds) + [float("inf")], counts):
                    cumulative += n
                    buckets.append(("+Inf" if bound == float("inf") else repr(float(bound)), cumulative))
                fam.add_metric([lab[k] for k in sorted(lab)], buckets, total)
            yield from hfam.values()

    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector())
    return registry


def render(registry) -> str:
    from prometheus_client import generate_latest

    return generate_latest(registry).decode("utf-8")


def write_textfile(path: str, registry) -> None:
    """Atomic write (temp file + rename), as node_exporter's textfile collector needs."""
    from prometheus_client import write_to_textfile

    write_to_textfile(path, registry)
