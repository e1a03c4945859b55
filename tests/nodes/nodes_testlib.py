"""Test helpers for promptgen.nodes: a tiny evaluator and workspace writers.

Why an evaluator here: the domain graph must be testable on its own, without the
incremental engine (which lives in ``engine/`` and is tested there). This one
evaluates a graph from scratch, the way a clean build would: sources are read
like the engine reads them (UTF-8, BOM removed, newlines normalised, error codes
from ``engine.spec``), derived nodes in dependency order, expanders expanded.
It is deliberately simple and not incremental.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Mapping, Optional

from promptgen.engine.spec import NodeSpec, Rule, is_source, source_path

MAX_FILE_BYTES = 8 * 1024 * 1024


def _inside(root: Path, path: Path) -> bool:
    real = os.path.realpath(path)
    rr = os.path.realpath(root)
    return real == rr or real.startswith(rr + os.sep)


def read_file(root: Path, rel: str) -> dict:
    path = root / rel
    if not os.path.lexists(path):
        return {"error": "missing"}
    if not _inside(root, path):
        return {"error": "outside_root"}
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {"error": "missing"}
    except OSError:
        return {"error": "unreadable"}
    if not stat.S_ISREG(st.st_mode):
        return {"error": "not_a_file"}
    if st.st_size > MAX_FILE_BYTES:
        return {"error": "too_large"}
    try:
        raw = path.read_bytes()
    except OSError:
        return {"error": "unreadable"}
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"error": "not_utf8"}
    return {"text": text.replace("\r\n", "\n").replace("\r", "\n")}


def list_dir(root: Path, rel: str) -> Optional[list]:
    path = root / rel if rel not in ("", ".") else root
    if not path.is_dir() or not _inside(root, path):
        return None
    out = []
    with os.scandir(path) as it:
        for e in it:
            try:
                if e.is_symlink():
                    if not _inside(root, Path(e.path)) or not os.path.exists(e.path):
                        out.append([e.name, "x"])
                        continue
                    st = os.stat(e.path)
                    out.append([e.name, "d" if stat.S_ISDIR(st.st_mode) else "f" if stat.S_ISREG(st.st_mode) else "o"])
                elif e.is_dir(follow_symlinks=False):
                    out.append([e.name, "d"])
                elif e.is_file(follow_symlinks=False):
                    out.append([e.name, "f"])
                else:
                    out.append([e.name, "o"])
            except OSError:
                out.append([e.name, "x"])
    return sorted(out)


def evaluate(root: Path, roots: list[NodeSpec], rules: Mapping[str, Rule]) -> dict[str, Any]:
    """Values of every derived node of a clean build (expander values as spec JSON)."""
    root = Path(root)
    specs: dict[str, NodeSpec] = {}
    values: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    pending: list[str] = []

    def add(spec: NodeSpec) -> None:
        old = specs.get(spec.key)
        if old is not None:
            assert old == spec, f"{spec.key} produced twice with different specs"
            return
        specs[spec.key] = spec
        pending.append(spec.key)

    def value(key: str) -> Any:
        if is_source(key):
            if key not in sources:
                rel = source_path(key)
                sources[key] = list_dir(root, rel) if key.startswith("dir:") else read_file(root, rel)
            return sources[key]
        if key not in values:
            compute(key)
        return values[key]

    computing: set[str] = set()

    def compute(key: str) -> None:
        if key not in specs:
            raise KeyError(f"no node produces {key}")
        if key in computing:
            raise RuntimeError(f"cycle through {key}")
        computing.add(key)
        spec = specs[key]
        rule = rules[spec.kind]
        ins = [value(i) for i in spec.inputs]
        out = rule.compute(spec.param, ins)
        if rule.expands:
            values[key] = [c.to_json() for c in out]
            for c in out:
                add(c)
        else:
            values[key] = out
        computing.discard(key)

    for s in roots:
        add(s)
    while pending:
        k = pending.pop(0)
        if k not in values:
            try:
                compute(k)
            except KeyError:
                # an input is produced by an expander not evaluated yet: retry later
                if not pending:
                    raise
                pending.append(k)
    return values


def build_values(root: Path, extra_plan_roots: tuple[str, ...] = ()) -> dict[str, Any]:
    from promptgen.nodes import api

    cfg = api.load_config(root, extra_plan_roots)
    return evaluate(root, api.graph_roots(cfg), api.RULES)


def reports(root: Path, extra_plan_roots: tuple[str, ...] = ()) -> list[dict]:
    from promptgen.nodes import api

    return api.plan_reports(build_values(root, extra_plan_roots))


def write(root: Path, rel: str, text: str = "", *, raw: Optional[bytes] = None) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        p.write_bytes(raw)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def plan_text(numbers: list[str], *, index: bool = True, extra: str = "") -> str:
    """A small PLAN declaring ``numbers`` (Achievement Index + definitions)."""
    lines = ["# PLAN: Demo", ""]
    if index:
        lines += ["## 📋 Achievement Index", ""]
        lines += [f"- Achievement {n}: Title {n}" for n in numbers]
        lines += [""]
    lines += ["## 🎯 Achievements", ""]
    for n in numbers:
        lines += [f"**Achievement {n}**: Title {n}", "", f"Body of {n}.", ""]
    lines.append(extra)
    return "\n".join(lines)


def status_header(status: str, title: str = "Doc") -> str:
    return f"# {title}\n\n**Status**: {status}\n\n## 🎯 Objective\n\nDo the thing.\n\n## 🧭 Approach\n\nStep by step.\n"
