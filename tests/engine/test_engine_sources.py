"""Source nodes: file values and errors, directory listings, symbolic links."""

from __future__ import annotations

import os

import pytest

from engine_testlib import (
    ECHO_RULES, WC_ROOTS, all_values, config, echo_roots, file_state, make_wc_tree, past_racy_window,
    session_build, wc_rules, write,
)
from promptgen.engine import fastpath
from promptgen.engine.build import build
from promptgen.engine.spec import NodeSpec, Rule

LIST = {"ls": Rule("ls", "1", lambda p, v: v[0])}


@pytest.mark.parametrize("raw, value", [
    (b"plain", "plain"),
    (b"\xef\xbb\xbfbom", "bom"),
    (b"a\r\nb\rc\n", "a\nb\nc\n"),
    (b"\xff\xfe", "!not_utf8"),
    (b"x" * 65, "!too_large"),
])
def test_file_values(tmp_path, raw, value):
    write(str(tmp_path / "f"), raw)
    r = build(str(tmp_path), echo_roots("f"), ECHO_RULES, max_file_bytes=64)
    assert r.values["echo:f"] == value


def test_missing_and_not_a_file(tmp_path):
    os.mkdir(tmp_path / "d")
    r = build(str(tmp_path), echo_roots("nope", "d"), ECHO_RULES)
    assert r.values["echo:nope"] == "!missing" and r.values["echo:d"] == "!not_a_file"
    assert r.fingerprints["file:nope"] == "missing"


def test_listing_types_and_missing_directory(tmp_path):
    root = str(tmp_path / "w")
    write(os.path.join(root, "d/f"), "x")
    os.mkdir(os.path.join(root, "d/sub"))
    os.symlink("f", os.path.join(root, "d/link_f"))
    os.symlink("sub", os.path.join(root, "d/link_d"))
    os.symlink("gone", os.path.join(root, "d/dangling"))
    os.symlink("../../outside", os.path.join(root, "d/out"))
    os.symlink("loop", os.path.join(root, "d/loop"))
    write(str(tmp_path / "outside"), "secret")
    r = build(root, [NodeSpec("ls:d", "ls", ("dir:d",)), NodeSpec("ls:none", "ls", ("dir:none",))], LIST)
    assert r.values["ls:d"] == [["dangling", "x"], ["f", "f"], ["link_d", "l"], ["link_f", "f"],
                                ["loop", "x"], ["out", "x"], ["sub", "d"]]
    assert r.values["ls:none"] is None


def test_link_out_of_the_root_is_never_read(tmp_path):
    root = str(tmp_path / "w")
    write(str(tmp_path / "outside"), "secret")
    os.makedirs(root)
    os.symlink("../outside", os.path.join(root, "out"))
    r = build(root, echo_roots("out"), ECHO_RULES)
    assert r.values["echo:out"] == "!outside_root"


def _linked_tree(tmp_path):
    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "a b"})
    write(os.path.join(root, "target.txt"), "x y z")
    os.symlink("../target.txt", os.path.join(root, "docs", "link.txt"))
    past_racy_window()
    return root, config(root, str(tmp_path / "store"))


@pytest.mark.parametrize("change", ["delete_target", "recreate_target", "target_becomes_dir"])
def test_listing_follows_link_targets(tmp_path, change):
    """Regression: the entry type of a link follows its target, but the listing
    was trusted from the directory's stamp, which a change of the target does
    not move: incremental and clean builds disagreed."""
    root, cfg = _linked_tree(tmp_path)
    target = os.path.join(root, "target.txt")
    session_build(cfg, WC_ROOTS, wc_rules())
    session_build(cfg, WC_ROOTS, wc_rules())
    os.unlink(target)
    if change == "recreate_target":
        out, values = session_build(cfg, WC_ROOTS, wc_rules())
        assert "count:link.txt" not in values
        past_racy_window()
        write(target, "back again")
    elif change == "target_becomes_dir":
        os.mkdir(target)
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert values == all_values(build(root, WC_ROOTS, wc_rules()))


def test_listing_with_links_is_listed_each_build_but_writes_nothing(tmp_path):
    root, cfg = _linked_tree(tmp_path)
    session_build(cfg, WC_ROOTS, wc_rules())
    session_build(cfg, WC_ROOTS, wc_rules())
    db = os.path.join(cfg.store_dir, "state.db")
    before = file_state(db)
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    c = out.result.counters
    assert out.result.mode == "noop" and (c.dirs_listed, c.files_read, c.recomputed) == (1, 0, 0)
    assert file_state(db) == before
    assert values["report:all"] == 5
    # the snapshot cannot prove such a listing unchanged: there is none
    assert fastpath.load(cfg.store_dir, cfg.snapshot_key) is None


def test_directory_listing_sees_additions_and_deletions(tmp_path):
    root = str(tmp_path / "w")
    write(os.path.join(root, "d/a"), "")
    cfg = config(root, str(tmp_path / "store"))
    past_racy_window()
    roots = [NodeSpec("ls:d", "ls", ("dir:d",))]
    session_build(cfg, roots, LIST)
    write(os.path.join(root, "d/b"), "")
    _, v = session_build(cfg, roots, LIST)
    assert v["ls:d"] == [["a", "f"], ["b", "f"]]
    os.unlink(os.path.join(root, "d/a"))
    _, v = session_build(cfg, roots, LIST)
    assert v["ls:d"] == [["b", "f"]]
    os.rename(os.path.join(root, "d/b"), os.path.join(root, "d/c"))
    _, v = session_build(cfg, roots, LIST)
    assert v["ls:d"] == [["c", "f"]]
    os.unlink(os.path.join(root, "d/c"))
    os.rmdir(os.path.join(root, "d"))
    _, v = session_build(cfg, roots, LIST)
    assert v["ls:d"] is None


def test_fingerprints_are_xxh3(tmp_path):
    import xxhash

    from promptgen.engine import fingerprint

    raw = b"some \xc3\xa9 text\r\n"
    write(str(tmp_path / "f"), raw)
    r = build(str(tmp_path), echo_roots("f"), ECHO_RULES)
    assert r.fingerprints["file:f"] == xxhash.xxh3_64_hexdigest(raw)  # of the bytes, not the decoded text
    assert fingerprint.of_value({"b": 1, "a": [1, "é"]}) == fingerprint.of_value({"a": [1, "é"], "b": 1})
    assert r.fingerprints["echo:f"] == fingerprint.of_value(r.values["echo:f"])


@pytest.mark.parametrize("target", ["../../nowhere", "../nowhere", "loop"])
def test_dangling_link_where_nothing_was(tmp_path, target):
    """Regression (found by the slow property test): a file recorded as missing
    had the stamp None, and so had a dangling link created in its place later —
    the stamps matched and the link was never read, although a clean build reads
    a link out of the root as "outside_root"."""
    root = str(tmp_path / "w")
    os.makedirs(root)
    cfg = config(root, str(tmp_path / "store"))
    roots = echo_roots("cfg") + [NodeSpec("ls:d", "ls", ("dir:d",))]
    rules = dict(ECHO_RULES, **LIST)
    past_racy_window()
    session_build(cfg, roots, rules)
    os.symlink(target, os.path.join(root, "cfg"))
    os.symlink(target, os.path.join(root, "d"))
    out, values = session_build(cfg, roots, rules)
    assert values == all_values(build(root, roots, rules))
    if target == "../../nowhere":
        assert values["echo:cfg"] == "!outside_root"
    past_racy_window()
    session_build(cfg, roots, rules)
    out, values = session_build(cfg, roots, rules)  # and it settles into a no-op
    assert out.result.mode == "noop" and values == all_values(build(root, roots, rules))
    os.unlink(os.path.join(root, "cfg"))
    write(os.path.join(root, "cfg"), "real")
    out, values = session_build(cfg, roots, rules)
    assert values["echo:cfg"] == "real"
