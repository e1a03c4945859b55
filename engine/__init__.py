"""The generic incremental build engine: graph, fingerprints, store, rebuilder, explain.

It knows nothing about PLAN files: any graph of files and pure rules can be built
with it. This package imports nothing at module level so that the fast no-op path
(`promptgen.engine.fastpath`) stays cheap; import the submodule you need.
"""
