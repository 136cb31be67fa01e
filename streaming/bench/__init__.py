"""Benchmarks (`f1 bench`): each figure measured from outside the pipeline, printed with its unit."""
