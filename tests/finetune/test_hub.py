"""HubEncoder over modules the tests export themselves; export_encoder round trips."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
import zoo.finetune as ft
from zoo.hub import HubEncoder, export_encoder


def sentence_module():
    """A tiny string encoder: hashed words, an embedding table, mean over words. The root
    lists its variables, as a reusable hub module must."""
    root = tf.train.Checkpoint()
    root.table = tf.Variable(tf.random.stateless_normal((64, 4), seed=(1, 2)), name="table")

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def encode(sentences):
        ids = tf.strings.to_hash_bucket_fast(tf.strings.split(sentences), 64)
        return tf.reduce_mean(tf.gather(root.table, ids), axis=1)

    root.__call__ = encode
    root.variables = [root.table]
    root.trainable_variables = [root.table]
    return root


@pytest.fixture(scope="module")
def sentence_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("hub") / "sentences")
    tf.saved_model.save(sentence_module(), path)
    return path


@pytest.fixture(scope="module")
def sequence_path(tmp_path_factory):
    keras.utils.set_random_seed(0)
    encoder = keras.Sequential([keras.Input((None, 3)), keras.layers.GRU(5, name="gru"),
                                keras.layers.Dense(4, name="proj")])
    path = str(tmp_path_factory.mktemp("hub") / "sequences")
    export_encoder(encoder, path)
    return path, encoder


def test_exported_zoo_encoder_loads_with_hub_and_gives_the_same_outputs(sequence_path):
    import tensorflow_hub as hub

    path, encoder = sequence_path
    x = np.random.default_rng(0).normal(size=(2, 7, 3)).astype("float32")
    module = hub.load(path)
    np.testing.assert_allclose(module.serve(x).numpy(), encoder(x).numpy(), atol=1e-6)
    assert len(module.trainable_variables) == len(encoder.trainable_weights)
    layer = HubEncoder(path)
    np.testing.assert_allclose(layer(x).numpy(), encoder(x).numpy(), atol=1e-6)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_trainable_encoder_trains_and_frozen_one_does_not(sequence_path, kind):
    path, _ = sequence_path
    x = np.random.default_rng(1).normal(size=(16, 7, 3)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None]
    for trainable in (True, False):
        encoder = HubEncoder(path, trainable=trainable)
        if kind == "sequential":
            model = keras.Sequential([keras.Input((None, 3)), encoder, keras.layers.Dense(1)])
        else:
            inputs = keras.Input((None, 3))
            model = keras.Model(inputs, keras.layers.Dense(1)(encoder(inputs)))
        before = [v.numpy().copy() for v in encoder.weights]
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        model.fit(x, y, epochs=2, verbose=0)
        changed = [not np.array_equal(b, v.numpy()) for b, v in zip(before, encoder.weights)]
        assert any(changed) == trainable, (kind, trainable)


def test_string_encoder_in_sequential_follows_freeze_and_stages(sentence_path):
    encoder = HubEncoder(sentence_path, trainable=True, name="encoder")
    model = keras.Sequential([keras.Input((), dtype="string"), encoder,
                              keras.layers.Dense(1, name="head")])
    model.compile(optimizer="adam", loss="mse")
    x = np.array(["a good film", "a bad film", "good good", "bad"] * 4)
    y = np.array([1.0, -1.0, 1.0, -1.0] * 4, dtype="float32")[:, None]
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    before = encoder.weights[0].numpy().copy()
    ft.fit_stages(model, data, stages=[ft.Stage(2, trainable="head", learning_rate=1e-2)], verbose=0)
    np.testing.assert_array_equal(before, encoder.weights[0].numpy())
    ft.fit_stages(model, data, stages=[ft.Stage(2, trainable="all", learning_rate=1e-2)], verbose=0)
    assert not np.array_equal(before, encoder.weights[0].numpy())
    table = ft.trainable_summary(model).set_index("layer")
    assert table.loc["encoder", "trainable"] == 64 * 4


def test_keras_file_and_weights_round_trip(sequence_path, tmp_path):
    path, _ = sequence_path
    x = np.random.default_rng(2).normal(size=(3, 7, 3)).astype("float32")
    model = keras.Sequential([keras.Input((None, 3)), HubEncoder(path, trainable=True),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.ones((3, 1)), epochs=1, verbose=0)  # move the module's variables
    file = tmp_path / "m.keras"
    model.save(file)
    with pytest.raises(ValueError, match="trust list"):
        keras.models.load_model(file)  # safe mode: the file may not choose the module
    zoo.hub.trust(path)
    try:
        loaded = keras.models.load_model(file)
    finally:
        zoo.hub.untrust(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    weights = tmp_path / "m.weights.h5"
    model.save_weights(weights)
    fresh = keras.Sequential([keras.Input((None, 3)), HubEncoder(path, trainable=True),
                              keras.layers.Dense(1)])
    fresh.load_weights(weights)
    np.testing.assert_allclose(fresh.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_model_with_encoder_exports_and_reloads_with_hub(sequence_path, tmp_path):
    import tensorflow_hub as hub

    path, _ = sequence_path
    model = keras.Sequential([keras.Input((7, 3)), HubEncoder(path), keras.layers.Dense(2)])
    x = np.random.default_rng(3).normal(size=(2, 7, 3)).astype("float32")
    out = str(tmp_path / "exported")
    model.export(out, verbose=False)
    reloaded = hub.load(out)
    np.testing.assert_allclose(reloaded.serve(x).numpy(), model.predict(x, verbose=0), atol=1e-5)


def test_hub_keras_layer_still_fails_in_a_keras_3_model(sequence_path):
    """Upstream's hub.KerasLayer is a Keras 2 layer; when this starts passing, tell users."""
    import tensorflow_hub as hub

    path, _ = sequence_path
    with pytest.raises((TypeError, ValueError)):
        keras.Sequential([keras.Input((7, 3)), hub.KerasLayer(path)])
    keras.Sequential([keras.Input((7, 3)), HubEncoder(path)])  # the same module works


def test_bad_handles_and_inputs_are_reported(sequence_path, sentence_path, tmp_path, monkeypatch):
    path, _ = sequence_path
    with pytest.raises(ValueError, match="does not exist"):
        HubEncoder(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a SavedModel"):
        HubEncoder(str(tmp_path / "empty"))
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="TFHUB_CACHE_DIR"):
        HubEncoder("https://tfhub.dev/nobody/nothing/1")
    with pytest.raises(ValueError, match="no endpoint 'encode'"):
        HubEncoder(path, endpoint="encode")
    bare = str(tmp_path / "bare")
    tf.saved_model.save(tf.Module(), bare)
    with pytest.raises(ValueError, match="no callable endpoint"):
        HubEncoder(bare)
    with pytest.raises(ValueError, match="takes string inputs; received float32"):
        HubEncoder(sentence_path)(np.zeros((2,), "float32"))
    with pytest.raises(ValueError, match="takes float32 inputs; received string"):
        HubEncoder(path)(tf.constant([["a", "b"]]))
    with pytest.raises(ValueError, match="exists"):
        export_encoder(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]), path)
    assert os.path.isdir(path)


def test_train_only_limits_which_module_variables_train(sequence_path):
    path, _ = sequence_path
    encoder = HubEncoder(path, trainable=True, train_only="proj")
    names = sorted(v.name for v in encoder.trainable_weights)
    assert len(names) == 2 and names[0].endswith("proj_bias") and names[1].endswith("proj_kernel")
    encoder.train_only = None
    assert len(encoder.trainable_weights) == 5
    encoder.trainable = False
    assert encoder.trainable_weights == []
    config = HubEncoder(path, train_only="gru").get_config()
    zoo.hub.trust(path)  # a config names a graph, like a file: rebuilt from the trust list only
    try:
        assert HubEncoder.from_config(config).train_only == "gru"
    finally:
        zoo.hub.untrust(path)


def test_a_url_loads_offline_from_the_cache_directory(sequence_path, tmp_path, monkeypatch):
    import hashlib
    import shutil

    path, encoder = sequence_path
    url = "https://tfhub.dev/zoo/tests/sequence-encoder/1"
    cache = tmp_path / "cache"
    shutil.copytree(path, cache / hashlib.sha1(url.encode()).hexdigest())
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    x = np.random.default_rng(4).normal(size=(2, 7, 3)).astype("float32")
    np.testing.assert_allclose(HubEncoder(url)(x).numpy(), encoder(x).numpy(), atol=1e-6)


# -- trust: a model file never chooses which graph zoo opens --------------------------------
HOSTILE = """
import sys, keras, numpy as np, tensorflow as tf, zoo
class E(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def __call__(self, x):
        tf.io.write_file(sys.argv[3], "owned")
        return x
tf.saved_model.save(E(), sys.argv[1])
keras.Sequential([keras.Input((3,)), zoo.hub.HubEncoder(sys.argv[1])]).save(sys.argv[2])
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A SavedModel whose function writes a file, inside a `.keras` file, made by another
    process (so nothing in this one has opened the module)."""
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("hostile")
    module, file, victim = folder / "sm", folder / "m.keras", folder / "owned.txt"
    subprocess.run([sys.executable, "-c", HOSTILE, str(module), str(file), str(victim)],
                   check=True, timeout=300)
    assert not victim.exists()
    return module, file, victim


def test_hostile_module_in_a_keras_file_is_refused_in_safe_mode(hostile, monkeypatch):
    module, file, victim = hostile
    monkeypatch.delenv(zoo.hub.TRUST_ENV, raising=False)
    with pytest.raises(ValueError, match=f"{module}.*trust list.*zoo.hub.trust"):
        keras.models.load_model(file)
    assert not victim.exists()


def test_trusted_module_loads_from_code_and_environment(hostile, monkeypatch):
    module, file, victim = hostile
    monkeypatch.setenv(zoo.hub.TRUST_ENV, str(module.parent))  # a folder trusts what is below
    model = keras.models.load_model(file)
    model.predict(np.ones((1, 3), "float32"), verbose=0)
    assert victim.exists()  # the user chose to run it
    victim.unlink()
    monkeypatch.delenv(zoo.hub.TRUST_ENV)
    assert not zoo.hub.is_trusted(module)
    zoo.hub.trust(module)
    try:
        assert zoo.hub.is_trusted(str(module) + "/")
        keras.models.load_model(file)
    finally:
        zoo.hub.untrust(module)
    assert not zoo.hub.is_trusted(module)


def test_safe_mode_false_does_not_open_an_untrusted_module(hostile, monkeypatch):
    """Keras has no public reader of its safe-mode state, so the trust list holds for every
    rebuilt HubEncoder: `safe_mode=False` and a clone of a model built in code included."""
    module, file, victim = hostile
    monkeypatch.setattr(zoo.saving, "_TRUSTED", [])
    monkeypatch.delenv(zoo.hub.TRUST_ENV, raising=False)
    with pytest.raises(ValueError, match=f"{module}.*trust list.*zoo.hub.trust"):
        keras.models.load_model(file, safe_mode=False)
    assert not victim.exists()
    zoo.hub.trust(module)
    try:
        model = keras.models.load_model(file, safe_mode=False)
    finally:
        zoo.hub.untrust(module)
    victim.unlink(missing_ok=True)
    with pytest.raises(ValueError, match="file or clone is not on.*trust list"):
        keras.models.clone_model(model)
    assert not victim.exists()


def test_url_handles_are_never_fetched_while_loading_a_file(tmp_path, monkeypatch):
    import json
    import zipfile

    file = tmp_path / "url.keras"
    layer = {"module": "zoo.hub", "class_name": "HubEncoder", "registered_name": "zoo>HubEncoder",
             "config": {"name": "enc", "handle": "https://example.invalid/m/1", "endpoint": None,
                        "output_key": None, "train_only": None, "trainable": False}}
    config = {"module": "keras", "class_name": "Sequential", "registered_name": None,
              "config": {"name": "s", "layers": [
                  {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
                   "config": {"batch_shape": [None, 3], "dtype": "float32", "name": "in"}},
                  layer]}}
    with zipfile.ZipFile(file, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", json.dumps({"keras_version": keras.__version__}))
    monkeypatch.delenv(zoo.hub.TRUST_ENV, raising=False)
    with pytest.raises(ValueError, match="example.invalid.*trust list"):
        keras.models.load_model(file)
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    zoo.hub.trust("https://example.invalid/m/1")
    try:
        with pytest.raises(ValueError, match="never fetched"):
            keras.models.load_model(file)
    finally:
        zoo.hub.untrust("https://example.invalid/m/1")


def test_a_file_cannot_pick_the_module_behind_a_trusted_handle(hostile, sequence_path):
    module, _, victim = hostile
    path, _ = sequence_path
    layer = HubEncoder(path)
    config = {**layer.get_config(), "_source": str(module)}
    from keras.src.saving.serialization_lib import SafeModeScope

    zoo.hub.trust(path)
    try:
        with SafeModeScope(True):
            rebuilt = HubEncoder.from_config(config)
    finally:
        zoo.hub.untrust(path)
    assert rebuilt._module is not None
    rebuilt(np.ones((1, 2, 3), "float32"))
    assert not victim.exists()


def test_cli_verbs_refuse_the_hostile_file_unless_trusted(hostile, tmp_path, capsys, monkeypatch):
    from zoo.cli import main

    module, file, victim = hostile
    monkeypatch.delenv(zoo.hub.TRUST_ENV, raising=False)
    monkeypatch.setattr(zoo.saving, "_TRUSTED", [])
    for verb in (["evaluate", str(file), "--data", "recola_like"],
                 ["recognize", str(file), "--data", "BasicMotions", "--out", str(tmp_path)]):
        assert main(verb) == 2
        err = capsys.readouterr().err
        assert "trust list" in err and "--trust-hub" in err and err.count("\n") == 1
        assert not victim.exists()
    # Trusted on the command line, the file loads (and recognize then says what it holds).
    assert main(["recognize", str(file), "--data", "BasicMotions", "--out", str(tmp_path),
                 "--trust-hub", str(module)]) == 2
    assert "not an RNNPB" in capsys.readouterr().err


# -- the trust list's format, and relative handles ----------------------------------------------
@pytest.mark.parametrize("text, sep, expected", [
    ("https://tfhub.dev/google/probe/1", ":", ["https://tfhub.dev/google/probe/1"]),
    ("https://h:8080/m/1:/srv/mods:gs://b/m", ":", ["https://h:8080/m/1", "/srv/mods", "gs://b/m"]),
    ("https://a/m:https://b/m:./here:../up:~/mods", ":",
     ["https://a/m", "https://b/m", "./here", "../up", "~/mods"]),
    ("/srv/a:rel/b:https://x/m", ":", ["/srv/a", "rel/b", "https://x/m"]),
    ("C:\\hub\\mods:D:/other:https://x/m", ":", ["C:\\hub\\mods", "D:/other", "https://x/m"]),
    ("C:\\hub\\mods;https://x/m;D:\\b", ";", ["C:\\hub\\mods", "https://x/m", "D:\\b"]),
    ("https://x/m\n/srv/a\n\n  ./b  ", ":", ["https://x/m", "/srv/a", "./b"]),
    ("::", ":", []),
])
def test_the_trust_list_keeps_urls_and_drive_letters_whole(text, sep, expected):
    assert zoo.saving.split_trust_list(text, sep=sep) == expected


def _renamed_handle(file, handle, dest):
    """A copy of `file` whose HubEncoder names `handle` (as a hostile file would)."""
    import json
    import zipfile

    with zipfile.ZipFile(file) as source, zipfile.ZipFile(dest, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                for layer in config["config"]["layers"]:
                    if layer["class_name"] == "HubEncoder":
                        layer["config"]["handle"] = handle
                data = json.dumps(config)
            target.writestr(item, data)
    return dest


def test_a_trusted_url_in_the_environment_trusts_no_local_folder(hostile, tmp_path, capsys,
                                                                   monkeypatch):
    """ZOO_TRUSTED_HUB=https://... once split at ':' and trusted a folder named `https`."""
    import shutil

    from zoo.cli import main

    module, file, victim = hostile
    monkeypatch.setattr(zoo.saving, "_TRUSTED", [])
    monkeypatch.setenv(zoo.hub.TRUST_ENV, "https://tfhub.dev/google/probe/1")
    assert zoo.hub.trusted() == ["https://tfhub.dev/google/probe/1"]
    work = tmp_path / "work"
    shutil.copytree(module, work / "https")
    monkeypatch.chdir(work)
    for handle in ("./https", "https"):
        crafted = _renamed_handle(file, handle, tmp_path / f"crafted{len(handle)}.keras")
        shutil.copy(crafted, work / crafted.name)  # beside the folder, too
        for path in (crafted, work / crafted.name):
            with pytest.raises(ValueError, match="relative hub handle"):
                keras.models.load_model(path)
            with pytest.raises(ValueError, match="trust list"):
                zoo.load_model(path)
            assert main(["evaluate", str(path), "--data", "recola_like"]) == 2
            err = capsys.readouterr().err
            assert "trust list" in err and err.count("\n") == 1
    assert not victim.exists()


def test_a_relative_handle_means_beside_the_file_never_the_working_directory(
        hostile, sequence_path, tmp_path, monkeypatch):
    import shutil

    module, _, victim = hostile
    path, encoder = sequence_path
    monkeypatch.setattr(zoo.saving, "_TRUSTED", [])
    monkeypatch.delenv(zoo.hub.TRUST_ENV, raising=False)
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    shutil.copytree(path, project / "modules" / "enc")
    shutil.copytree(module, elsewhere / "modules" / "enc")  # the hostile one, in the cwd
    model = keras.Sequential([keras.Input((None, 3)), HubEncoder(project / "modules" / "enc")])
    model.save(tmp_path / "abs.keras")
    file = _renamed_handle(tmp_path / "abs.keras", "modules/enc", project / "model.keras")
    monkeypatch.chdir(elsewhere)
    zoo.hub.trust(project / "modules")
    try:
        loaded = zoo.load_model(file)
        x = np.random.default_rng(2).normal(size=(1, 4, 3)).astype("float32")
        np.testing.assert_allclose(loaded(x).numpy(), encoder(x).numpy(), atol=1e-6)
        with pytest.raises(ValueError, match="relative hub handle.*zoo.load_model"):
            keras.models.load_model(file)
    finally:
        zoo.hub.untrust(project / "modules")
    assert not victim.exists()
    # ../ out of the file's folder: the module it reaches must itself be trusted.
    escaping = _renamed_handle(tmp_path / "abs.keras", "../elsewhere/modules/enc",
                               project / "escaping.keras")
    zoo.hub.trust(project)
    try:
        with pytest.raises(ValueError, match="not on zoo's hub trust list"):
            zoo.load_model(escaping)
    finally:
        zoo.hub.untrust(project)
    assert not victim.exists()


def test_a_symlink_out_of_a_trusted_folder_is_not_trusted(hostile, tmp_path, monkeypatch):
    module, file, victim = hostile
    monkeypatch.setattr(zoo.saving, "_TRUSTED", [])
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    (trusted / "link").symlink_to(module, target_is_directory=True)
    monkeypatch.setenv(zoo.hub.TRUST_ENV, str(trusted))
    assert not zoo.hub.is_trusted(trusted / "link")
    crafted = _renamed_handle(file, str(trusted / "link"), tmp_path / "link.keras")
    with pytest.raises(ValueError, match="not on zoo's hub trust list"):
        zoo.load_model(crafted)
    assert not victim.exists()


def test_load_model_trusts_a_handle_for_that_file_only(hostile, monkeypatch):
    module, file, victim = hostile
    monkeypatch.setattr(zoo.saving, "_TRUSTED", [])
    monkeypatch.delenv(zoo.hub.TRUST_ENV, raising=False)
    zoo.load_model(file, trust_hub=[module])
    assert zoo.hub.trusted() == []
    with pytest.raises(ValueError, match="trust list"):
        zoo.load_model(file)
    victim.unlink(missing_ok=True)


def test_a_url_trusted_in_the_environment_loads_from_the_cache(sequence_path, tmp_path,
                                                              monkeypatch):
    """The URL, whole on the list, is trusted; the file opens the cached copy, no fetch."""
    import hashlib
    import shutil

    path, encoder = sequence_path
    url = "https://tfhub.dev/zoo/tests/sequence-encoder/1"
    shutil.copytree(path, tmp_path / "cache" / hashlib.sha1(url.encode()).hexdigest())
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(zoo.saving, "_TRUSTED", [])
    keras.Sequential([keras.Input((None, 3)), HubEncoder(url)]).save(tmp_path / "url.keras")
    monkeypatch.setenv(zoo.hub.TRUST_ENV, f"/nowhere{os.pathsep}{url}")
    x = np.random.default_rng(5).normal(size=(1, 4, 3)).astype("float32")
    for load in (zoo.load_model, keras.models.load_model):
        np.testing.assert_allclose(load(tmp_path / "url.keras")(x).numpy(), encoder(x).numpy(),
                                   atol=1e-6)
