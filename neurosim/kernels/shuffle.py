"""Epoch orders drawn exactly as ``numpy.random.Generator.permutation`` draws them, compiled.

``train`` reshuffles the samples every epoch with ``default_rng(seed).permutation(n)``;
NumPy spends about 15 ns a sample on it (a ``memcpy`` per swap), a fifth of the chapter
net's training epoch. :func:`permutations` runs the same algorithm -- NumPy's
Fisher-Yates ``shuffle`` of ``arange(n)`` with ``random_interval`` (masked rejection
sampling on the PCG64 bit generator's buffered 32-bit draws) -- on the generator's state,
so the orders and the generator's state afterwards are the same bits.
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_MUL = 0x2360ED051FC65DA44385DF649FCCF645         # PCG's default 128-bit multiplier
_M32 = np.uint64(0xFFFFFFFF)


@intrinsic
def _lcg(typingctx, hi, lo, ihi, ilo):
    """(hi, lo) of the 128-bit ``state * MUL + inc`` (mod 2**128), in LLVM's i128."""
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64, types.uint64,
                                          types.uint64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        i64 = ir.IntType(64)

        def wide(h, l_):
            return builder.or_(builder.shl(builder.zext(h, i128), ir.Constant(i128, 64)),
                               builder.zext(l_, i128))
        s = builder.add(builder.mul(wide(args[0], args[1]), ir.Constant(i128, _MUL)),
                        wide(args[2], args[3]))
        hi_ = builder.trunc(builder.lshr(s, ir.Constant(i128, 64)), i64)
        return context.make_tuple(builder, signature.return_type,
                                  (hi_, builder.trunc(s, i64)))
    return sig, codegen


@njit(cache=True, inline="always")
def _next64(st):
    """PCG64 (XSL-RR 128/64): step the LCG state ``st[0:2]`` (hi, lo) by ``st[2:4]``
    (the increment), then output from the new state."""
    hi2, lo2 = _lcg(st[0], st[1], st[2], st[3])
    st[0] = hi2
    st[1] = lo2
    x = hi2 ^ lo2
    r = hi2 >> np.uint64(58)
    return (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))


@njit(cache=True, inline="always")
def _next32(st):
    """NumPy's buffered 32-bit draw: the low half of a 64-bit draw, then its high half
    (``st[4]`` has_uint32, ``st[5]`` the buffered half)."""
    if st[4] != np.uint64(0):
        st[4] = np.uint64(0)
        return st[5]
    v = _next64(st)
    st[4] = np.uint64(1)
    st[5] = v >> np.uint64(32)
    return v & _M32


@njit(cache=True, nogil=True)
def permutations(st, out):
    """Fill each row of ``out`` (k, n) with ``Generator.permutation(n)`` drawn in turn from
    the PCG64 state ``st`` (uint64: state hi, lo, inc hi, lo, has_uint32, uinteger),
    which is advanced in place. Needs n <= 2**32 (NumPy's 32-bit branch)."""
    n = out.shape[1]
    for row in range(out.shape[0]):
        p = out[row]
        for i in range(n):
            p[i] = i
        for i in range(n - 1, 0, -1):
            mx = np.uint64(i)
            mask = mx
            mask |= mask >> np.uint64(1)
            mask |= mask >> np.uint64(2)
            mask |= mask >> np.uint64(4)
            mask |= mask >> np.uint64(8)
            mask |= mask >> np.uint64(16)
            mask |= mask >> np.uint64(32)
            v = _next32(st) & mask
            while v > mx:
                v = _next32(st) & mask
            j = np.int64(v)
            t = p[i]
            p[i] = p[j]
            p[j] = t


def draw(rng, n, k):
    """``np.stack([rng.permutation(n) for _ in range(k)])`` (int64, shape (k, n)), the same
    orders and the same generator state afterwards; NumPy itself draws them unless ``rng``
    runs on PCG64 and n fits NumPy's 32-bit branch."""
    out = np.empty((k, n), np.int64)
    bg = rng.bit_generator
    s = bg.state
    if s.get("bit_generator") != "PCG64" or not 1 < n <= 0xFFFFFFFF or k == 0:
        for r in range(k):
            out[r] = rng.permutation(n)
        return out
    m64 = (1 << 64) - 1
    a, c = s["state"]["state"], s["state"]["inc"]
    st = np.array([a >> 64, a & m64, c >> 64, c & m64, s["has_uint32"], s["uinteger"]],
                  dtype=np.uint64)
    permutations(st, out)
    h = [int(x) for x in st]
    state = {"state": (h[0] << 64) | h[1], "inc": (h[2] << 64) | h[3]}
    bg.state = {"bit_generator": "PCG64", "state": state, "has_uint32": h[4],
                "uinteger": h[5]}
    return out
