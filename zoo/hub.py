"""TensorFlow Hub modules as Keras 3 layers, and zoo encoders written as Hub modules.

`hub.KerasLayer` is a Keras 2 (tf_keras) layer: a Keras 3 `Sequential` refuses it and a
functional model cannot call it (measured with TensorFlow 2.21 and Keras 3). `HubEncoder` is a
Keras 3 layer that holds `hub.load(handle)` and registers each of the module's variables as a Keras
variable (on the TensorFlow backend the Keras variable wraps the module's own variable,
so training it trains the module), so any Keras optimizer trains them, `trainable`
freezes them, and `.keras` files and `save_weights` keep them. The layer's config holds
only the handle: loading a `.keras` file opens the module again from the handle, then
restores the variables from the file; no code is read from the file.

A SavedModel is a graph, and calling it runs that graph's ops. So a `.keras` file must
never choose which graph zoo opens: when Keras deserializes a `HubEncoder` in safe mode
(the default of `keras.models.load_model`), its handle must be on the trust list that
the user controls in code (`trust(path)`) or in the environment (`ZOO_TRUSTED_HUB`, whose
format `zoo.saving` describes); otherwise loading stops before the module is opened. A
relative handle in a file means a path beside the file, never in the working directory.
A URL is never fetched while loading a file: a trusted URL loads only from the local
TF Hub cache. Building a `HubEncoder` in code is the user's own choice and needs no
trust; rebuilding one from its config does (a file or a clone: both go through
`from_config`). Keras (3.15) has no public way to read whether it is loading in safe mode,
so the check holds under `safe_mode=False` too, and the trust list is the one opt-out.

`export_encoder(model_or_layer, path)` writes a zoo model (or any Keras model or layer)
as a TF2 SavedModel that `hub.load` and `HubEncoder` open.
"""

import hashlib
import os
import re
import warnings
from pathlib import Path

import keras
import tensorflow as tf

from zoo import backend
from zoo.files import check_path_text, shown
from zoo.saving import (TRUST_ENV, TrustError, file_handle, is_trusted, is_url as _is_url, trust,
                         trusted, untrust)

_NO_NETWORK_HINT = (
    "No network is needed for a local copy: pass the SavedModel folder as the handle, or "
    "put the module under $TFHUB_CACHE_DIR (tensorflow_hub looks there first for a URL)."
)


def _hub():
    with warnings.catch_warnings():
        # tensorflow_hub 0.16 imports pkg_resources, whose deprecation notice says nothing
        # a zoo user can act on.
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated",
                                category=UserWarning)
        import tensorflow_hub as hub

    return hub


def _cached_url(handle):
    """The TF Hub cache folder of a URL handle, or None when it is not cached."""
    try:
        resolver = _hub().resolver

        cache = resolver.tfhub_cache_dir()
        if not cache:
            return None
        folder = Path(cache) / hashlib.sha1(handle.encode("utf8")).hexdigest()
    except Exception:  # an unusual tensorflow_hub: treat the URL as not cached
        return None
    return str(folder) if (folder / "saved_model.pb").is_file() else None


def load_module(handle):
    """`hub.load(handle)` with errors that say what to do.

    Raises:
        ValueError: a missing path, a URL that cannot be fetched, a folder without a
            SavedModel.
    """
    backend.require("A TensorFlow Hub module (zoo.hub)")
    if not isinstance(handle, (str, os.PathLike)):
        raise TypeError(f"A hub handle is a path or a URL. Received: {handle!r}")
    handle = check_path_text(os.fspath(handle), "hub handle")
    is_url = _is_url(handle)
    if not is_url and not os.path.exists(handle):
        raise ValueError(f"No SavedModel at {shown(handle)!r}: the path does not exist.")
    if not is_url and not os.path.isfile(os.path.join(handle, "saved_model.pb")):
        raise ValueError(f"{shown(handle)!r} is not a SavedModel folder (no saved_model.pb in "
                         "it).")
    try:
        # Text modules (the MiniLM export) use TensorFlow Text's tokenizer ops, which must
        # be registered before loading.
        import tensorflow_text  # noqa: F401
    except ImportError:
        pass
    try:
        return _hub().load(handle)
    except Exception as error:  # tensorflow_hub raises many kinds for a failed download
        if is_url:
            raise ValueError(
                f"Could not load {shown(handle)!r} ({type(error).__name__}: {error}). "
                + _NO_NETWORK_HINT
            ) from error
        raise


def _endpoint(module, endpoint, handle):
    if endpoint is None:
        if callable(module):
            return module
        signatures = list(getattr(module, "signatures", {}) or {})
        if hasattr(module, "serve"):
            return module.serve
        if signatures:
            return module.signatures[signatures[0]]
        raise ValueError(
            f"The module at {handle!r} has no callable endpoint (no __call__, no `serve`, "
            "no signatures)."
        )
    function = getattr(module, endpoint, None)
    if function is None and endpoint in (getattr(module, "signatures", {}) or {}):
        function = module.signatures[endpoint]
    if function is None or not callable(function):
        available = [n for n in ("__call__", "serve") if hasattr(module, n)] + list(
            getattr(module, "signatures", {}) or {})
        raise ValueError(
            f"The module at {handle!r} has no endpoint {endpoint!r}. "
            f"Available: {', '.join(available) or 'none'}."
        )
    return function


def _input_specs(function):
    specs = getattr(function, "structured_input_signature", None)
    if specs is None and hasattr(function, "concrete_functions"):
        concrete = function.concrete_functions
        specs = concrete[0].structured_input_signature if concrete else None
    if not specs:
        return []
    args, kwargs = specs
    return [s for s in tf.nest.flatten((args, kwargs)) if isinstance(s, tf.TensorSpec)]


@keras.saving.register_keras_serializable(package="zoo")
class HubEncoder(keras.layers.Layer):
    """A TensorFlow Hub module (TF2 SavedModel) as a Keras 3 layer.

    Args:
        handle: a local SavedModel folder, or a URL resolved through `hub.load` (offline,
            it must already be in `$TFHUB_CACHE_DIR`).
        trainable: bool, default False. Whether the module's trainable variables train.
        endpoint: None to call the module itself (or its `serve` endpoint, or its first
            signature); or an attribute or signature name.
        output_key: for a module returning a dict: which entry to return. Default: the
            only entry, or `"default"`, or `"pooled_output"` when present.
        train_only: None, or a regular expression: when trainable, only the module's
            variables whose names match it train, e.g. `"transformer_layer_[45]"` for
            the top two blocks of the MiniLM module. Settable between stages; set on a
            frozen layer, it takes effect when the layer is made trainable (for example
            by the next `fit_stages` stage that unfreezes it).

    Call arguments:
        inputs: what the module takes: strings for a sentence encoder, float tensors for
            a sequence encoder.

    Example:

    ```python
    encoder = zoo.hub.HubEncoder("path/to/saved_model", trainable=False)
    model = keras.Sequential([keras.Input((), dtype="string"), encoder, keras.layers.Dense(1)])
    ```
    """

    def __init__(self, handle, trainable=False, endpoint=None, output_key=None, train_only=None,
                 **kwargs):
        backend.require("zoo.hub.HubEncoder (a TensorFlow Hub SavedModel)")
        self._train_only = train_only
        source = kwargs.pop("_source", None)
        super().__init__(trainable=trainable, **kwargs)
        if not isinstance(handle, (str, os.PathLike)):
            raise TypeError(f"A hub handle is a path or a URL. Received: {handle!r}")
        self.handle = os.fspath(handle)
        self.endpoint = endpoint
        self.output_key = output_key
        self._module = load_module(source or self.handle)
        self._function = _endpoint(self._module, endpoint, self.handle)
        specs = _input_specs(getattr(self._function, "__call__", self._function)
                             if self._function is self._module else self._function)
        self._input_dtype = specs[0].dtype if len(specs) == 1 else None
        trainable_refs = {v.ref() for v in getattr(self._module, "trainable_variables", [])}
        self._hub_variables = []
        self._module_trainable = []
        for variable in getattr(self._module, "variables", []):
            name = variable.name.split(":")[0].replace("/", "_")
            learnable = variable.ref() in trainable_refs
            self._module_trainable.append(learnable)
            self._hub_variables.append(keras.Variable(variable, name=name, trainable=False))
        self._apply_trainable()
        self.built = True

    @property
    def train_only(self):
        return self._train_only

    @train_only.setter
    def train_only(self, pattern):
        if pattern is not None:
            re.compile(pattern)
        self._train_only = pattern
        self._apply_trainable()

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        # Keras's setter only reaches variables created trainable; the module's variables
        # follow the layer here, the module's own non-trainable ones (statistics) never train.
        self._trainable = bool(value)
        self._apply_trainable()

    def _apply_trainable(self):
        pattern = getattr(self, "_train_only", None)
        for variable, learnable in zip(getattr(self, "_hub_variables", []),
                                       getattr(self, "_module_trainable", [])):
            wanted = pattern is None or re.search(pattern, variable.name) is not None
            variable.trainable = self._trainable and learnable and wanted

    def call(self, inputs, training=False):
        if self._input_dtype is not None:
            given = tf.as_dtype(getattr(inputs, "dtype", tf.float32))
            if given.is_floating != self._input_dtype.is_floating or (
                    (given == tf.string) != (self._input_dtype == tf.string)):
                raise ValueError(
                    f"The module at {self.handle!r} takes {self._input_dtype.name} inputs; "
                    f"received {given.name}."
                )
            inputs = tf.cast(inputs, self._input_dtype) if given != tf.string else inputs
        outputs = self._function(inputs)
        if isinstance(outputs, dict):
            outputs = outputs[self._pick(outputs)]
        return outputs

    def _pick(self, outputs):
        if self.output_key is not None:
            if self.output_key not in outputs:
                raise ValueError(
                    f"The module's outputs have no key {self.output_key!r}. "
                    f"Keys: {', '.join(sorted(outputs))}.")
            return self.output_key
        if len(outputs) == 1:
            return next(iter(outputs))
        for key in ("default", "pooled_output", "output_0"):
            if key in outputs:
                return key
        raise ValueError(
            f"The module returns several outputs ({', '.join(sorted(outputs))}): pass "
            "`output_key`.")

    def get_config(self):
        config = {"handle": self.handle, "endpoint": self.endpoint, "output_key": self.output_key,
                  "train_only": self.train_only}
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config):
        """Rebuilds the layer from a config (a model file, `keras.models.clone_model`) for
        a module on the trust list only. Keras exposes no public way to tell whether it is
        loading in safe mode, so `safe_mode=False` does not lift the check."""
        config = dict(config)
        config.pop("_source", None)  # set only here, never taken from a file
        handle = config.get("handle")
        if not isinstance(handle, str) or not handle:
            raise ValueError(f"A HubEncoder config needs a handle string. Received: {handle!r}")
        resolved = file_handle(check_path_text(handle, "hub handle"))
        if not is_trusted(resolved):
            written = "" if resolved == handle else f" (written {shown(handle, 30)!r})"
            raise TrustError(
                f"Hub module {shown(resolved)}{written} of a file or clone is not on zoo's "
                "hub trust list (opening it runs its graph): trust it with zoo.hub.trust, "
                f"{TRUST_ENV} or --trust-hub.")
        if _is_url(resolved):
            cached = _cached_url(resolved)
            if cached is None:
                raise TrustError(
                    f"This model file names the hub URL {shown(handle)}: URLs are never fetched "
                    "while loading a file, and it is not in the TF Hub cache "
                    "($TFHUB_CACHE_DIR). Open it once in code with "
                    f"zoo.hub.HubEncoder({shown(handle)!r}), or use a local copy."
                )
            config["_source"] = cached
        else:
            config["_source"] = resolved
        return cls(**config)


def export_encoder(model_or_layer, path, input_signature=None):
    """Writes a Keras model or layer as a TF2 SavedModel that `hub.load` opens.

    The SavedModel (written by `keras.export.ExportArchive`) has a `serve` endpoint and
    lists its `variables` and `trainable_variables`, so `HubEncoder(path, trainable=True)`
    can fine-tune it.

    Args:
        model_or_layer: a built Keras model or layer, e.g. the trunk of a trained zoo model.
        path: folder to write (must not exist yet).
        input_signature: a `tf.TensorSpec` (or list) of the inputs; default from the
            model's inputs.

    Returns:
        `path`.
    """
    if os.path.exists(path):
        raise ValueError(f"{path!r} exists; export_encoder writes a new folder.")
    if input_signature is None:
        inputs = getattr(model_or_layer, "inputs", None)
        if not inputs:
            raise ValueError("Pass `input_signature`: the layer has no known inputs.")
        input_signature = [tf.TensorSpec(tuple(t.shape), t.dtype, name=t.name) for t in inputs]
    if isinstance(input_signature, tf.TensorSpec):
        input_signature = [input_signature]
    archive = keras.export.ExportArchive()
    archive.track(model_or_layer)
    archive.add_endpoint("serve", lambda *args: model_or_layer(*args, training=False),
                         input_signature=list(input_signature))
    tmp = f"{os.fspath(path).rstrip(os.sep)}.partial"
    archive.write_out(tmp, verbose=False)
    os.replace(tmp, path)
    return path
