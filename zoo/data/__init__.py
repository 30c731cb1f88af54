"""Data: AVEC 2016-layout recordings, acoustic features, bundled labelled sets and texts, generated
corpora, sharded corpora streamed from disk, and converted real sets (spoken digits, HAPT).

Each name imports its module when first read (`zoo._lazy`): `zoo.data.uea.BUNDLED` needs no
TensorFlow.
"""

from zoo._lazy import attach as _attach

_WHERE = {
    "avec": ("Corpus", "load_avec", "read_table", "save_avec"),
    "chorales": ("Chorales", "load_chorales"),
    "datasets": ("data_home", "load_hapt", "load_spoken_digits"),
    "digits": ("load_sequential_digits",),
    "features": ("log_mel", "stack_frames", "znorm"),
    "mnist": ("load_mnist_sequences",),
    "packing": ("pack",),
    "sequences": ("PaddingWarning", "pad"),
    "shards": ("ShardError", "read_index", "stream"),
    "texts": ("load_play", "load_shakespeare"),
    "uea": ("LabelledSequences", "load_uea", "read_ts"),
    "vader": ("ScoredTexts", "load_vader_movies"),
}

__getattr__, __dir__, __all__ = _attach(__name__, {
    "synthetic": "synthetic",
    **{module: module for module in (*_WHERE, "records", "scores")},
    **{name: f"{module}:{name}" for module, names in _WHERE.items() for name in names},
})
