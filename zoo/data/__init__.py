"""Data: AVEC 2016-layout recordings, acoustic features, bundled labelled sets and texts, generated
corpora, sharded corpora streamed from disk, and converted real sets (spoken digits, HAPT)."""

from zoo.data import synthetic
from zoo.data.avec import Corpus, load_avec, read_table, save_avec
from zoo.data.chorales import Chorales, load_chorales
from zoo.data.datasets import data_home, load_hapt, load_spoken_digits
from zoo.data.digits import load_sequential_digits
from zoo.data.features import log_mel, stack_frames, znorm
from zoo.data.packing import pack
from zoo.data.shards import ShardError, read_index, stream
from zoo.data.texts import load_play, load_shakespeare
from zoo.data.uea import LabelledSequences, load_uea, read_ts
from zoo.data.vader import ScoredTexts, load_vader_movies

__all__ = ["Corpus", "load_avec", "read_table", "save_avec", "log_mel", "stack_frames",
           "znorm", "synthetic", "LabelledSequences", "load_uea", "read_ts", "ScoredTexts",
           "load_vader_movies", "load_play", "load_shakespeare", "Chorales", "load_chorales", "load_sequential_digits",
           "ShardError", "pack", "read_index", "stream", "data_home", "load_hapt",
           "load_spoken_digits"]
