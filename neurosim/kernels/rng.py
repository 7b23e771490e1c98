"""NumPy's default generator inside compiled code: ``np.random.default_rng(seed)``
(SeedSequence -> PCG64) and its ``permutation(n)``, draw for draw, so that a kernel can
reshuffle every network's samples every epoch without returning to Python and give the
very orders ``neurosim.train`` gets from ``default_rng(seed).permutation(n)``.

A generator's state is six uint64 words ``[state_hi, state_lo, inc_hi, inc_lo,
has_uint32, uinteger]`` (PCG64's 128-bit state and increment, and the buffered upper half
of a 64-bit draw that NumPy's 32-bit draws use). The algorithms are NumPy's:
``SeedSequence`` (its hashmix / mix of 32-bit words, pool of 4, ``generate_state(4,
uint64)``), PCG64's seeding and XSL-RR output, ``random_interval`` (masked rejection,
32-bit draws below 2**32) and ``Generator.shuffle``'s Fisher-Yates from the last element.
tests/test_plan_many.py and tests/test_train_fast.py hold them to NumPy itself.
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

U = np.uint64
_M32 = U(0xFFFFFFFF)
_INIT_A, _MULT_A = U(0x43b0d7e5), U(0x931e8875)
_INIT_B, _MULT_B = U(0x8b51f9dd), U(0x58f38ded)
_MIX_L, _MIX_R = U(0xca01f9dd), U(0x4973f715)
_SH16, _SH32, _SH58, _SH64M = U(16), U(32), U(58), U(63)
_MUL_HI, _MUL_LO = U(0x2360ED051FC65DA4), U(0x4385DF649FCCF645)
_ZERO, _ONE = U(0), U(1)

#: words of a generator's state
STATE_WORDS = 6


@njit(cache=True, inline="always")
def _hashmix(v, hc):
    """SeedSequence's hashmix of the 32-bit word ``v``; returns (value, next hash const)."""
    v = v ^ hc
    hc = (hc * _MULT_A) & _M32
    v = (v * hc) & _M32
    return v ^ (v >> _SH16), hc


@njit(cache=True, inline="always")
def _mix(x, y):
    r = (_MIX_L * x - _MIX_R * y) & _M32
    return r ^ (r >> _SH16)


@intrinsic
def _mulhi(typingctx, a, b):
    """High 64 bits of the 128-bit product of two uint64 (one multiply instruction where
    the processor has one: LLVM's i128 product)."""
    sig = types.uint64(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        wide = ir.IntType(128)
        p = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(p, ir.Constant(wide, 64)), ir.IntType(64))
    return sig, codegen


@njit(cache=True, inline="always")
def _step(sh, sl, ih, il):
    """PCG64's state <- state * multiplier + increment (mod 2**128)."""
    lo = sl * _MUL_LO
    hi = _mulhi(sl, _MUL_LO) + sl * _MUL_HI + sh * _MUL_LO
    nlo = lo + il
    carry = _ONE if nlo < lo else _ZERO
    return hi + ih + carry, nlo


@njit(cache=True, nogil=True)
def seed(s, st, r):
    """``st[r]`` <- the state of ``np.random.default_rng(s)`` for an integer 0 <= s < 2**63."""
    v = U(s)
    ent0, ent1 = v & _M32, v >> _SH32
    n_ent = 2 if ent1 != _ZERO else 1
    pool = np.empty(4, np.uint64)
    hc = _INIT_A
    for i in range(4):
        w = ent0 if i == 0 else (ent1 if i == 1 and n_ent == 2 else _ZERO)
        pool[i], hc = _hashmix(w, hc)
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                h, hc = _hashmix(pool[i_src], hc)
                pool[i_dst] = _mix(pool[i_dst], h)
    words = np.empty(8, np.uint64)
    hb = _INIT_B
    for i in range(8):
        d = pool[i % 4] ^ hb
        hb = (hb * _MULT_B) & _M32
        d = (d * hb) & _M32
        words[i] = d ^ (d >> _SH16)
    # generate_state(4, uint64): little-endian pairs of 32-bit words
    s_hi, s_lo = words[0] | (words[1] << _SH32), words[2] | (words[3] << _SH32)
    q_hi, q_lo = words[4] | (words[5] << _SH32), words[6] | (words[7] << _SH32)
    # pcg_setseq_128_srandom_r: inc = seq << 1 | 1; step; state += initstate; step
    ih = (q_hi << _ONE) | (q_lo >> _SH64M)
    il = (q_lo << _ONE) | _ONE
    sh, sl = _step(_ZERO, _ZERO, ih, il)
    lo = sl + s_lo
    sh = sh + s_hi + (_ONE if lo < sl else _ZERO)
    sh, sl = _step(sh, lo, ih, il)
    st[r, 0], st[r, 1], st[r, 2], st[r, 3], st[r, 4], st[r, 5] = sh, sl, ih, il, _ZERO, _ZERO


@njit(cache=True, inline="always")
def next64(st, r):
    """PCG64's next 64-bit draw (XSL-RR of the stepped state) from generator row ``r``."""
    sh, sl = _step(st[r, 0], st[r, 1], st[r, 2], st[r, 3])
    st[r, 0], st[r, 1] = sh, sl
    x = sh ^ sl
    n = sh >> _SH58
    return (x >> n) | (x << ((U(64) - n) & _SH64M))


@njit(cache=True, inline="always")
def next32(st, r):
    """NumPy's 32-bit draw: the low half of a 64-bit draw, its high half kept for the next."""
    if st[r, 4] != _ZERO:
        st[r, 4] = _ZERO
        return st[r, 5]
    v = next64(st, r)
    st[r, 4] = _ONE
    st[r, 5] = v >> _SH32
    return v & _M32


@njit(cache=True, inline="always")
def interval(st, r, mx):
    """NumPy's ``random_interval``: uniform in 0..mx by masked rejection."""
    if mx == _ZERO:
        return _ZERO
    mask = mx
    mask |= mask >> U(1)
    mask |= mask >> U(2)
    mask |= mask >> U(4)
    mask |= mask >> U(8)
    mask |= mask >> _SH16
    mask |= mask >> _SH32
    if mx <= _M32:
        v = next32(st, r) & mask
        while v > mx:
            v = next32(st, r) & mask
    else:
        v = next64(st, r) & mask
        while v > mx:
            v = next64(st, r) & mask
    return v


@njit(cache=True, inline="always")
def permute_lanes(st, out, lanes, width, n):
    """For each generator row q < ``lanes``: ``out[s * width + q]`` (s = 0..n-1) <-
    ``default_rng``'s ``permutation(n)`` drawn from it: 0..n-1 shuffled as
    ``Generator.shuffle`` does (Fisher-Yates from the end, ``j = random_interval(i)``).
    The lanes' draws are interleaved (independent chains keep the core busy)."""
    for s in range(n):
        for q in range(lanes):
            out[s * width + q] = s
    for i in range(n - 1, 0, -1):
        for q in range(lanes):
            j = np.int64(interval(st, q, U(i)))
            a = out[i * width + q]
            out[i * width + q] = out[j * width + q]
            out[j * width + q] = a


@njit(cache=True, nogil=True)
def permutations(seeds, epochs, n):
    """``default_rng(seeds[k]).permutation(n)`` drawn ``epochs`` times for each k, as an
    (len(seeds), epochs, n) array."""
    out = np.empty((seeds.shape[0], epochs, n), np.int64)
    st = np.empty((1, STATE_WORDS), np.uint64)
    row = np.empty(n, np.int64)
    for k in range(seeds.shape[0]):
        seed(seeds[k], st, 0)
        for e in range(epochs):
            permute_lanes(st, row, 1, 1, n)
            out[k, e] = row
    return out


@njit(cache=True, nogil=True)
def draw_permutations(st, epochs, n):
    """The next ``epochs`` permutations of n from each generator row of ``st`` (advanced in
    place), as an (len(st), epochs, n) array."""
    out = np.empty((st.shape[0], epochs, n), np.int64)
    one = np.empty((1, STATE_WORDS), np.uint64)
    row = np.empty(n, np.int64)
    for k in range(st.shape[0]):
        for a in range(STATE_WORDS):
            one[0, a] = st[k, a]
        for e in range(epochs):
            permute_lanes(one, row, 1, 1, n)
            out[k, e] = row
        for a in range(STATE_WORDS):
            st[k, a] = one[0, a]
    return out


@njit(cache=True, inline="always")
def _out(sh, sl):
    x = sh ^ sl
    r = sh >> _SH58
    return (x >> r) | (x << ((U(64) - r) & _SH64M))


@njit(cache=True, nogil=True)
def shuffle_row(st, r, out, n):
    """``out[:n]`` <- ``permutation(n)`` drawn from generator row ``r`` of ``st`` (advanced
    in place): what :func:`permute_lanes` draws, the state held in registers."""
    sh, sl, ih, il = st[r, 0], st[r, 1], st[r, 2], st[r, 3]
    has, u = st[r, 4], st[r, 5]
    for s in range(n):
        out[s] = s
    for i in range(n - 1, 0, -1):
        mx = U(i)
        mask = mx
        mask |= mask >> U(1)
        mask |= mask >> U(2)
        mask |= mask >> U(4)
        mask |= mask >> U(8)
        mask |= mask >> _SH16
        mask |= mask >> _SH32
        while True:
            if mx <= _M32:
                if has != _ZERO:
                    has = _ZERO
                    v = u
                else:
                    sh, sl = _step(sh, sl, ih, il)
                    x = _out(sh, sl)
                    has = _ONE
                    u = x >> _SH32
                    v = x & _M32
            else:
                sh, sl = _step(sh, sl, ih, il)
                v = _out(sh, sl)
            v &= mask
            if v <= mx:
                break
        j = np.int64(v)
        a = out[i]
        out[i] = out[j]
        out[j] = a
    st[r, 0], st[r, 1], st[r, 4], st[r, 5] = sh, sl, has, u


@njit(cache=True, nogil=True)
def _draw_rows(st, out):
    for k in range(out.shape[0]):
        shuffle_row(st, 0, out[k], out.shape[1])


def draw(rng, n, k):
    """``np.stack([rng.permutation(n) for _ in range(k)])`` (int64, shape (k, n)), the same
    orders and the same state of ``rng`` afterwards, drawn in compiled code; NumPy itself
    draws them unless ``rng`` runs on PCG64 and 1 < n < 2**32."""
    out = np.empty((k, n), np.int64)
    bg = rng.bit_generator
    s = bg.state
    if s.get("bit_generator") != "PCG64" or not 1 < n <= 0xFFFFFFFF or k == 0:
        for r in range(k):
            out[r] = rng.permutation(n)
        return out
    m64 = (1 << 64) - 1
    a, c = s["state"]["state"], s["state"]["inc"]
    st = np.array([[a >> 64, a & m64, c >> 64, c & m64, s["has_uint32"], s["uinteger"]]],
                  dtype=np.uint64)
    _draw_rows(st, out)
    h = [int(x) for x in st[0]]
    bg.state = {"bit_generator": "PCG64",
                "state": {"state": (h[0] << 64) | h[1], "inc": (h[2] << 64) | h[3]},
                "has_uint32": h[4], "uinteger": h[5]}
    return out
