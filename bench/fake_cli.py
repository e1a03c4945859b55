"""A stand-in for the promptgen CLI, used only by bench's own tests.

It lets the harness be tested end to end without the real CLI: ``build [--json]``,
``next @X``, ``status --json``, ``clean`` and ``graph --explain --json`` / ``graph --format json``,
all with ``--workspace PATH``, over a tiny
per-plan graph (plan, subplans, executions, feedback → state → prompt) with a stat-then-hash
check of every file and early cutoff, kept in ``<workspace>/.promptgen/fake.json``. Its state
machine is a sketch of the real one (docs/USER_GUIDE.md §6, "States"), good enough to change state when a
SUBPLAN's Status flips.
There is no ``stats`` command (the harness must fall back).

Test switches (environment): ``FAKE_PROMPTGEN_FAIL=<command>`` makes that command fail;
``FAKE_PROMPTGEN_REHASH=1`` re-hashes every file on every build (a broken no-op).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import time

_STATUS = re.compile(r"^\s*(?:[-*+]\s+)?\*\*Status\*\*\s*:(.*)$", re.M)
_ACH = re.compile(r"\*\*Achievement (\d+(?:\.\d+)+)\*\*")


def _complete(text: str) -> bool:
    header = text.split("\n## ", 1)[0]
    m = _STATUS.search(header)
    return bool(m) and re.match(r"(?i)completed?\b", re.sub(r"^[^A-Za-z]+", "", m.group(1))) is not None


def _scan(top: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if d not in ("documentation", "archive") and not d.startswith(".") and not d.endswith("old")]
        out.extend(os.path.join(dirpath, f) for f in filenames)
    return sorted(out)


def build(ws: str, rehash: bool) -> tuple[dict, list[dict]]:
    t0 = time.perf_counter()
    store_path = os.path.join(ws, ".promptgen", "fake.json")
    try:
        with open(store_path, encoding="utf-8") as f:
            old = json.load(f)
    except (OSError, ValueError):
        old = {"stamps": {}, "hashes": {}, "sigs": {}, "values": {}}
    counters = {"files_stat": 0, "files_read": 0, "files_hashed": 0}
    stamps, hashes, texts, decisions, edges = {}, {}, {}, {}, []
    for path in _scan(os.path.join(ws, "work-space", "plans")):
        rel = os.path.relpath(path, ws).replace(os.sep, "/")
        st = os.stat(path)
        counters["files_stat"] += 1
        stamps[rel] = [st.st_mtime_ns, st.st_size, st.st_ino]
        if not rehash and old["stamps"].get(rel) == stamps[rel]:
            hashes[rel] = old["hashes"][rel]
        else:
            with open(path, "rb") as f:
                data = f.read()
            counters["files_read"] += 1
            counters["files_hashed"] += 1
            hashes[rel] = hashlib.md5(data).hexdigest()
            texts[rel] = data.decode("utf-8", "replace")
            decisions[f"file:{rel}"] = "ran" if old["hashes"].get(rel) != hashes[rel] else "cut_off"

    def text(rel: str) -> str:
        if rel not in texts:
            with open(os.path.join(ws, rel), encoding="utf-8", errors="replace") as f:
                texts[rel] = f.read()
        return texts[rel]

    sigs, values, recomputed, cut = {}, {}, [], 0
    plans = []

    def node(key: str, inputs: list[str], compute):
        nonlocal cut
        sig = hashlib.md5(json.dumps([hashes.get(i, values.get(i)) for i in inputs]).encode()).hexdigest()
        sigs[key] = sig
        edges.extend([("file:" + i if i in hashes else i), key] for i in inputs)
        if old["sigs"].get(key) == sig and key in old["values"]:
            values[key] = old["values"][key]
            decisions[key] = "reused"
            return values[key]
        values[key] = compute()
        recomputed.append(key)
        decisions[key] = "ran"
        if old["values"].get(key) == values[key]:
            cut += 1
            decisions[key] = "cut_off"
        return values[key]

    for rel in sorted(hashes):
        name = rel.rsplit("/", 1)[-1]
        if not (name.startswith("PLAN_") and name.endswith(".md")):
            continue
        d, f = rel.rsplit("/", 1)[0], name[5:-3]
        mine = [r for r in hashes if r.startswith(d + "/") and r != rel]
        subs = [r for r in mine if r.rsplit("/", 1)[-1].startswith(f"SUBPLAN_{f}_")]
        tasks = [r for r in mine if r.rsplit("/", 1)[-1].startswith(f"EXECUTION_TASK_{f}_")]
        fb = [r for r in mine if r.startswith(d + "/execution/feedbacks/")]
        ach = node(f"plan:{f}", [rel], lambda: list(dict.fromkeys(_ACH.findall(text(rel)))))
        sp = node(f"subplans:{f}", subs, lambda: {r.rsplit("_", 1)[-1][:-3]: _complete(text(r)) for r in subs})
        ex = node(f"executions:{f}", tasks, lambda: sorted([r.rsplit("/", 1)[-1][len(f"EXECUTION_TASK_{f}_"):-3].split("_")[0], _complete(text(r))] for r in tasks))
        fbv = node(f"feedback:{f}", fb, lambda: sorted(r.rsplit("/", 1)[-1] for r in fb))

        def state():
            for num in ach:
                t = num.replace(".", "")
                if f"APPROVED_{t}.md" in fbv:
                    continue
                mine_tasks = [c for tt, c in ex if tt == t]
                if f"FIX_{t}.md" in fbv:
                    s = "needs_fix"
                elif t not in sp:
                    s = "no_subplan"
                elif sp[t]:
                    s = "awaiting_review"
                elif not mine_tasks:
                    s = "no_execution"
                elif not all(mine_tasks):
                    s = "active_execution"
                else:
                    s = "all_executed"
                return {"number": num, "state": s}
            return None

        cur = node(f"state:{f}", [f"plan:{f}", f"subplans:{f}", f"executions:{f}", f"feedback:{f}"], state)
        prompt = node(f"prompt:{f}", [f"state:{f}"], lambda: f"{f}: {cur}")
        plans.append(
            {
                "feature": f,
                "plan_file": rel,
                "plan_state": "no_achievements" if not ach else "in_progress" if cur else "plan_complete",
                "current": cur,
                "available": [],
                "achievements": [],
                "warnings": [],
                "prompt": prompt,
            }
        )
    changed = recomputed or counters["files_hashed"] or set(stamps) != set(old["stamps"])
    if changed:
        os.makedirs(os.path.dirname(store_path), exist_ok=True)
        with open(store_path, "w", encoding="utf-8") as f:
            json.dump({"stamps": stamps, "hashes": hashes, "sigs": sigs, "values": values, "edges": edges,
                       "decisions": [{"node": k, "status": v} for k, v in decisions.items()]}, f)
    summary = {
        "nodes": len(values),
        "recomputed": len(recomputed),
        "reused": len(values) - len(recomputed),
        "cut_off": cut,
        "duration_s": time.perf_counter() - t0,
        "recomputed_nodes": recomputed,
        "counters": counters,
    }
    return summary, sorted(plans, key=lambda p: p["plan_file"])


def main(argv: list[str]) -> int:
    if not argv or "--workspace" not in argv:
        print("usage: fake_cli COMMAND --workspace PATH [--json] [@X]", file=sys.stderr)
        return 2
    sub, ws = argv[0], argv[argv.index("--workspace") + 1]
    if os.environ.get("FAKE_PROMPTGEN_FAIL") == sub:
        print(f"fake_cli: {sub} failed on purpose", file=sys.stderr)
        return 3
    if sub == "clean":
        shutil.rmtree(os.path.join(ws, ".promptgen"), ignore_errors=True)
        return 0
    if sub == "graph":  # only the two JSON forms the harness reads
        with open(os.path.join(ws, ".promptgen", "fake.json"), encoding="utf-8") as f:
            store = json.load(f)
        if "--explain" in argv:
            print(json.dumps({"build": {}, "decisions": store["decisions"]}))
        else:
            print(json.dumps({"nodes": [], "edges": [{"source": a, "target": b} for a, b in store["edges"]]}))
        return 0
    if sub not in ("build", "next", "status"):
        print(f"fake_cli: unknown command {sub!r}", file=sys.stderr)
        return 2
    summary, plans = build(ws, os.environ.get("FAKE_PROMPTGEN_REHASH") == "1")
    if sub == "build":
        print(json.dumps(summary) if "--json" in argv else f"{summary['nodes']} nodes, {summary['recomputed']} recomputed")
    elif sub == "status":
        print(json.dumps({"workspace": os.path.abspath(ws), "plans": [{k: v for k, v in p.items() if k != "prompt"} for p in plans]}))
    else:
        want = next((a[1:] for a in argv if a.startswith("@")), "")
        match = [p for p in plans if p["feature"] == want]
        if not match:
            print(f"fake_cli: no plan {want!r}", file=sys.stderr)
            return 2
        print(match[0]["prompt"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
