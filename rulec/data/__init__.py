"""Datasets that work offline (datasets.py), the IDX reader, synthetic tasks, the paper's transforms, and the error
for bad or missing data (errors.py)."""
