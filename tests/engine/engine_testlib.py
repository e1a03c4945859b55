"""Helpers shared by the engine tests: small non-PLAN graphs and file-tree tools.

Nothing here knows about PLANs: the graphs are word counts over plain text
files, which is the point — the engine must build any graph of files.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Any, Callable, Optional

from promptgen.engine import stamp as stamp_mod
from promptgen.engine.session import Outcome, SessionConfig, run
from promptgen.engine.spec import NodeSpec, Rule

# ---------------------------------------------------------------------------
# graph 1: files of docs/ -> word counts -> report (as /tmp/wc_rules.py)


def _scan(param: Any, values: list[Any]) -> list[NodeSpec]:
    listing = values[0] or []
    out = [
        NodeSpec(f"count:{n}", "count", (f"file:docs/{n}",))
        for n, t in listing
        if t == "f" and n.endswith(".txt")
    ]
    out.append(NodeSpec("report:all", "report", tuple(s.key for s in out)))
    return out


def _count(param: Any, values: list[Any]) -> Optional[int]:
    v = values[0]
    return len(v["text"].split()) if "text" in v else None


def _report(param: Any, values: list[Any]) -> int:
    return sum(x for x in values if x)


def wc_rules(**versions: str) -> dict[str, Rule]:
    """The word-count rules; ``versions`` overrides a kind's rule version."""
    rules = [
        Rule("scan", versions.get("scan", "1"), _scan, expands=True),
        Rule("count", versions.get("count", "1"), _count),
        Rule("report", versions.get("report", "1"), _report),
    ]
    return {r.kind: r for r in rules}


WC_ROOTS = [NodeSpec("scan:docs", "scan", ("dir:docs",))]


def make_wc_tree(root: str, files: dict[str, str]) -> None:
    os.makedirs(os.path.join(root, "docs"), exist_ok=True)
    for name, text in files.items():
        write(os.path.join(root, "docs", name), text)


# ---------------------------------------------------------------------------
# graph 2 (property tests): a recursive directory scan with expanders at every
# level, per-file nodes, per-directory aggregates and nodes that rarely change.


def _tree_scan(param: str, values: list[Any]) -> list[NodeSpec]:
    base = param
    listing = values[0] or []
    out: list[NodeSpec] = []
    parts: list[str] = []
    for name, typ in listing:
        rel = f"{base}/{name}" if base else name
        if typ == "d":
            out.append(NodeSpec(f"scan:{rel}", "scan", (f"dir:{rel}",), rel))
            parts.append(f"dirsum:{rel}")
        elif typ == "f":
            out.append(NodeSpec(f"content:{rel}", "content", (f"file:{rel}",)))
            # words of a .txt file are counted from its content: node (a derived
            # chain); of other files from the file itself (a node that reads only
            # a source, as per-file parse nodes do)
            source = f"content:{rel}" if name.endswith(".txt") else f"file:{rel}"
            out.append(NodeSpec(f"words:{rel}", "words", (source,)))
            parts.append(f"words:{rel}")
    out.append(NodeSpec(f"dirsum:{base}", "dirsum", tuple(parts), base))
    return out


def _tree_content(param: Any, values: list[Any]) -> Any:
    v = values[0]
    return v.get("text", "!" + v.get("error", "?"))


def _tree_words(param: Any, values: list[Any]) -> int:
    v = values[0]
    if isinstance(v, dict):  # the file's own value
        v = _tree_content(None, [v])
    return len(v.split()) if not v.startswith("!") else -1


def _tree_dirsum(param: Any, values: list[Any]) -> int:
    return sum(values)


def _tree_report(param: Any, values: list[Any]) -> dict[str, Any]:
    total, cfg = values
    return {"total": total, "config": cfg.get("text", cfg.get("error"))}


def _tree_parity(param: Any, values: list[Any]) -> int:
    return values[0] % 2


def _tree_pick(param: Any, values: list[Any]) -> list[NodeSpec]:
    """Like a prompt choosing its template: config.txt decides what ``chosen:`` reads.

    The same key with other inputs is the case the walk patches in place; reading
    ``dirsum:`` (built late) or a third word (an ``extra:`` node appears) are the
    cases that must fall back to declaring the graph again.
    """
    words = values[0].get("text", "").split()
    first = words[0] if words else ""
    if first == "a":
        inputs: tuple[str, ...] = ("file:a",)
    elif first == "b":
        inputs = ("dirsum:",)
    elif first:
        inputs = ("file:b.txt", "file:d1/a")
    else:
        inputs = ()
    out = [NodeSpec("chosen:", "chosen", inputs)]
    if len(words) >= 3:
        out.append(NodeSpec("extra:", "chosen", ("file:config.txt",)))
    return out


def _tree_chosen(param: Any, values: list[Any]) -> list[Any]:
    return [v.get("text", v.get("error")) if isinstance(v, dict) else v for v in values]


TREE_RULES = {
    r.kind: r
    for r in [
        Rule("scan", "1", _tree_scan, expands=True),
        Rule("content", "1", _tree_content),
        Rule("words", "1", _tree_words),
        Rule("dirsum", "1", _tree_dirsum),
        Rule("report", "1", _tree_report),
        Rule("parity", "1", _tree_parity),
        Rule("pick", "1", _tree_pick, expands=True),
        Rule("chosen", "1", _tree_chosen),
    ]
}

TREE_ROOTS = [
    NodeSpec("scan:", "scan", ("dir:",), ""),
    # reads a node that an expander produces, and a file that may not exist
    NodeSpec("report:", "report", ("dirsum:", "file:config.txt")),
    # a node whose value rarely changes: dependents of it are cut off
    NodeSpec("parity:", "parity", ("dirsum:",)),
    # an expander that changes the inputs of its child, as a prompt's template does
    NodeSpec("pick:", "pick", ("file:config.txt",)),
]


# ---------------------------------------------------------------------------
# files and time


def write(path: str, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def past_racy_window() -> None:
    """Sleep until every file written so far is safely older than the racy window.

    ``os.utime`` alone is not enough: the stamp and the racy rule also look at
    ctime, which ``utime`` sets to *now*.
    """
    time.sleep(stamp_mod.FINE_WINDOW_NS / 1e9 + 0.02)


def file_state(path: str) -> tuple[bytes, int, float]:
    """Bytes and mtime of a file, to compare "nothing was written"."""
    with open(path, "rb") as fh:
        data = fh.read()
    st = os.stat(path)
    return data, st.st_mtime_ns, st.st_size


def config(root: str, store_dir: Optional[str] = None, key: str = "k", **kw: Any) -> SessionConfig:
    return SessionConfig(root=root, store_dir=store_dir or os.path.join(root, ".promptgen"),
                         snapshot_key=key, **kw)


def all_values(result: Any) -> dict[str, Any]:
    return {k: result.values[k] for k in result.order}


def session_build(cfg: SessionConfig, roots: list[NodeSpec], rules: dict[str, Rule],
                  **kw: Any) -> tuple[Outcome, dict[str, Any]]:
    """``session.run`` and every derived value (read while the store is open)."""
    seen: dict[str, Any] = {}

    def payload(result: Any) -> dict[str, Any]:
        seen.update(all_values(result))
        return {"values": dict(seen)}

    outcome = run(cfg, roots, rules, payload=payload, **kw)
    if not seen:  # not persisted: the values are all in memory
        seen.update(all_values(outcome.result))
    return outcome, seen


def rmtree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def statuses(result: Any) -> dict[str, tuple[str, Optional[str]]]:
    return {d.key: (d.status, d.reason) for d in result.decisions}


# ---------------------------------------------------------------------------
# graph 3: one node per named file that echoes its text (content-sensitive)


def _echo(param: Any, values: list[Any]) -> Any:
    return values[0].get("text", "!" + values[0].get("error", "?"))


ECHO_RULES = {"echo": Rule("echo", "1", _echo)}


def echo_roots(*names: str) -> list[NodeSpec]:
    return [NodeSpec(f"echo:{n}", "echo", (f"file:{n}",)) for n in names]
