#!/usr/bin/env python3
"""Checks that `fusejit run` computes what numpy computes.

Usage: run_matches_numpy.py FUSEJIT_BINARY

Each case is a `.fj` program, seeded numpy inputs (written as .npy files and
passed with --input), and the same computation written in numpy. The outputs
that `fusejit run --out DIR` writes are compared with numpy's:

  exact   f64 elementwise: bit-identical, NaN in the same places
  ulp     f64 elementwise with exp, log, tanh, sigmoid or pow: within 2 ulp of
          numpy, NaN in the same places. numpy 1.24 uses its own SIMD versions
          of these on AVX-512 CPUs, which differ from the C library's (and from
          the correctly rounded value) in the last bit; + - * / sqrt and the
          other ops are correctly rounded everywhere, so they stay bit-exact.
  close   f64 with reductions or matmul: rtol = atol = 1e-12
  f32     f32 elementwise: rtol = atol = 1e-6
  f32red  f32 with reductions or matmul: rtol = atol = 1e-5 * sqrt(reduction length)

Dtype and shape must match exactly. Negative cases check that bad inputs and
malformed programs exit 2 with a useful message.

Prints `ok   NAME` or `FAIL NAME: REASON` per case, then `N passed, M failed`;
exits 1 if any case failed.
"""

import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

rng = np.random.default_rng(20240601)
# Integer inputs draw from their own generator, so that adding an integer
# case leaves every float case's inputs as they were.
int_rng = np.random.default_rng(20261202)


# ---- input generators --------------------------------------------------------

def u(*shape, lo=-1.0, hi=1.0, dtype=np.float64):
    """Uniform values in [lo, hi); `u()` is a 0-d array."""
    return np.asarray(rng.uniform(lo, hi, size=shape)).astype(dtype)


def pos(*shape, dtype=np.float64):
    """Positive values, for log, sqrt, pow and inv."""
    return u(*shape, lo=0.1, hi=3.0, dtype=dtype)


def f32(*shape, lo=-1.0, hi=1.0):
    return u(*shape, lo=lo, hi=hi, dtype=np.float32)


def ints(*shape, lo=-9, hi=9, dtype=np.int32, nonzero=False):
    """Integers in [lo, hi]; with `nonzero`, 0 is replaced by 1 (divisors)."""
    x = int_rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)
    return np.where(x == 0, dtype(1), x) if nonzero else x


def with_nans(x, every=3):
    x = x.copy()
    x.flat[::every] = np.nan
    return x


# ---- numpy spellings of fusejit ops ------------------------------------------

def relu(x):
    return np.where(np.isnan(x) | (x > 0), x, x.dtype.type(0))


def sigmoid(x):
    one = x.dtype.type(1)
    return one / (one + np.exp(-x))


def cmp(result, like):
    """A comparison as fusejit gives it: bool, as numpy's."""
    return np.asarray(result)


def mean(x, axis=None, keepdims=False):
    """sum / count, as fusejit computes it (the mean of nothing is NaN)."""
    axes = range(x.ndim) if axis is None else np.atleast_1d(axis)
    count = math.prod(x.shape[a] for a in axes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(x, axis=axis, keepdims=keepdims) / x.dtype.type(count)


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def f32_ops(x, y, p):
    """The numpy side of the "f32 unary and binary ops" case."""
    one, two, four = np.float32(1), np.float32(2), np.float32(4)
    u = -x + np.exp(x) + relu(x) + sigmoid(x) + np.tanh(x) + np.abs(x)
    v = np.log(p) + np.sqrt(p) + one / p + np.power(p, y)
    w = -x * two + y / four - np.float32(1e-3) + np.maximum(x, y) - np.minimum(x, np.float32(0))
    c = np.where(x > y, u, v) + cmp(x < y, x) * cmp(x == y, x)
    return dict(u=u, v=v, w=w, c=c, lt=cmp(x < y, x))


# ---- the cases ---------------------------------------------------------------
# case(name, kind, program, inputs, expected): `inputs` maps input names to
# arrays; `expected` takes the inputs as keyword arguments and returns a dict
# from every output name to its numpy value. `reduce_len` (f32red) is the
# longest reduction, which scales the tolerance.

def case(name, kind, program, inputs, expected, reduce_len=1):
    return dict(name=name, kind=kind, program=program, inputs=inputs, expected=expected,
                reduce_len=reduce_len)


X45, P45, Y45 = u(4, 5, lo=-3, hi=3), pos(4, 5), u(4, 5, lo=-3, hi=3)

CASES = [
    # -- elementwise, f64
    case("unary ops: neg relu sqrt abs inv, unary minus", "exact", """
x = input f64[4, 5]
p = input f64[4, 5]
r_neg = neg(x)
r_relu = relu(x)
r_sqrt = sqrt(p)
r_abs = abs(x)
r_inv = inv(p)
r_minus = -x
out r_neg, r_relu, r_sqrt, r_abs, r_inv, r_minus
""", dict(x=X45, p=P45),
         lambda x, p: dict(r_neg=-x, r_relu=relu(x), r_sqrt=np.sqrt(p), r_abs=np.abs(x),
                           r_inv=1.0 / p, r_minus=-x)),
    case("unary ops: exp log sigmoid tanh", "ulp", """
x = input f64[4, 5]
p = input f64[4, 5]
r_exp = exp(x)
r_log = log(p)
r_sigmoid = sigmoid(x)
r_tanh = tanh(x)
out r_exp, r_log, r_sigmoid, r_tanh
""", dict(x=X45, p=P45),
         lambda x, p: dict(r_exp=np.exp(x), r_log=np.log(p), r_sigmoid=sigmoid(x),
                           r_tanh=np.tanh(x))),
    case("binary ops", "exact", """
x = input f64[4, 5]
y = input f64[4, 5]
r_add = x + y
r_sub = x - y
r_mul = x * y
r_div = x / y
r_max = maximum(x, y)
r_min = minimum(x, y)
r_lit = x * 2 + 0.5 - y / 4
out r_add, r_sub, r_mul, r_div, r_max, r_min, r_lit
""", dict(x=X45, y=Y45),
         lambda x, y: dict(r_add=x + y, r_sub=x - y, r_mul=x * y, r_div=x / y,
                           r_max=np.maximum(x, y), r_min=np.minimum(x, y),
                           r_lit=x * 2.0 + 0.5 - y / 4.0)),
    case("pow", "ulp", """
p = input f64[4, 5]
y = input f64[4, 5]
r_pow = pow(p, y)
r_sq = pow(p, 2)
r_half = pow(p, 0.5)
out r_pow, r_sq, r_half
""", dict(p=P45, y=Y45),
         lambda p, y: dict(r_pow=np.power(p, y), r_sq=np.power(p, 2.0),
                           r_half=np.power(p, 0.5))),
    case("comparisons and where", "exact", """
x = input f64[4, 5]
y = input f64[4, 5]
lt = x < y
gt = x > 0.5
eq = x == y
w = where(x > y, x * y, y - x)
out lt, gt, eq, w
""", dict(x=X45, y=np.where(u(4, 5) > 0, X45, Y45)),   # some positions equal
         lambda x, y: dict(lt=cmp(x < y, x), gt=cmp(x > 0.5, x), eq=cmp(x == y, x),
                           w=np.where(x > y, x * y, y - x))),
    case("integers: promotion, // and %, comparisons, logical ops, casts, reductions", "exact", """
i = input i32[4, 5]
j = input i32[4, 5]
k = input i64[5]
b = input u8[4, 5]
x = input f64[4, 5]
r_add = i + k
r_mix = b + i
r_fdiv = i // j
r_mod = i % j
r_lit = i * 3 - 2
r_le = i <= j
r_ne = i != k
r_and = logical_and(i > 0, b > 100)
r_not = logical_not(i)
r_cast = cast(x, i32)
r_back = cast(i, f64) * x
r_sum = sum(i, 1)
r_count = sum(i > j)
r_max = max(b, 0)
r_min = min(i, 1)
r_prod = prod(j, 0)
r_any = any(i > 2, 1)
r_all = all(j != 1, 0)
r_where = where(i > j, i, k)
out r_add, r_mix, r_fdiv, r_mod, r_lit, r_le, r_ne, r_and, r_not, r_cast, r_back, r_sum, r_count, r_max, r_min, r_prod, r_any, r_all, r_where
""", dict(i=ints(4, 5), j=ints(4, 5, nonzero=True), k=ints(5, dtype=np.int64),
          b=ints(4, 5, lo=0, hi=255, dtype=np.uint8),
          x=ints(4, 5, lo=-5000, hi=5000, dtype=np.float64) / 100),
         lambda i, j, k, b, x: dict(
             r_add=i + k, r_mix=b + i, r_fdiv=i // j, r_mod=i % j, r_lit=i * 3 - 2,
             r_le=i <= j, r_ne=i != k, r_and=np.logical_and(i > 0, b > 100),
             r_not=np.logical_not(i), r_cast=x.astype(np.int32), r_back=i.astype(np.float64) * x,
             r_sum=i.sum(1), r_count=(i > j).sum(), r_max=b.max(0), r_min=i.min(1),
             r_prod=j.prod(0), r_any=(i > 2).any(1), r_all=(j != 1).all(0),
             r_where=np.where(i > j, i, k))),
    case("NaN propagation", "exact", """
x = input f64[3, 4]
y = input f64[3, 4]
s = x + y
m = maximum(x, y)
n = minimum(y, x)
r = relu(x)
q = sqrt(y)
out s, m, n, r, q
""", dict(x=with_nans(u(3, 4)), y=u(3, 4)),   # sqrt of the negative y gives NaN too
         lambda x, y: dict(s=x + y, m=np.maximum(x, y), n=np.minimum(y, x), r=relu(x),
                           q=np.sqrt(y))),
    case("minitorch broadcasts (5,1,5,1)+(1,5,1,5), (1,)+(5,5)", "exact", """
a = input f64[5, 1, 5, 1]
b = input f64[1, 5, 1, 5]
c = input f64[1]
d = input f64[5, 5]
ab = a + b
cd = c + d
out ab, cd
""", dict(a=u(5, 1, 5, 1), b=u(1, 5, 1, 5), c=u(1), d=u(5, 5)),
         lambda a, b, c, d: dict(ab=a + b, cd=c + d)),
    case("scalar f64[] inputs and output, broadcast row, col, cube", "exact", """
s = input f64[]
row = input f64[1, 5]
col = input f64[4, 1]
cube = input f64[3, 1, 1]
y = (row * col + cube) * s
z = s * s - s
out y, z
""", dict(s=u(), row=u(1, 5), col=u(4, 1), cube=u(3, 1, 1)),
         lambda s, row, col, cube: dict(y=(row * col + cube) * s, z=s * s - s)),
    case("views: reshape -1, permute, transpose, expand", "exact", """
x = input f64[2, 3, 4]
b = input f64[3, 1]
r = reshape(x, [6, -1])
p = permute(x, [2, 0, 1])
t = transpose(r)
e = expand(b, [2, 3, 4])
y = x + e + reshape(t, [2, 3, 4]) + permute(p, [1, 2, 0])
out r, p, t, e, y
""", dict(x=u(2, 3, 4), b=u(3, 1)),
         lambda x, b: dict(r=x.reshape(6, -1), p=x.transpose(2, 0, 1), t=x.reshape(6, 4).T,
                           e=np.broadcast_to(b, (2, 3, 4)),
                           y=x + b + x.reshape(6, 4).T.reshape(2, 3, 4) +
                           x.transpose(2, 0, 1).transpose(1, 2, 0))),
    case("numpy slicing: negative indices and steps, integer indices, flip", "exact", """
x = input f64[6, 5, 4]
a = x[1:5, :, ::-1] * 2
b = x[-1, ::-2, 1:3]
c = x[4:0:-3, 3] + 1
d = flip(x, [0, 2]) - x
e = x[:, -2:]
out a, b, c, d, e
""", dict(x=u(6, 5, 4)),
         lambda x: dict(a=x[1:5, :, ::-1] * 2.0, b=x[-1, ::-2, 1:3], c=x[4:0:-3, 3] + 1.0,
                        d=np.flip(x, (0, 2)) - x, e=x[:, -2:])),
    case("pad (negative widths crop), cat, stack", "exact", """
x = input f64[3, 4]
y = input f64[2, 4]
p = pad(x, [[1, 2], [-1, 3]], value=-0.5) + 1
c = cat([x, y, x], 0) * 2
k = cat([x, neg(x)], 1)
s = stack([x, x * 3], 1)
out p, c, k, s
""", dict(x=u(3, 4), y=u(2, 4)),
         lambda x, y: dict(p=np.pad(x[:, 1:], ((1, 2), (0, 3)), constant_values=-0.5) + 1.0,
                           c=np.concatenate([x, y, x], 0) * 2.0,
                           k=np.concatenate([x, -x], 1),
                           s=np.stack([x, x * 3.0], 1))),
    case("squeeze, unsqueeze, flatten, unfold", "close", """
x = input f64[3, 1, 7]
a = squeeze(x, 1) + 0
b = unsqueeze(x, 0) * 2
f = flatten(x, 1, 2) * 2
w = sum(unfold(squeeze(x), 1, 3, 2), [2])
out a, b, f, w
""", dict(x=u(3, 1, 7)),
         lambda x: dict(a=x[:, 0, :], b=x[None] * 2.0, f=x.reshape(3, 7) * 2.0,
                        w=np.lib.stride_tricks.sliding_window_view(x[:, 0, :], 3, axis=1)[:, ::2].sum(2)),
         reduce_len=3),
    case("reshape of a permuted view", "exact", """
x = input f64[2, 3, 4]
p = permute(x, [2, 0, 1])
r = reshape(p, [8, 3])
t = reshape(transpose(x), [-1]) * 2
out r, t
""", dict(x=u(2, 3, 4)),
         lambda x: dict(r=x.transpose(2, 0, 1).reshape(8, 3),
                        t=x.transpose(0, 2, 1).reshape(-1) * 2.0)),
    case("elementwise on permuted inputs", "exact", """
a = input f64[3, 4, 5]
b = input f64[5, 4, 3]
y = (a - 0.5) * permute(b, [2, 1, 0]) / (abs(a) + 1)
out y
""", dict(a=u(3, 4, 5), b=u(5, 4, 3)),
         lambda a, b: dict(y=(a - 0.5) * b.transpose(2, 1, 0) / (np.abs(a) + 1.0))),

    # -- reductions, f64
    case("sum/max/mean: one dim, list, negative dim, keepdim, all", "close", """
x = input f64[2, 3, 4]
s1 = sum(x, 1)
s2 = sum(x, [0, 2], keepdim=true)
s3 = sum(x, -1)
s4 = sum(x)
m1 = max(x, -1)
m2 = max(x, [0, 1])
m3 = max(x, 2, keepdim=true)
m4 = max(x, keepdim=true)
a1 = mean(x, 0)
a2 = mean(x, [-1, 0])
a3 = mean(x, -2, keepdim=true)
a4 = mean(x)
out s1, s2, s3, s4, m1, m2, m3, m4, a1, a2, a3, a4
""", dict(x=u(2, 3, 4)),
         lambda x: dict(s1=x.sum(1), s2=x.sum((0, 2), keepdims=True), s3=x.sum(-1),
                        s4=x.sum(), m1=x.max(-1), m2=x.max((0, 1)),
                        m3=x.max(2, keepdims=True), m4=x.max(keepdims=True),
                        a1=mean(x, 0), a2=mean(x, (-1, 0)), a3=mean(x, -2, keepdims=True),
                        a4=mean(x))),
    case("reductions of permuted and broadcast inputs", "close", """
x = input f64[4, 3]
b = input f64[3]
s = sum(transpose(x) * 2, 1)
m = max(permute(x, [1, 0]) + expand(reshape(b, [3, 1]), [3, 4]), 0)
a = mean(x + b, -1, keepdim=true)
out s, m, a
""", dict(x=u(4, 3), b=u(3)),
         lambda x, b: dict(s=(x.T * 2.0).sum(1), m=(x.T + b.reshape(3, 1)).max(0),
                           a=mean(x + b, -1, keepdims=True))),
    case("long reduction", "close", """
x = input f64[3, 1000]
s = sum(x, 1)
a = mean(exp(x))
out s, a
""", dict(x=u(3, 1000)), lambda x: dict(s=x.sum(1), a=mean(np.exp(x)))),
    case("zero-size dims", "close", """
x = input f64[0, 4]
s0 = sum(x, 0)
s1 = sum(x, 1)
s = sum(x)
m = mean(x, 0)
y = exp(x) + 1
out s0, s1, s, m, y
""", dict(x=u(0, 4)),
         lambda x: dict(s0=x.sum(0), s1=x.sum(1), s=x.sum(), m=mean(x, 0),
                        y=np.exp(x) + 1.0)),
    case("seed: sum(a[2,3,1] * b[3,2], 1)", "close", """
a = input f64[2, 3, 1]
b = input f64[3, 2]
c = sum(a * b, 1)
d = relu(c) + 0.5
out c, d
""", dict(a=u(2, 3, 1), b=u(3, 2)),
         lambda a, b: dict(c=(a * b).sum(1), d=relu((a * b).sum(1)) + 0.5)),
    case("softmax over the last dim", "close", """
x = input f64[8, 10]
m = max(x, -1, keepdim=true)
e = exp(x - m)
y = e / sum(e, -1, keepdim=true)
out y
""", dict(x=u(8, 10, lo=-5, hi=5)), lambda x: dict(y=softmax(x))),
    # -- matmul, f64
    case("matmul 2-D", "close", """
a = input f64[5, 7]
b = input f64[7, 3]
c = a @ b
d = matmul(a, b) * 2
out c, d
""", dict(a=u(5, 7), b=u(7, 3)), lambda a, b: dict(c=a @ b, d=(a @ b) * 2.0)),
    case("matmul batched, broadcast batch dims", "close", """
a = input f64[5, 1, 4, 8]
b = input f64[3, 8, 2]
w = input f64[2, 6]
c = a @ b
d = matmul(c, w)
out c, d
""", dict(a=u(5, 1, 4, 8), b=u(3, 8, 2), w=u(2, 6)),
         lambda a, b, w: dict(c=a @ b, d=(a @ b) @ w)),
    case("matmul with 1-D operands", "close", """
m = input f64[4, 3]
v = input f64[3]
w = input f64[4]
bm = input f64[2, 3, 4]
mv = m @ v
vm = w @ m
vv = v @ v
bv = bm @ w
out mv, vm, vv, bv
""", dict(m=u(4, 3), v=u(3), w=u(4), bm=u(2, 3, 4)),
         lambda m, v, w, bm: dict(mv=m @ v, vm=w @ m, vv=v @ v, bv=bm @ w)),
    case("matmul of transposed (non-contiguous) inputs", "close", """
a = input f64[6, 4]
b = input f64[3, 6]
p = input f64[2, 5, 3]
q = input f64[4, 5]
c = transpose(a) @ transpose(b)
d = permute(p, [0, 2, 1]) @ transpose(q)
e = reshape(transpose(a), [8, 3]) @ b
out c, d, e
""", dict(a=u(6, 4), b=u(3, 6), p=u(2, 5, 3), q=u(4, 5)),
         lambda a, b, p, q: dict(c=a.T @ b.T, d=p.transpose(0, 2, 1) @ q.T,
                                 e=a.T.reshape(8, 3) @ b)),
    case("MLP layer relu(x @ w + b) and MSE", "close", """
x = input f64[16, 32]
w = input f64[32, 8]
b = input f64[8]
target = input f64[16, 8]
h = relu(x @ w + b)
diff = h - target
loss = mean(diff * diff)
out h, loss
""", dict(x=u(16, 32), w=u(32, 8), b=u(8), target=u(16, 8)),
         lambda x, w, b, target: dict(h=relu(x @ w + b),
                                      loss=mean((relu(x @ w + b) - target) ** 2))),
    # -- f32
    case("f32 unary and binary ops", "f32", """
x = input f32[4, 5]
y = input f32[4, 5]
p = input f32[4, 5]
u = neg(x) + exp(x) + relu(x) + sigmoid(x) + tanh(x) + abs(x)
v = log(p) + sqrt(p) + inv(p) + pow(p, y)
w = -x * 2 + y / 4 - 1e-3 + maximum(x, y) - minimum(x, 0)
c = where(x > y, u, v) + (x < y) * (x == y)
lt = x < y
out u, v, w, c, lt
""", dict(x=f32(4, 5), y=f32(4, 5), p=pos(4, 5, dtype=np.float32)),
         lambda x, y, p: f32_ops(x, y, p)),
    case("f32 scalar f32[] and broadcast", "f32", """
s = input f32[]
a = input f32[5, 1, 5, 1]
b = input f32[1, 5, 1, 5]
y = (a + b) * s
z = s * s
out y, z
""", dict(s=f32(), a=f32(5, 1, 5, 1), b=f32(1, 5, 1, 5)),
         lambda s, a, b: dict(y=(a + b) * s, z=s * s)),
    case("f32 reductions and softmax", "f32red", """
x = input f32[6, 50]
s = sum(x, -1)
m = max(x, [0, 1], keepdim=true)
a = mean(x, 0)
e = exp(x - max(x, -1, keepdim=true))
y = e / sum(e, -1, keepdim=true)
out s, m, a, y
""", dict(x=f32(6, 50, lo=-3, hi=3)),
         lambda x: dict(s=x.sum(-1), m=x.max((0, 1), keepdims=True), a=mean(x, 0),
                        y=softmax(x)), reduce_len=50),
    case("f32 matmul, batched and transposed, MLP", "f32red", """
x = input f32[3, 16, 32]
w = input f32[32, 8]
b = input f32[8]
h = relu(x @ w + b)
t = transpose(w) @ transpose(reshape(x, [48, 32]))
out h, t
""", dict(x=f32(3, 16, 32), w=f32(32, 8), b=f32(8)),
         lambda x, w, b: dict(h=relu(x @ w + b), t=w.T @ x.reshape(48, 32).T), reduce_len=32),
]


# ---- negative cases: each must exit 2 with output matching every regex
# ({prog} stands for the program's path).

BAD_CASES = [
    dict(name="wrong input dtype", program="x = input f32[2, 3]\nout x\n",
         inputs=dict(x=u(2, 3)), patterns=[r"f64\[2, 3\]", r"f32\[2, 3\]"]),
    dict(name="wrong input shape", program="x = input f64[2, 3]\nout x\n",
         inputs=dict(x=u(3, 2)), patterns=[r"f64\[3, 2\]", r"f64\[2, 3\]"]),
    dict(name="wrong input rank", program="x = input f64[]\nout x\n",
         inputs=dict(x=u(1)), patterns=[r"f64\[1\]", r"f64\[\]"]),
    dict(name="unknown --input name", program="x = input f64[2]\nout x\n",
         inputs=dict(nosuch=u(2)), patterns=[r"nosuch"]),
    dict(name="integer division by zero", program="i = input i32[3]\nj = input i32[3]\nq = i // j\nout q\n",
         inputs=dict(i=np.array([4, 5, 6], np.int32), j=np.array([1, 0, 2], np.int32)),
         patterns=[r"integer division by zero: 5 // 0"]),
    dict(name="malformed program", program="x = input f64[2, 3]\ny = x +\nout y\n",
         inputs={}, patterns=[r"{prog}:2:\d+: error:"]),
]


# ---- running and comparing ---------------------------------------------------

def run_fusejit(binary, workdir, program, inputs):
    """Writes the program and inputs under `workdir`, runs `fusejit run`."""
    prog = os.path.join(workdir, "prog.fj")
    with open(prog, "w") as f:
        f.write(program)
    args = [binary, "run", prog, "--out", os.path.join(workdir, "out")]
    for name, value in inputs.items():
        path = os.path.join(workdir, name + ".npy")
        np.save(path, value)
        args += ["--input", f"{name}={path}"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    return prog, proc


def compare(name, got, want, kind, reduce_len):
    """None if `got` matches `want`, else why not."""
    if got.dtype != want.dtype or got.shape != want.shape:
        return (f"{name}: got {got.dtype}{list(got.shape)}, "
                f"numpy gives {want.dtype}{list(want.shape)}")
    with np.errstate(invalid="ignore"):
        if not np.issubdtype(want.dtype, np.floating):
            same = got == want  # integers and bools: exactly
            how = "at all"
        elif kind in ("exact", "ulp"):
            ulps = 0 if kind == "exact" else 2
            same = (got == want) | (np.isnan(got) & np.isnan(want))
            same |= np.abs(got - want) <= ulps * np.spacing(np.abs(want))
            how = f"by more than {ulps} ulp"
        else:
            # np.testing.assert_allclose's criterion, NaN equal to NaN.
            tol = {"close": 1e-12, "f32": 1e-6, "f32red": 1e-5 * math.sqrt(reduce_len)}[kind]
            same = np.isclose(got, want, rtol=tol, atol=tol, equal_nan=True)
            how = f"beyond rtol = atol = {tol:g}"
    if same.all():
        return None
    bad = np.flatnonzero(~same)
    i = np.unravel_index(bad[0], got.shape)
    return (f"{name}: {bad.size} of {got.size} values differ {how}, first at "
            f"{tuple(map(int, i))}: {got[i]!r} vs numpy {want[i]!r}")


def check_case(binary, workdir, c):
    with np.errstate(all="ignore"):
        want = c["expected"](**c["inputs"])
    _, proc = run_fusejit(binary, workdir, c["program"], c["inputs"])
    if proc.returncode != 0:
        return f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()}"
    errors = []
    for name, value in want.items():
        path = os.path.join(workdir, "out", name + ".npy")
        if not os.path.exists(path):
            errors.append(f"{name}: no {name}.npy written")
            continue
        error = compare(name, np.load(path), np.asarray(value), c["kind"], c["reduce_len"])
        if error:
            errors.append(error)
    return "; ".join(errors) or None


def check_bad_case(binary, workdir, c):
    prog, proc = run_fusejit(binary, workdir, c["program"], c["inputs"])
    output = proc.stdout + proc.stderr
    if proc.returncode != 2:
        return f"exit {proc.returncode}, want 2: {output.strip()}"
    for pattern in c["patterns"]:
        if not re.search(pattern.replace("{prog}", re.escape(prog)), output):
            return f"message does not match {pattern!r}: {output.strip()}"
    return None


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} FUSEJIT_BINARY")
    binary = os.path.abspath(sys.argv[1])
    checks = [(c, check_case) for c in CASES] + [(c, check_bad_case) for c in BAD_CASES]
    passed = failed = 0
    for c, check in checks:
        with tempfile.TemporaryDirectory(prefix="fj_numpy_") as workdir:
            try:
                error = check(binary, workdir, c)
            except Exception as e:  # a crash of the check is a failure of the case
                error = f"{type(e).__name__}: {e}"
        if error:
            failed += 1
            print(f"FAIL {c['name']}: {error}")
        else:
            passed += 1
            print(f"ok   {c['name']}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
