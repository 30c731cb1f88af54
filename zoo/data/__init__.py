"""Data: AVEC 2016-layout recordings, acoustic features, generated corpora."""

from zoo.data import synthetic
from zoo.data.avec import Corpus, load_avec, read_table, save_avec
from zoo.data.features import log_mel, stack_frames, znorm

__all__ = ["Corpus", "load_avec", "read_table", "save_avec", "log_mel", "stack_frames",
           "znorm", "synthetic"]
