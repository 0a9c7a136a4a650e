"""Test support shared by the whole suite: free ports, real server processes, and the
rule that a missing server skips locally but fails in CI."""
