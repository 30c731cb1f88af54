"""The two PB update rules of the RNNPB paper (Zhong & Yang), in `keras.ops`.

Learning moves each training sequence's PB row by Adagrad (eqs. 6-7); recognition moves
a new sequence's PB by Adadelta (eqs. 8-10). Eqs. 6-7 divide by the root of the
accumulated squared gradient twice, which reads as a typesetting slip: `pb_adagrad` is
plain Adagrad with its own rate.
"""

from keras import ops

from zoo.validation import check_positive_float, check_rate


def pb_adagrad(pb, accumulator, grad, rate, epsilon):
    """Eqs. 6-7: `G += g^2; pb -= rate * g / sqrt(G + eps)`. Returns `(pb, G)`."""
    accumulator = accumulator + grad * grad
    return pb - rate * grad / ops.sqrt(accumulator + epsilon), accumulator


def adadelta(pb, mean_square_grad, mean_square_delta, grad, rho, epsilon, rate):
    """Eqs. 8-10 (Zeiler's Adadelta, lambda = `rho`). Returns the three new tensors."""
    mean_square_grad = rho * mean_square_grad + (1.0 - rho) * grad * grad
    delta = -ops.sqrt(mean_square_delta + epsilon) / ops.sqrt(mean_square_grad + epsilon) * grad
    mean_square_delta = rho * mean_square_delta + (1.0 - rho) * delta * delta
    return pb + rate * delta, mean_square_grad, mean_square_delta


def check_adadelta(rho, epsilon, learning_rate):
    """Recognition settings: `rho` in (0, 1), `epsilon` and `learning_rate` finite and > 0."""
    check_rate("rho", rho, closed_low=False)
    check_positive_float(epsilon=epsilon, learning_rate=learning_rate)
