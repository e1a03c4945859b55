"""Baselines a promptgen no-op is compared with, over the same files.

* **ninja**: an equivalent ``build.ninja`` — one edge per plan whose inputs are that plan's
  files and whose output is a stamp file in a scratch folder outside the workspace. After one
  real run makes it up to date, ``ninja -C scratch`` is a true no-op: it parses the manifest,
  loads its log and stats every input, like promptgen's fast path.
* **stat loop**: the same interpreter that runs promptgen, started with ``-c`` to ``os.stat()``
  every file whose path is listed (one per line) in a precomputed file. That is the floor for
  "start Python, stat every recorded file".
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

#: Folders under the workspace root that are not workspace content.
_SKIP_DIRS = {".promptgen", ".git"}


def list_files(root: Path) -> list[Path]:
    """Every regular file of the workspace (``root/work-space``), sorted, absolute."""
    out: list[Path] = []
    top = Path(root) / "work-space"
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in filenames:
            p = Path(dirpath, name)
            if p.is_file() and not p.is_symlink():
                out.append(p)
    out.sort()
    return out


#: Folders whose PLAN_*.md files are not plans (docs/USER_GUIDE.md §3, "Discovery: which PLAN files are plans").
_NOT_PLAN_DIRS = {"documentation", "archive", "subplans", "execution", "feedbacks"}


def _skipped(rel: Path) -> bool:
    return any(p in _NOT_PLAN_DIRS or p.startswith(".") or p.endswith("old") for p in rel.parts)


def group_by_plan(root: Path, files: list[Path]) -> dict[str, list[Path]]:
    """Group files by plan folder: the nearest ancestor folder holding a ``PLAN_*.md``.

    Files under no plan folder go to the group ``""``.
    """
    root = Path(root)
    plan_dirs = {f.parent for f in files if f.name.startswith("PLAN_") and f.name.endswith(".md") and not _skipped(f.parent.relative_to(root))}
    groups: dict[str, list[Path]] = {}
    cache: dict[Path, str] = {}
    for f in files:
        d = f.parent
        chain = []
        key = ""
        while True:
            if d in cache:
                key = cache[d]
                break
            chain.append(d)
            if d in plan_dirs:
                key = str(d.relative_to(root))
                break
            if d == root or d.parent == d:
                break
            d = d.parent
        for c in chain:
            cache[c] = key
        groups.setdefault(key, []).append(f)
    return groups


def _ninja_escape(path: str) -> str:
    return path.replace("$", "$$").replace(" ", "$ ").replace(":", "$:").replace("\n", "")


def write_ninja_manifest(root: Path, scratch: Path, files: list[Path] | None = None) -> dict:
    """Write ``scratch/build.ninja`` with one edge per plan over the workspace's files.

    Returns ``{"manifest", "edges", "inputs"}``. The stamps go to ``scratch/stamps/``.
    """
    root, scratch = Path(root), Path(scratch)
    files = list_files(root) if files is None else files
    groups = group_by_plan(root, files)
    scratch.mkdir(parents=True, exist_ok=True)
    lines = ["ninja_required_version = 1.5", "", "rule stamp", "  command = touch $out", "  description = STAMP $out", ""]
    for i, key in enumerate(sorted(groups)):
        ins = " ".join(_ninja_escape(str(p)) for p in groups[key])
        lines.append(f"build stamps/plan{i:05d}.stamp: stamp {ins}")
    (scratch / "stamps").mkdir(exist_ok=True)
    manifest = scratch / "build.ninja"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"manifest": str(manifest), "edges": len(groups), "inputs": len(files)}


def ninja_path() -> str | None:
    return shutil.which("ninja")


def ninja_version(ninja: str) -> str:
    return subprocess.run([ninja, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def ninja_noop_cmd(ninja: str, scratch: Path) -> list[str]:
    return [ninja, "-C", str(scratch)]


def prime_ninja(ninja: str, scratch: Path) -> None:
    """Run the real build once, then check that a second run has nothing to do."""
    first = subprocess.run(ninja_noop_cmd(ninja, scratch), capture_output=True, text=True)
    if first.returncode != 0:
        raise RuntimeError(f"ninja build failed in {scratch}: {first.stdout[-500:]}{first.stderr[-500:]}")
    second = subprocess.run(ninja_noop_cmd(ninja, scratch), capture_output=True, text=True)
    if second.returncode != 0 or "no work to do" not in second.stdout:
        raise RuntimeError(f"ninja is not a no-op after one build in {scratch}: {second.stdout[-500:]}")


#: The stat loop: argv[1] of the -c script is the list file.
STAT_LOOP_CODE = (
    "import os,sys\n"
    "with open(sys.argv[1], encoding='utf-8') as f:\n"
    "    for p in f.read().splitlines():\n"
    "        os.stat(p)\n"
)


def write_stat_list(files: list[Path], scratch: Path) -> Path:
    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    out = scratch / "files.txt"
    out.write_text("".join(f"{p}\n" for p in files), encoding="utf-8")
    return out


def stat_loop_cmd(python: str, list_file: Path) -> list[str]:
    return [python, "-c", STAT_LOOP_CODE, str(list_file)]
