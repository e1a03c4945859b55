"""The metrics journal: how a no-op build records metrics without writing the store.

A no-op build must not write the database (that would cost a transaction and
change the state the fast path checks). It appends its metric increments, one
per line, to ``<store>/journal`` with a single ``O_APPEND`` write. The next
build that writes the database folds the journal into its counters, in the same
transaction (:func:`collect`), so ``promptgen metrics`` and ``stats`` always see
every build.

Line format (tab-separated): ``c|h <name> <labels> <amount>``.
"""

import os
# on the no-op path: see "Import cost" in promptgen/__init__.py
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, Optional

JOURNAL = "journal"
ROTATE_BYTES = 1 << 20


def append(store_dir: str, increments: "Iterable[tuple[str, str, str, float]]") -> None:
    data = "".join(f"{t}\t{n}\t{lab}\t{amt!r}\n" for t, n, lab, amt in increments).encode()
    try:
        fd = os.open(os.path.join(store_dir, JOURNAL), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError:
        return  # a read-only store: metrics of this run are lost, the answer is not
    try:
        os.write(fd, data)
    except OSError:
        pass
    finally:
        os.close(fd)


def parse(data: bytes) -> "tuple[list[tuple[str, str, str, float]], int]":
    """Complete lines of ``data`` → increments, and how many bytes they span."""
    end = data.rfind(b"\n") + 1
    out = []
    for line in data[:end].decode("utf-8", "replace").splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or parts[0] not in ("c", "h"):
            continue  # a torn or foreign line: skip it, never fail
        try:
            out.append((parts[0], parts[1], parts[2], float(parts[3])))
        except ValueError:
            continue
    return out, end


def collect(store_dir: str, store) -> "Optional[tuple[list[tuple[str, str, str, float]], dict[str, str]]]":
    """Journal lines not folded yet, and the meta entries that mark them folded.

    The byte offset folded so far is kept in the store (with the journal's inode):
    written in the same transaction as the counters, a crash never counts a line
    twice, nor loses one. None when there is no journal.
    """
    path = os.path.join(store_dir, JOURNAL)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        ino = str(st.st_ino)
        offset = 0
        if store.meta("journal_ino") == ino:
            offset = int(store.meta("journal_offset") or 0)
        if offset > st.st_size:
            offset = 0
        os.lseek(fd, offset, os.SEEK_SET)
        data = os.read(fd, st.st_size - offset) if st.st_size > offset else b""
    finally:
        os.close(fd)
    increments, used = parse(data)
    new_offset = offset + used
    if not increments and new_offset == offset and store.meta("journal_ino") == ino:
        return [], {}  # nothing new: nothing to write
    return increments, {"journal_ino": ino, "journal_offset": str(new_offset)}


def rotate(store_dir: str, store, meta: "dict[str, str]") -> None:
    """After ``meta`` (from :func:`collect`) was committed: start a new journal once
    the folded one has grown past ``ROTATE_BYTES`` and holds nothing unfolded."""
    path = os.path.join(store_dir, JOURNAL)
    offset = int(meta.get("journal_offset") or 0)
    try:
        if offset < ROTATE_BYTES or os.stat(path).st_size != offset or str(os.stat(path).st_ino) != meta["journal_ino"]:
            return
        os.unlink(path)
        store.record_metrics([], {"journal_ino": "", "journal_offset": "0"})
    except OSError:
        pass


def pending(store_dir: str, store) -> "list[tuple[str, str, str, float]]":
    """Journal lines not yet folded (for read-only views such as ``metrics``)."""
    path = os.path.join(store_dir, JOURNAL)
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            offset = 0
            if store.meta("journal_ino") == str(st.st_ino):
                offset = int(store.meta("journal_offset") or 0)
            fh.seek(offset if offset <= st.st_size else 0)
            data = fh.read()
    except OSError:
        return []
    return parse(data)[0]


