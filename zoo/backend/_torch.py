"""`zoo.backend` on PyTorch: eager, differentiated with `torch.autograd.grad`."""

import contextlib
import torch


def float64_available():
    return True


def value_and_grad(fn, tensors, variables, model):
    leaves = [torch.as_tensor(t).detach().requires_grad_(True) for t in tensors]
    value, aux = fn(*leaves)
    targets = leaves + [v.value for v in variables]
    grads = torch.autograd.grad(value, targets, allow_unused=True)
    grads = [torch.zeros_like(t) if g is None else g for t, g in zip(targets, grads)]
    detach = lambda x: x.detach() if isinstance(x, torch.Tensor) else x  # noqa: E731
    aux = torch.utils._pytree.tree_map(detach, aux)
    return value.detach(), aux, grads[: len(leaves)], grads[len(leaves):]


def function(model, fn, jit):
    return fn


no_grad = torch.no_grad


def train_step(model, step, args):
    (data,) = args
    return step(data)


test_step = train_step


def replicas():
    return 1


def model_scope(model):
    return contextlib.nullcontext()


def all_gather(values):
    return values
