"""Datasets that work offline, and the paper's transforms."""

from rulec.data.datasets import Dataset as Dataset
from rulec.data.datasets import load as load
from rulec.data.errors import DataError as DataError
