"""Binary cross-entropy at saturation (issue 14, part 1): the loss E and the output's
δ = ∂E/∂o against exact values (mpmath, 60 digits) for z in [-800, 800], float64 and
float32, through the shared scalar functions and every kernel that reports them."""
import math

import mpmath
import numpy as np
import pytest
from numba import njit

import neurosim as ns
from neurosim.kernels import neuron as _scalar
from neurosim.kernels import cpu as K

mpmath.mp.dps = 60
DTYPES = [np.float64, np.float32]
TARGETS = [0.0, 1.0, 0.25, 0.5, 0.9]
ZS = np.unique(np.concatenate([
    np.linspace(-800, 800, 321), np.linspace(-40, 40, 161), [-745.5, -709.9, -709.7, -88.8,
    -88.7, -1e-8, 0.0, 1e-8, 1e-3, 36.7, 37.0, 88.7, 88.8, 709.7, 709.9, 745.5]]))


def exact(z, t):
    """(E, δ) of a sigmoid output with net input z under bce, to 60 digits."""
    z, t = mpmath.mpf(float(z)), mpmath.mpf(float(t))
    E = t * mpmath.log1p(mpmath.exp(-z)) + (1 - t) * mpmath.log1p(mpmath.exp(z))
    d = -t * (1 + mpmath.exp(-z)) + (1 - t) * (1 + mpmath.exp(z))
    # the size of the terms δ is a difference of: its condition number in t (below)
    scale = t * (1 + mpmath.exp(-z)) + (1 - t) * (1 + mpmath.exp(z))
    return E, d, scale


def rounded(v, dtype):
    """An mpmath value rounded to ``dtype`` (inf past its range)."""
    f = float(v) if abs(v) < mpmath.mpf("1.7976931348623157e308") else math.copysign(math.inf, v)
    with np.errstate(over="ignore"):
        return float(np.asarray(f, dtype=dtype))


def close(got, want, dtype, ulps=4, scale=None):
    """got == want to ``ulps`` units of ``dtype`` (relative to ``scale`` when given)."""
    want_r = rounded(want, dtype)
    if math.isinf(want_r):
        return got == want_r
    eps = float(np.finfo(dtype).eps)
    tiny = float(np.finfo(dtype).smallest_subnormal)
    ref = abs(float(want)) if scale is None else float(scale)
    return abs(got - float(want)) <= ulps * eps * ref + tiny


@njit        # no cache: a cached caller would keep an old inlined neuron.py
def _both(z, t):
    return _scalar.bce_loss(z, t), _scalar.bce_delta(z, t)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t", TARGETS)
def test_scalar_loss_and_delta_are_exact(dtype, t):
    bad = []
    for z in ZS.astype(dtype):
        E, d = _both(z, dtype(t))
        Ex, dx, scale = exact(z, dtype(t))
        # E: a few float64 ulps (computed in float64 whatever the dtype)
        if not close(E, Ex, np.float64):
            bad.append(("E", float(z), E, float(Ex)))
        # δ as stored in the network's dtype; for 0 < t < 1 relative to the terms' size
        with np.errstate(over="ignore"):
            ds = float(np.asarray(d, dtype=dtype))
        if not close(ds, dx, dtype, scale=None if t in (0.0, 1.0) else scale):
            bad.append(("delta", float(z), ds, float(dx)))
    assert not bad, bad[:5]


def test_the_issues_cases():
    """The values quoted in issue 14."""
    f64, f32 = np.float64, np.float32
    assert _both(f64(50), f64(1))[1] == -1.0
    assert _both(f64(50), f64(0))[1] == pytest.approx(5.184705528587072e21, rel=1e-15)
    assert _both(f64(-800), f64(0))[1] == 1.0
    assert _both(f64(30), f64(0))[1] == pytest.approx(float(1 + mpmath.exp(30)), rel=1e-15)
    assert float(f32(_both(f32(30), f32(0))[1])) == pytest.approx(1.0686474581524463e13,
                                                                 rel=1e-7)
    assert _both(f64(30), f64(1))[0] == pytest.approx(9.357622968840175e-14, rel=1e-14)
    assert _both(f64(50), f64(1))[0] == pytest.approx(1.9287498479639178e-22, rel=1e-14)
    assert _both(f64(800), f64(1)) == (0.0, -1.0)
    assert _both(f64(-800), f64(1)) == (800.0, -math.inf)     # the truth, past float64
    assert _both(f64(math.inf), f64(1)) == (0.0, -1.0)        # no 0 * inf = NaN
    assert _both(f64(-math.inf), f64(0)) == (0.0, 1.0)
    assert all(math.isnan(v) for v in _both(f64(math.nan), f64(1)))


def test_python_path_matches_compiled():
    """The CUDA simulator runs the scalar functions as Python: no OverflowError there, and
    the same bits as the compiled code."""
    for z in ZS:
        for t in TARGETS:
            py = (_scalar.bce_loss.py_func(np.float64(z), np.float64(t)),
                  _scalar.bce_delta.py_func(np.float64(z), np.float64(t)))
            assert py == _both(np.float64(z), np.float64(t))


def one_output(dtype=np.float64):
    """X -> O (sigmoid, bce), weight 1, bias weight 0: O's z is the input."""
    net = ns.Network.from_edges([("X", "O", 1.0), ("b", "O", 0.0)], inputs=["X"],
                                outputs=["O"], loss="bce", bias="b", dtype=dtype)
    return net


@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_reports_exact_delta_and_error(dtype):
    zs = [-800.0, -50.0, -30.0, -1.0, 0.0, 2.0, 30.0, 50.0, 800.0]
    for t in (0.0, 1.0):
        for z in zs:
            net = one_output(dtype)
            ns.forward(net, [z])
            E = ns.backward(net, [t])
            Ex, dx, _ = exact(dtype(z), t)
            assert close(E, Ex, np.float64), (z, t, E, Ex)
            assert close(float(net.delta("O")), dx, dtype), (z, t, net.delta("O"), dx)
            o = float(np.asarray(1 / (1 + mpmath.exp(-mpmath.mpf(z))), dtype=float))
            assert float(net.dedz[net.neuron("O")]) == pytest.approx(float(dtype(o) - dtype(t)),
                                                           abs=float(np.finfo(dtype).eps))


@pytest.mark.parametrize("dtype", DTYPES)
def test_evaluate_and_trace_use_the_same_formulas(dtype):
    net = one_output(dtype)
    X = np.array([[-800.0], [-30.0], [0.5], [30.0], [50.0]])
    y = np.array([1.0, 0.0, 1.0, 1.0, 1.0])
    E, _ = ns.evaluate(net, X, y)
    want = sum(float(exact(dtype(x), t)[0]) for x, t in zip(X[:, 0], y)) / len(y)
    assert E == pytest.approx(want, rel=1e-14)
    tr = ns.trace(net, [50.0], [0.0])
    assert tr.neuron("O").delta == pytest.approx(float(np.asarray(1 + math.exp(50), dtype)),
                                                 rel=1e-6)
    assert tr.error == pytest.approx(50.0, rel=1e-14)


def test_error_curve_slope_is_delta():
    net = one_output()
    c = ns.error_curve(net, [50.0], [0.0], "O")
    assert c.slope == pytest.approx(1 + math.exp(50), rel=1e-15)
    c = ns.error_curve(net, [50.0], [1.0], "O")
    assert c.slope == -1.0


def test_training_is_unchanged_where_not_saturated():
    """Weight updates use dE/dz = o − t, as before: the same weights as the reference
    arithmetic (w -= lr · o_src · (o − t)) bit for bit."""
    net = one_output()
    X = np.array([[0.3], [-1.2], [2.0]])
    y = np.array([1.0, 0.0, 1.0])
    w = net.weights.copy()
    for x, t in zip(X[:, 0], y):
        z = w[0] * x + w[1] * 1.0
        o = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
        g = o - t
        w[0] -= 0.5 * g * x
        w[1] -= 0.5 * g * 1.0
    ns.train(net, X, y, lr=0.5, epochs=1, shuffle=False)
    assert np.array_equal(net.weights, w)


def test_cuda_simulator_reports_the_same_bits():
    pytest.importorskip("numba.cuda")
    import neurosim.backends.cuda  # noqa: F401  (the simulator: see conftest.py)
    for dtype in DTYPES:
        for z in (-800.0, 50.0, 800.0):
            for t in (0.0, 1.0):
                a, b = one_output(dtype), one_output(dtype)
                ns.forward(a, [z])
                ns.forward(b, [z], device="cuda")
                Ea = ns.backward(a, [t])
                Eb = ns.backward(b, [t], device="cuda")
                assert Ea == Eb and a.delta("O") == b.delta("O"), (dtype, z, t)


def test_output_deltas_kernel_directly_float32():
    """The kernel stores δ in the network's dtype: float32 overflows to inf only past
    float32's range (z = 88.8), not at z = 30 as before."""
    act = np.array([0, 0, _scalar.SIGMOID], np.int8)
    outputs = np.array([2])
    for z, want_inf in ((30.0, False), (88.0, False), (88.8, True)):
        zz = np.array([0, 1, z], np.float32)
        out = np.array([0, 1, 1 / (1 + math.exp(-z))], np.float32)
        delta = np.zeros(3, np.float32)
        g = np.zeros(3, np.float32)
        K.output_deltas(_scalar.BCE, act, outputs, zz, out, np.zeros(1, np.float32), delta, g)
        assert math.isinf(delta[2]) == want_inf
        if not want_inf:
            assert delta[2] == pytest.approx(1 + math.exp(float(np.float32(z))), rel=1e-7)
