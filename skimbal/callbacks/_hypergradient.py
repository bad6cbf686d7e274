"""Hypergradient of a validation loss by the implicit function theorem.

AutoBalance (Li et al., 2021) follows Lorraine et al. (2020): at weights
``w`` that (approximately) minimise the training loss ``L_T(w, lam)``, the
total derivative of the validation loss ``L_V(w*(lam), lam)`` is::

    dL_V/dlam = dL_V/dlam|direct - (d2 L_T / dlam dw) H^-1 dL_V/dw

with ``H`` the Hessian of ``L_T`` in ``w``. The inverse-Hessian-vector
product is approximated by ``K`` terms of the Neumann series,
``H^-1 v ~ alpha * sum_{j=0..K} (I - alpha H)^j v``, as the authors'
``neumann_hyperstep_preconditioner`` does (``K=5``, ``alpha=1``).
Every product with ``H`` or with the mixed derivative is a Hessian-vector
product through autograd: no matrix is ever formed.

The series converges only for ``alpha < 2 / lambda_max(H)``. The authors fix
``alpha=1``; on skimbal's default network the curvature is larger, the
terms grow by orders of magnitude and the hypergradient is noise (norms of
1e6 to 1e9, measured on the long-tailed MNIST study). ``step="auto"``
therefore estimates ``lambda_max`` by power iteration with the same
Hessian-vector products and takes ``alpha = 1 / lambda_max``.
"""

import torch

__all__ = ["neumann_hypergradient"]


def neumann_hypergradient(
    train_loss,
    valid_loss,
    params,
    hyper_params,
    *,
    n_terms=5,
    step="auto",
    power_iterations=10,
):
    """Approximate the gradient of a validation loss in loss hyper-parameters.

    Parameters
    ----------
    train_loss : Tensor
        Scalar training loss, a differentiable function of ``params`` and
        ``hyper_params``.
    valid_loss : Tensor
        Scalar validation loss, a differentiable function of ``params`` (and
        possibly of ``hyper_params`` directly).
    params : list of Tensor
        The model weights ``w`` (leaves requiring grad).
    hyper_params : list of Tensor
        The hyper-parameters ``lam`` (leaves requiring grad).
    n_terms : int, default=5
        Neumann terms after the first; ``0`` keeps ``alpha * v`` only, the
        one-step (unrolled) approximation.
    step : float or "auto", default="auto"
        ``alpha`` of the series; it converges when ``alpha`` is below
        ``2 / lambda_max(H)``. ``"auto"`` is ``1 / lambda_max(H)``, estimated
        by ``power_iterations`` steps of power iteration; the authors' code
        uses ``1.0``.
    power_iterations : int, default=10
        Hessian-vector products spent on estimating ``lambda_max(H)`` for
        ``step="auto"``.

    Returns
    -------
    hypergradient : list of Tensor
        One detached tensor per entry of ``hyper_params``.

    References
    ----------
    .. [1] J. Lorraine, P. Vicol, D. Duvenaud, "Optimizing Millions of
       Hyperparameters by Implicit Differentiation", AISTATS 2020.
       https://arxiv.org/abs/1911.02590
    .. [2] M. Li, X. Zhang, C. Thrampoulidis, J. Chen, S. Oymak,
       "AutoBalance: Optimized Loss Functions for Imbalanced Data", NeurIPS
       2021. https://arxiv.org/abs/2201.01212

    Examples
    --------
    Ridge regression in one weight, ``L_T = (w - 1)^2 / 2 + lam * w^2 / 2``
    and ``L_V = (w - 2)^2 / 2``: ``w* = 1 / (1 + lam)``, so at ``lam = 1``
    ``dL_V/dlam = -(w* - 2) / (1 + lam)^2 = 0.375``:

    >>> import torch
    >>> from skimbal.callbacks._hypergradient import neumann_hypergradient
    >>> lam = torch.tensor(1.0, requires_grad=True)
    >>> w = torch.tensor(0.5, requires_grad=True)   # w*(1)
    >>> train = (w - 1) ** 2 / 2 + lam * w**2 / 2
    >>> valid = (w - 2) ** 2 / 2
    >>> [g] = neumann_hypergradient(train, valid, [w], [lam], n_terms=50, step=0.5)
    >>> round(g.item(), 6)
    0.375
    """
    valid_grads = _grads(valid_loss, params, retain_graph=True)
    direct = _grads(valid_loss, hyper_params)
    train_grads = torch.autograd.grad(
        train_loss, params, create_graph=True, allow_unused=True
    )
    # Weights the training loss does not reach have no curvature and no
    # mixed derivative: they drop out of every product below.
    linked = [i for i, g in enumerate(train_grads) if g is not None]
    train_grads = [train_grads[i] for i in linked]
    linked_params = [params[i] for i in linked]
    term = [valid_grads[i] for i in linked]
    if isinstance(step, str) and step == "auto":
        step = 1.0 / _largest_curvature(
            train_grads, linked_params, term, power_iterations
        )
    total = list(term)
    for _ in range(n_terms):
        hessian_term = _grads_of(train_grads, linked_params, term)
        term = [t - step * h for t, h in zip(term, hessian_term, strict=True)]
        total = [s + t for s, t in zip(total, term, strict=True)]
    preconditioned = [step * s for s in total]
    mixed = _grads_of(train_grads, hyper_params, preconditioned)
    return [(d - m).detach() for d, m in zip(direct, mixed, strict=True)]


def _largest_curvature(train_grads, params, start, n_iterations):
    """``|lambda|_max`` of the Hessian by power iteration from ``start``.

    Returns ``||H u||`` for the last unit vector ``u``, which tends to the
    largest eigenvalue magnitude from below; a tiny floor keeps ``1 / it``
    finite where the training loss is flat.
    """
    vector = start
    estimate = 0.0
    for _ in range(n_iterations):
        norm = torch.sqrt(sum((v * v).sum() for v in vector))
        if norm == 0:
            break
        unit = [v / norm for v in vector]
        vector = _grads_of(train_grads, params, unit)
        estimate = float(torch.sqrt(sum((v * v).sum() for v in vector)))
    return max(estimate, 1e-8)


def _grads(loss, inputs, *, retain_graph=False):
    """Gradients of ``loss``, detached, with zeros for inputs it does not reach."""
    grads = torch.autograd.grad(
        loss, inputs, retain_graph=retain_graph, allow_unused=True
    )
    return [
        torch.zeros_like(x) if g is None else g.detach()
        for x, g in zip(inputs, grads, strict=True)
    ]


def _grads_of(outputs, inputs, vectors):
    """Vector-Jacobian product of ``outputs`` (kept for reuse), zeros if unreached."""
    grads = torch.autograd.grad(
        outputs, inputs, grad_outputs=vectors, retain_graph=True, allow_unused=True
    )
    return [
        torch.zeros_like(x) if g is None else g.detach()
        for x, g in zip(inputs, grads, strict=True)
    ]
