"""The implicit hypergradient against finite differences of a solved problem."""

import pytest
import torch
import torch.nn.functional as F

from skimbal.callbacks._hypergradient import neumann_hypergradient
from skimbal.losses._vs import _vs_loss

N_FEATURES, N_CLASSES, RIDGE = 3, 3, 0.1


@pytest.fixture(scope="module")
def problem():
    generator = torch.Generator().manual_seed(0)
    y_train = torch.tensor([0] * 30 + [1] * 10 + [2] * 4)
    y_valid = torch.tensor([0] * 10 + [1] * 10 + [2] * 10)

    def features(y):
        noise = torch.randn(
            len(y), N_FEATURES, generator=generator, dtype=torch.float64
        )
        return noise + torch.eye(N_CLASSES, N_FEATURES, dtype=torch.float64)[y]

    return features(y_train), y_train, features(y_valid), y_valid


def train_loss(problem, weights, hyper):
    X, y, _, _ = problem
    log_scaling, offset, log_weight = hyper
    W, b = weights
    per_sample = _vs_loss(X @ W + b, y, log_scaling.exp(), offset, None, "none")
    w = log_weight.exp()[y]
    # A ridge term makes the training loss strongly convex: w*(lam) is unique
    # and smooth, as the implicit function theorem needs.
    ridge = RIDGE / 2 * (W.pow(2).sum() + b.pow(2).sum())
    return (per_sample * w).sum() / w.sum() + ridge


def valid_loss(problem, weights):
    _, _, X, y = problem
    W, b = weights
    counts = torch.bincount(y, minlength=N_CLASSES).to(X.dtype)
    return F.cross_entropy(X @ W + b, y, weight=1 / counts)


def solve(problem, hyper):
    """The training loss's minimiser, to machine precision."""
    weights = [
        torch.zeros(N_FEATURES, N_CLASSES, dtype=torch.float64, requires_grad=True),
        torch.zeros(N_CLASSES, dtype=torch.float64, requires_grad=True),
    ]
    optimizer = torch.optim.LBFGS(
        weights,
        lr=1.0,
        max_iter=1000,
        tolerance_grad=1e-13,
        tolerance_change=1e-16,
        line_search_fn="strong_wolfe",
    )

    def closure():
        optimizer.zero_grad()
        loss = train_loss(problem, weights, [h.detach() for h in hyper])
        loss.backward()
        return loss

    optimizer.step(closure)
    return weights


HYPER = [
    torch.tensor([0.0, -0.4, -0.9], dtype=torch.float64),  # log Delta
    torch.tensor([-0.3, -1.2, -2.0], dtype=torch.float64),  # iota
    torch.tensor([0.0, 0.3, 0.8], dtype=torch.float64),  # log weight
]


def test_matches_finite_differences_of_the_solved_problem(problem):
    hyper = [h.clone().requires_grad_(True) for h in HYPER]
    weights = solve(problem, hyper)
    gradients = neumann_hypergradient(
        train_loss(problem, weights, hyper),
        valid_loss(problem, weights),
        weights,
        hyper,
        n_terms=3000,
        step=0.2,
    )
    eps = 1e-5
    for which, (base, gradient) in enumerate(zip(HYPER, gradients, strict=True)):
        numeric = torch.empty_like(base)
        for i in range(len(base)):
            values = []
            for sign in (1, -1):
                moved = [h.clone() for h in HYPER]
                moved[which][i] += sign * eps
                values.append(valid_loss(problem, solve(problem, moved)).item())
            numeric[i] = (values[0] - values[1]) / (2 * eps)
        torch.testing.assert_close(gradient, numeric, rtol=1e-4, atol=1e-7)
        assert numeric.abs().max() > 1e-3  # a real signal, not two zeros


def test_the_papers_five_terms_point_the_same_way(problem):
    # The authors' setting (5 terms, step 1) is a rough inverse Hessian, yet
    # its hypergradient is a descent direction of the validation loss.
    hyper = [h.clone().requires_grad_(True) for h in HYPER]
    weights = solve(problem, hyper)
    args = (
        train_loss(problem, weights, hyper),
        valid_loss(problem, weights),
        weights,
        hyper,
    )
    exact = torch.cat(neumann_hypergradient(*args, n_terms=3000, step=0.2))
    args = (train_loss(problem, weights, hyper), *args[1:])
    rough = torch.cat(neumann_hypergradient(*args, n_terms=5, step=1.0))
    assert F.cosine_similarity(exact, rough, dim=0) > 0.9


def test_direct_dependence_of_the_validation_loss_is_added():
    w = torch.tensor(0.5, requires_grad=True)
    lam = torch.tensor(1.0, requires_grad=True)
    train = (w - 1) ** 2 / 2 + lam * w**2 / 2
    valid = (w - 2) ** 2 / 2 + 3 * lam
    [gradient] = neumann_hypergradient(train, valid, [w], [lam], n_terms=60, step=0.5)
    assert gradient.item() == pytest.approx(0.375 + 3.0)


def test_weights_the_training_loss_does_not_reach_drop_out():
    w, unused = torch.tensor(0.5, requires_grad=True), torch.ones(2, requires_grad=True)
    lam = torch.tensor(1.0, requires_grad=True)
    train = (w - 1) ** 2 / 2 + lam * w**2 / 2
    valid = (w - 2) ** 2 / 2
    [gradient] = neumann_hypergradient(
        train, valid, [w, unused], [lam], n_terms=60, step=0.5
    )
    assert gradient.item() == pytest.approx(0.375)


def implicit_by_direct_solve(problem, weights, hyper):
    """-(d2 L_T / dlam dw)^T H^-1 dL_V/dw with the full Hessian, solved exactly."""
    grads = torch.autograd.grad(
        train_loss(problem, weights, hyper), weights, create_graph=True
    )
    flat = torch.cat([g.flatten() for g in grads])
    hessian = torch.stack(
        [
            torch.cat(
                [
                    h.flatten()
                    for h in torch.autograd.grad(g, weights, retain_graph=True)
                ]
            )
            for g in flat
        ]
    )
    mixed = torch.stack(
        [
            torch.cat(
                [m.flatten() for m in torch.autograd.grad(g, hyper, retain_graph=True)]
            )
            for g in flat
        ]
    )
    v = torch.cat(
        [
            g.flatten()
            for g in torch.autograd.grad(valid_loss(problem, weights), weights)
        ]
    )
    return -(mixed.T @ torch.linalg.solve(hessian, v)).detach()


def test_auto_step_converges_where_the_papers_step_diverges(problem):
    # Features 4x larger: lambda_max(H) ~ 16x larger, beyond the 2 / alpha = 2
    # that the authors' alpha = 1 allows.
    stiff = (4 * problem[0], problem[1], 4 * problem[2], problem[3])
    hyper = [h.clone().requires_grad_(True) for h in HYPER]
    weights = solve(stiff, hyper)

    def hypergradient(**kwargs):
        train = train_loss(stiff, weights, hyper)
        grads = neumann_hypergradient(
            train, valid_loss(stiff, weights), weights, hyper, **kwargs
        )
        return torch.cat(grads)

    exact = implicit_by_direct_solve(stiff, weights, hyper)
    auto = hypergradient(n_terms=5000, step="auto", power_iterations=50)
    torch.testing.assert_close(auto, exact, rtol=1e-4, atol=1e-8)
    papers = hypergradient(n_terms=5, step=1.0)
    assert papers.norm() > 100 * exact.norm()  # the series blew up
    rough = hypergradient(n_terms=5, step="auto")
    assert rough.norm() < 10 * exact.norm()
    assert F.cosine_similarity(exact, rough, dim=0) > 0.5
