"""Speed-and-scale benchmarks for qa (not part of the package; run ``python -m bench.run``)."""
