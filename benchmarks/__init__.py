"""Benchmarks for dotfiles-container-manager, run with one command::

    CONTAINERS_CONF=/etc/containers/containers.conf .venv/bin/python -m benchmarks

It measures, on docker and on podman, in one run (interleaved, medians, ratios):

1. the overhead of each read operation against the same raw CLI argv via ``subprocess.run``;
2. how many CLI processes each public call starts (through a counting shim);
3. the import cost of the package (fresh interpreters, wall time and ``-X importtime``);
4. build-context throughput and peak memory (10,000 small files; one 256 MiB file);
5. streaming: the first line of ``stream_logs`` against raw ``logs -f``, and a build with
   ``progress=`` against one without;
6. peers (python-on-whales, docker-py) doing the same work, when the ``bench`` extra is
   installed.

It prints a markdown table and writes it to ``benchmarks/results/latest.md`` (``--out``
chooses another file, e.g. ``docs/performance.md``). Everything it creates carries the label
``dcm-bench=1`` (and ``dcm-bench-run=<run id>``) and is removed at the end, also on error
or Ctrl-C.
"""
