"""What the trials mean: load results into a tidy table, summarise, compare (no torch models)."""

from .summary import summarize
from .tidy import final_rows, load_experiment

__all__ = ["final_rows", "load_experiment", "summarize"]
