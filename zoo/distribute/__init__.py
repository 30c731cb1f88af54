"""Training on several devices of one machine, and on several machines.

One machine, several devices::

    with zoo.distribute.devices("all"):          # or devices(2)
        model = zoo.get("emotion_downup", input_dim=160, outputs=2)
        model.compile(optimizer="adam", loss=zoo.losses.CCCLoss())
        model.fit(zoo.data.stream("shards/", split="train", batch_size=8), epochs=30)

On TensorFlow this is `tf.distribute.MirroredStrategy` (build, compile and fit inside it);
on JAX, `keras.distribution.DataParallel`. Each batch is split over the devices and the
gradients summed, so N devices on a global batch of B give the loss, metrics and weights of
one device on the same B (to float tolerance; tested for the emotion regressors with
`CCCLoss`/`CCC`, the recurrent classifiers and the RNNPB).

Several machines go through JAX: `initialize()` joins this process to the others
(`jax.distributed`) and `devices("all")` then spans every process's devices. Each process
reads its own part of the data (`zoo.data.stream(..., workers=zoo.distribute.worker())`).
TensorFlow's multi-worker strategy does not work with Keras 3's `fit` (keras-team/keras
#20585), and zoo does not write a training loop of its own around it.
"""

from zoo.distribute import watch
from zoo.distribute.local import available, devices, pick, split_cpu
from zoo.distribute.processes import ENV, initialize, settings, worker
from zoo.distribute.rendezvous import DistributedError, Stopped, rendezvous

__all__ = ["DistributedError", "ENV", "Stopped", "available", "devices", "initialize", "pick",
           "rendezvous", "settings", "split_cpu", "watch", "worker"]
