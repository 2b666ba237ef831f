"""Machinery shared by every CLI-driven runtime: the command runner, error classification,
output parsing and the build-context tar stream."""
