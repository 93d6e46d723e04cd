// The bad-input catalog of the C++ API and the `.fj` format: one row per
// mistake a user can make, each with the error type it must raise and the
// values its message must name. The tool's side (exit code 2) is
// tests/tool/bad_input_catalog.fj, with bad_inputs.fj, parse_error.fj and
// disk_cache.fj; byte-level `.npy` damage is tests/npy_test.cpp (NpyErrors).
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>

#include <fusejit/fusejit.h>

#include "codegen/jit.h"
#include "engine/realize.h"
#include "ir/graph.h"
#include "ir/parser.h"
#include "runtime/buffer.h"
#include "runtime/npy.h"

namespace fusejit {
namespace {

enum class Kind { Shape, Parse, Value, IO };

struct BadInput {
  const char *name;
  Kind kind;
  std::function<void()> run;
  std::vector<std::string> named;  // substrings the message must contain
};

bool is_kind(const std::exception &e, Kind kind) {
  switch (kind) {
    case Kind::Shape:
      return dynamic_cast<const ShapeError *>(&e) != nullptr;
    case Kind::Parse:
      return dynamic_cast<const ParseError *>(&e) != nullptr;
    case Kind::Value:
      return dynamic_cast<const ValueError *>(&e) != nullptr;
    case Kind::IO:
      return dynamic_cast<const IOError *>(&e) != nullptr;
  }
  return false;
}

Tensor f32(const Shape &s) { return Tensor::zeros(s, DType::F32); }
Tensor f64(const Shape &s) { return Tensor::zeros(s, DType::F64); }

// Parses `source` as the file bad.fj.
std::function<void()> fj(const std::string &source) {
  return [source] { parse_program(source, "bad.fj"); };
}

const std::vector<BadInput> &catalog() {
  static const std::vector<BadInput> rows = {
      // ---- the C++ API: shapes, axes, dtypes ----
      {"binary broadcast",
       Kind::Shape,
       [] {
         f32({2, 3}) + f32({4});
       },
       {"[2, 3]", "[4]"}},
      {"where broadcast", Kind::Shape, [] { where(f32({2}), f32({3}), f32({3})); }, {"[2]", "[3]"}},
      {"matmul inner dims",
       Kind::Shape,
       [] {
         f32({4, 3}).matmul(f32({5, 2}));
       },
       {"inner dims", "f32[4, 3]", "f32[5, 2]"}},
      {"matmul batch dims",
       Kind::Shape,
       [] {
         f32({2, 4, 3}).matmul(f32({5, 3, 2}));
       },
       {"batch", "[2, 4, 3]", "[5, 3, 2]"}},
      {"matmul of a scalar",
       Kind::Shape,
       [] {
         f32({}).matmul(f32({2, 2}));
       },
       {"f32[]"}},
      {"reduce axis out of range",
       Kind::Shape,
       [] {
         f32({2, 3}).sum({2});
       },
       {"dim 2", "[2, 3]"}},
      {"negative reduce axis out of range",
       Kind::Shape,
       [] {
         f32({2, 3}).max({-3});
       },
       {"-3", "[2, 3]"}},
      {"repeated reduce axis",
       Kind::Shape,
       [] {
         f32({2, 3}).mean({1, -1});
       },
       {"repeated", "1"}},
      {"permute not a permutation",
       Kind::Shape,
       [] {
         f32({2, 3}).permute({0, 0});
       },
       {"[0, 0]", "[2, 3]"}},
      {"permute of the wrong rank",
       Kind::Shape,
       [] {
         f32({2, 3}).permute({0});
       },
       {"[0]", "[2, 3]"}},
      {"reshape element count",
       Kind::Shape,
       [] {
         f32({2, 3}).reshape({4, 2});
       },
       {"[2, 3]", "[4, 2]"}},
      {"reshape with two -1",
       Kind::Shape,
       [] {
         f32({2, 3}).reshape({-1, -1});
       },
       {"-1"}},
      {"reshape negative extent",
       Kind::Shape,
       [] {
         f32({2, 3}).reshape({-2, -3});
       },
       {"-2"}},
      {"expand incompatible",
       Kind::Shape,
       [] {
         f32({2, 3}).expand({4, 3});
       },
       {"[2, 3]", "[4, 3]"}},
      {"expand to fewer dims",
       Kind::Shape,
       [] {
         f32({2, 3}).expand({3});
       },
       {"[2, 3]", "[3]"}},
      {"mean of an integer tensor",
       Kind::Shape,
       [] { Tensor::zeros({2}, DType::I32).mean(); },
       {"mean", "i32[2]"}},
      {"minus of bools",
       Kind::Shape,
       [] { Tensor::zeros({2}, DType::Bool) - Tensor::zeros({2}, DType::Bool); },
       {"-: not defined", "bool[2]"}},
      {"matmul of integers",
       Kind::Shape,
       [] {
         Tensor::zeros({2, 2}, DType::I64).matmul(Tensor::zeros({2, 2}, DType::I64));
       },
       {"matmul", "i64[2, 2]"}},
      {"masked_fill with a float mask",
       Kind::Shape,
       [] { f32({2}).masked_fill(f32({2}), 1); },
       {"masked_fill", "f32[2]", "bool"}},
      {"masked_fill with a mask that does not broadcast",
       Kind::Shape,
       [] { f32({2}).masked_fill(Tensor::zeros({3}, DType::Bool), 1); },
       {"masked_fill", "[3]", "[2]"}},
      {"clamp without bounds", Kind::Value, [] { f32({2}).clamp(std::nullopt); }, {"clamp"}},
      {"cross_entropy labels of the wrong shape",
       Kind::Shape,
       [] {
         cross_entropy(f32({4, 3}), Tensor::zeros({3}, DType::I64));
       },
       {"cross_entropy", "f32[4, 3]", "i64[3]", "expected i64[4]"}},
      {"cross_entropy with float labels",
       Kind::Value,
       [] {
         cross_entropy(f32({4, 3}), f32({4}));
       },
       {"cross_entropy", "f32[4]", "integers"}},
      {"integer division by zero",
       Kind::Value,
       [] { floor_divide(Tensor::ones({3}, DType::I32), 0).realize(); },
       {"division by zero", "1 // 0", "i32"}},
      {"integer modulo by zero",
       Kind::Value,
       [] { (Tensor::ones({3}, DType::I64) % 0).realize(); },
       {"modulo by zero", "i64"}},
      {"matmul dtype mismatch",
       Kind::Shape,
       [] {
         f32({2, 2}).matmul(f64({2, 2}));
       },
       {"f32[2, 2]", "f64[2, 2]"}},
      {"from_vector size",
       Kind::Shape,
       [] {
         Tensor::from_vector<float>({1, 2, 3}, {2, 2});
       },
       {"3", "[2, 2]"}},
      {"negative extent",
       Kind::Shape,
       [] {
         Tensor::zeros({2, -1});
       },
       {"-1"}},
      {"empty matmul too large to count",
       Kind::Shape,
       [] {
         f32({2, 0}).matmul(f32({0, INT64_MAX}));
       },
       {"f32[2, 0]", "f32[0, 9223372036854775807]", "[2, 9223372036854775807]"}},
      {"broadcast too large to count",
       Kind::Shape,
       [] {
         f32({2, 1}) + f32({1, INT64_MAX});
       },
       {"[2, 1]", "[1, 9223372036854775807]", "[2, 9223372036854775807]"}},
      {"element count overflows int64",
       Kind::Shape,
       [] {
         ir::input(DType::F32, {int64_t{1} << 32, int64_t{1} << 32});
       },
       {"[4294967296, 4294967296]"}},
      {"byte count overflows",
       Kind::Value,
       [] { Buffer(DType::F64, {int64_t{1} << 61}); },
       {"f64[2305843009213693952]"}},
      {"allocation beyond memory",
       Kind::Value,
       [] { Buffer(DType::F32, {int64_t{1} << 50}); },
       {"f32[1125899906842624]"}},
      // ---- the C++ API: reading and misuse ----
      {"item of a non-scalar",
       Kind::Shape,
       [] {
         f32({2, 3}).item<float>();
       },
       {"[2, 3]", "6"}},
      {"to_vector of the wrong type", Kind::Value, [] { f32({2}).to_vector<double>(); }, {"f32"}},
      {"item of the wrong type", Kind::Value, [] { f64({}).item<float>(); }, {"f64"}},
      {"undefined tensor",
       Kind::Value,
       [] { Tensor().exp(); },
       {"exp: the tensor is undefined", "default-constructed"}},
      {"undefined operand",
       Kind::Value,
       [] { f32({2}) + Tensor(); },
       {"+: the right operand is undefined"}},
      {"undefined matmul operand",
       Kind::Value,
       [] {
         Tensor().matmul(f32({2, 2}));
       },
       {"matmul: the left operand is undefined"}},
      {"grad read before any backward",
       Kind::Value,
       [] {
         f32({2, 3}).requires_grad_().grad().sum();
       },
       {"sum", "grad() of leaf f32[2, 3]", "no backward()"}},
      {"grad of a tensor that does not require grad",
       Kind::Value,
       [] { f32({2}).grad() + 1.0; },
       {"+", "grad() of f32[2]", "does not require grad"}},
      {"grad of a non-leaf",
       Kind::Value,
       [] { (f32({2}).requires_grad_() * 2.0).grad().exp(); },
       {"exp", "non-leaf f32[2]"}},
      {"shape of an undefined tensor",
       Kind::Value,
       [] { Tensor().sizes(); },
       {"sizes: the tensor is undefined"}},
      {"transpose dim out of range",
       Kind::Shape,
       [] {
         f32({2, 3}).transpose(0, 3);
       },
       {"transpose(0, 3)", "dim 3", "f32[2, 3]"}},
      {"transpose negative dim out of range",
       Kind::Shape,
       [] {
         f64({2, 3, 4}).transpose(-4, 1);
       },
       {"transpose(-4, 1)", "dim -4", "f64[2, 3, 4]"}},
      {"t of more than 2 dims",
       Kind::Shape,
       [] {
         f32({2, 3, 4}).t();
       },
       {"t: ", "f32[2, 3, 4]"}},
      {"size dim out of range",
       Kind::Shape,
       [] {
         f32({2, 3}).size(2);
       },
       {"dim 2", "f32[2, 3]"}},
      {"size of a scalar", Kind::Shape, [] { f64({}).size(0); }, {"dim 0", "f64[]"}},
      {"data_ptr of the wrong type",
       Kind::Value,
       [] { f32({2}).data_ptr<double>(); },
       {"data_ptr<double>", "f32[2]"}},
      {"from_blob of a null pointer",
       Kind::Value,
       [] { Tensor::from_blob(nullptr, {3}, DType::F32); },
       {"from_blob", "null", "f32[3]"}},
      {"from_blob of misaligned memory",
       Kind::Value,
       [] {
         alignas(8) static double mem[3];
         Tensor::from_blob(reinterpret_cast<char *>(mem) + 4, {2}, DType::F64);
       },
       {"from_blob", "f64[2]", "not aligned", "8-byte"}},
      {"from_blob of a negative extent",
       Kind::Shape,
       [] {
         static float mem[1];
         Tensor::from_blob(mem, {-1}, DType::F32);
       },
       {"-1"}},
      {"backward with nothing to differentiate",
       Kind::Value,
       [] { (f32({2}) * 2.0).backward(); },
       {"nothing to differentiate"}},
      {"backward seed of the wrong shape",
       Kind::Shape,
       [] { (f32({2}).requires_grad_() * 2.0).backward(f32({3})); },
       {"[2]", "[3]"}},
      {"requires_grad_ on a non-leaf",
       Kind::Value,
       [] { (f32({2}).requires_grad_() + 1.0).requires_grad_(); },
       {"requires_grad_", "leaf"}},
      {"unbound program input",
       Kind::Value,
       [] { evaluate({ir::unary(Op::Exp, ir::input(DType::F32, {2}, "a"))}, {}); },
       {"'a'"}},
      {"input bound to the wrong shape",
       Kind::Shape,
       [] {
         NodeRef a = ir::input(DType::F32, {2}, "a");
         evaluate({ir::unary(Op::Exp, a)}, {{a.get(), Buffer(DType::F32, {3})}});
       },
       {"'a'", "f32[2]", "f32[3]"}},
      {"unwritable .npy path",
       Kind::IO,
       [] { write_npy("/proc/nonexistent/x.npy", Buffer(DType::F32, {1})); },
       {"/proc/nonexistent/x.npy"}},
      {"unreadable .npy path",
       Kind::IO,
       [] { read_npy("/nonexistent/x.npy"); },
       {"/nonexistent/x.npy"}},
      {".npy path that is a device",
       Kind::IO,
       [] { read_npy("/dev/zero"); },
       {"/dev/zero", "character device"}},
      {"unreadable .fj path",
       Kind::IO,
       [] { parse_program_file("/nonexistent/p.fj"); },
       {"/nonexistent/p.fj"}},
      // ---- the .fj format ----
      {".fj unknown name", Kind::Parse, fj("b = a + 1\nout b\n"), {"bad.fj:1:5", "'a'"}},
      {".fj duplicate name",
       Kind::Parse,
       fj("a = input f32[2]\na = input f32[2]\nout a\n"),
       {"bad.fj:2:1", "'a'"}},
      {".fj missing out", Kind::Parse, fj("a = input f32[2]\n"), {"bad.fj:1", "out"}},
      {".fj duplicate output",
       Kind::Parse,
       fj("a = input f32[2]\nout a\nout a\n"),
       {"bad.fj:3:5", "'a'"}},
      {".fj unknown output", Kind::Parse, fj("a = input f32[2]\nout z\n"), {"bad.fj:2:5", "'z'"}},
      {".fj bad dtype", Kind::Parse, fj("a = input f16[2]\nout a\n"), {"bad.fj:1:11", "'f16'"}},
      {".fj bad shape syntax", Kind::Parse, fj("a = input f32[2,\nout a\n"), {"bad.fj:1:17"}},
      {".fj negative extent", Kind::Parse, fj("a = input f32[-2]\nout a\n"), {"bad.fj:1", "-2"}},
      {".fj overflowing shape",
       Kind::Parse,
       fj("a = input f32[4294967296, 4294967296]\nout a\n"),
       {"bad.fj:1", "[4294967296, 4294967296]"}},
      {".fj extent out of int64",
       Kind::Parse,
       fj("a = input f32[99999999999999999999]\nout a\n"),
       {"bad.fj:1", "99999999999999999999"}},
      {".fj unknown function",
       Kind::Parse,
       fj("a = input f32[2]\nb = foo(a)\nout b\n"),
       {"bad.fj:2:5", "'foo'"}},
      {".fj wrong arity",
       Kind::Parse,
       fj("a = input f32[2]\nb = exp(a, a)\nout b\n"),
       {"bad.fj:2:5", "exp"}},
      {".fj reduce axis",
       Kind::Parse,
       fj("a = input f32[2, 3]\nb = sum(a, 5)\nout b\n"),
       {"bad.fj:2:5", "dim 5", "f32[2, 3]"}},
      {".fj broadcast",
       Kind::Parse,
       fj("a = input f32[2, 3]\nb = input f32[4]\nc = a + b\nout c\n"),
       {"bad.fj:3:7", "[2, 3]", "[4]"}},
      {".fj matmul dtype mismatch",
       Kind::Parse,
       fj("a = input f32[2, 2]\nb = input f64[2, 2]\nc = a @ b\nout c\n"),
       {"bad.fj:3:7", "f32[2, 2]", "f64[2, 2]"}},
      {".fj conv2d of a 3-D input",
       Kind::Parse,
       fj("x = input f32[3, 8, 8]\nw = input f32[4, 3, 3, 3]\ny = conv2d(x, w)\nout y\n"),
       {"bad.fj:3:5", "conv2d", "f32[3, 8, 8]", "4 dims"}},
      {".fj conv2d with a list of groups",
       Kind::Parse,
       fj("x = input f32[1, 3, 8, 8]\nw = input f32[4, 3, 3, 3]\ny = conv2d(x, w, "
          "groups=[1, 2])\nout y\n"),
       {"bad.fj:3:18", "groups= takes one integer"}},
      {".fj conv2d with channels that do not match",
       Kind::Parse,
       fj("x = input f32[1, 2, 8, 8]\nw = input f32[4, 3, 3, 3]\ny = conv2d(x, w)\nout y\n"),
       {"bad.fj:3:5", "[1, 2, 8, 8]", "[4, 3, 3, 3]"}},
      {".fj avg_pool2d with a dilation (max_pool2d takes one, as torch)",
       Kind::Parse,
       fj("x = input f32[1, 3, 8, 8]\ny = avg_pool2d(x, [2, 2], dilation=2)\nout y\n"),
       {"bad.fj:2:27", "takes no dilation="}},
      {".fj a padding word torch does not take",
       Kind::Parse,
       fj("x = input f32[1, 3, 8, 8]\nw = input f32[4, 3, 3, 3]\ny = conv2d(x, w, "
          "padding=\"full\")\nout y\n"),
       {"bad.fj:3:18", "\"same\" or \"valid\", not \"full\""}},
      {".fj conv_transpose2d with an output_padding as large as its stride",
       Kind::Parse,
       fj("x = input f32[1, 3, 8, 8]\nw = input f32[3, 4, 3, 3]\ny = conv_transpose2d(x, w, "
          "stride=2, output_padding=[0, 2])\nout y\n"),
       {"bad.fj:3:5", "output_padding 2 must be smaller than the stride or the dilation (2, 1)",
        "spatial dim 1"}},
      {".fj a stride that is not an integer",
       Kind::Parse,
       fj("x = input f32[1, 3, 8, 8]\ny = max_pool2d(x, [2, 2], stride=x)\nout y\n"),
       {"bad.fj:2:34", "stride= takes an integer or a list of integers"}},
      {".fj mean of an integer",
       Kind::Parse,
       fj("a = input i32[2]\nc = mean(a)\nout c\n"),
       {"bad.fj:2:5", "mean", "i32[2]"}},
      {".fj minus of bools",
       Kind::Parse,
       fj("a = input bool[2]\nc = a - a\nout c\n"),
       {"bad.fj:2:7", "bool[2]"}},
      {".fj empty matmul too large to count",
       Kind::Parse,
       fj("a = input f32[2, 0]\nb = input f32[0, 9223372036854775807]\nc = a @ b\nout c\n"),
       {"bad.fj:3:7", "f32[2, 0]", "f32[0, 9223372036854775807]"}},
      {".fj matmul inner dims",
       Kind::Parse,
       fj("a = input f32[4, 3]\nb = input f32[5, 2]\nc = a @ b\nout c\n"),
       {"bad.fj:3:7", "f32[4, 3]", "f32[5, 2]"}},
      {".fj chained comparison",
       Kind::Parse,
       fj("a = input f32[2]\nb = a < a < a\nout b\n"),
       {"bad.fj:2:11", "chain"}},
      {".fj unbalanced parenthesis",
       Kind::Parse,
       fj("a = input f32[2]\nb = (a + 1\nout b\n"),
       {"bad.fj:2"}},
      {".fj nesting too deep",
       Kind::Parse,
       fj("a = input f32[2]\nb = " + std::string(10000, '(') + "a" + std::string(10000, ')') +
          "\nout b\n"),
       {"bad.fj:2"}},
      // ---- slices, pads, cats and windows ----
      {"slice step 0", Kind::Value, [] { f32({4}).slice(0, 0, 4, 0); }, {"step 0"}},
      {"C++ slice negative step", Kind::Value, [] { f32({4}).slice(0, 0, 4, -1); }, {"step -1"}},
      {"slice dim out of range", Kind::Shape, [] { f32({4}).slice(2, 0, 1); }, {"dim 2", "rank 1"}},
      {"select index out of range",
       Kind::Value,
       [] {
         f32({2, 3}).select(1, 3);
       },
       {"index 3", "dim 1", "extent 3"}},
      {"negative select index out of range",
       Kind::Value,
       [] {
         f32({2, 3}).select(0, -3);
       },
       {"index -3", "extent 2"}},
      {"index with more items than dims",
       Kind::Shape,
       [] {
         f32({2, 3}).index({0, 0, 0});
       },
       {"3 indices", "f32[2, 3]"}},
      {"index slice step 0",
       Kind::Value,
       [] {
         f32({2, 3}).index({indexing::Slice(0, 2, 0)});
       },
       {"step 0"}},
      {"narrow past the end",
       Kind::Shape,
       [] {
         f32({2, 3}).narrow(1, 2, 2);
       },
       {"start 2", "length 2", "extent 3"}},
      {"pad cropping more than the extent",
       Kind::Shape,
       [] {
         pad(f32({2, 3}), {-2, -2});
       },
       {"(-2, -2)", "dim 1", "f32[2, 3]"}},
      {"pad with an odd list",
       Kind::Value,
       [] {
         pad(f32({2, 3}), {1, 1, 1});
       },
       {"3 widths"}},
      {"pad of more dims than there are",
       Kind::Shape,
       [] {
         pad(f32({3}), {1, 1, 1, 1});
       },
       {"2 pairs", "f32[3]"}},
      {"cat of an empty list", Kind::Value, [] { cat({}, 0); }, {"empty list"}},
      {"cat of mismatched shapes",
       Kind::Shape,
       [] {
         cat({f32({2, 3}), f32({2, 4})}, 0);
       },
       {"tensor 1", "f32[2, 4]", "f32[2, 3]", "dim 0"}},
      {"cat of mismatched ranks",
       Kind::Shape,
       [] {
         cat({f32({2, 3}), f32({3})}, 0);
       },
       {"f32[3]", "f32[2, 3]"}},
      {"cat of mismatched dtypes",
       Kind::Shape,
       [] {
         cat({f32({2}), f64({2})}, 0);
       },
       {"f32[2]", "f64[2]"}},
      {"cat of scalars",
       Kind::Shape,
       [] {
         cat({f32({}), f32({})}, 0);
       },
       {"zero-dim", "f32[]"}},
      {"cat dim out of range",
       Kind::Shape,
       [] {
         cat({f32({2}), f32({2})}, 1);
       },
       {"dim 1", "rank 1"}},
      {"stack of different shapes",
       Kind::Shape,
       [] {
         stack({f32({2}), f32({3})}, 0);
       },
       {"tensor 1", "f32[3]", "f32[2]"}},
      {"flip of a repeated dim",
       Kind::Shape,
       [] {
         f32({2, 3}).flip({1, -1});
       },
       {"repeated"}},
      {"unsqueeze dim out of range",
       Kind::Shape,
       [] { f32({2}).unsqueeze(3); },
       {"dim 3", "rank 2"}},
      {"flatten start after end",
       Kind::Shape,
       [] {
         f32({2, 3, 4}).flatten(2, 1);
       },
       {"start dim 2", "end dim 1"}},
      {"unfold window larger than the dim",
       Kind::Shape,
       [] {
         f32({2, 3}).unfold(1, 4, 1);
       },
       {"size 4", "extent 3"}},
      {"unfold step 0",
       Kind::Value,
       [] {
         f32({2, 3}).unfold(1, 2, 0);
       },
       {"step 0"}},
      {"gather by a float index",
       Kind::Shape,
       [] {
         f32({2, 3}).gather(1, f32({2, 2}));
       },
       {"i64 or i32", "f32[2, 2]"}},
      {"gather by an index of another rank",
       Kind::Shape,
       [] {
         f32({2, 3}).gather(1, Tensor::zeros({4}, DType::I64));
       },
       {"i64[4]", "f32[2, 3]", "same number of dims"}},
      {"gather by an index wider than the tensor",
       Kind::Shape,
       [] {
         f32({2, 3}).gather(1, Tensor::zeros({3, 1}, DType::I64));
       },
       {"i64[3, 1]", "dim 0"}},
      {"index_select by a 2-D index",
       Kind::Shape,
       [] {
         f32({2, 3}).index_select(0, Tensor::zeros({2, 2}, DType::I64));
       },
       {"i64[2, 2]", "one dim or none"}},
      {"index_select out of bounds",
       Kind::Value,
       [] {
         f32({2, 3}).index_select(0, Tensor::from_vector<int64_t>({1, 2}, {2})).sum().item<float>();
       },
       {"index 2 is out of bounds", "dim of 2 elements"}},
      {"one_hot label out of bounds",
       Kind::Value,
       [] {
         one_hot(Tensor::from_vector<int64_t>({0, 7}, {2}), 3).sum().item<int64_t>();
       },
       {"index 7 is out of bounds", "dim of 3 elements"}},
      {"scatter_add by a float index",
       Kind::Shape,
       [] {
         f32({2, 3}).scatter_add(1, f32({2, 2}), f32({2, 2}));
       },
       {"i64 or i32", "f32[2, 2]"}},
      {"scatter_add of a source of another rank",
       Kind::Shape,
       [] {
         f32({2, 3}).scatter_add(1, Tensor::zeros({2, 2}, DType::I64), f32({4}));
       },
       {"f32[2, 3]", "i64[2, 2]", "f32[4]", "same number of dims"}},
      {"scatter_add of an index larger than the source",
       Kind::Shape,
       [] {
         f32({2, 3}).scatter_add(1, Tensor::zeros({2, 2}, DType::I64), f32({2, 1}));
       },
       {"i64[2, 2]", "f32[2, 1]", "dim 1"}},
      {"scatter_add of an index wider than the tensor",
       Kind::Shape,
       [] {
         f32({2, 3}).scatter_add(1, Tensor::zeros({3, 1}, DType::I64), f32({3, 1}));
       },
       {"i64[3, 1]", "f32[2, 3]", "dim 0"}},
      {"scatter_add out of bounds",
       Kind::Value,
       [] {
         f32({2, 3})
             .scatter_add(1, Tensor::from_vector<int64_t>({0, 3}, {1, 2}), f32({1, 2}))
             .sum()
             .item<float>();
       },
       {"index 3 is out of bounds", "dim of 3 elements"}},
      {"index_add of a source of the wrong shape",
       Kind::Shape,
       [] {
         f32({4, 3}).index_add(0, Tensor::zeros({2}, DType::I64), f32({3, 3}));
       },
       {"f32[3, 3]", "2 entries along dim 0", "f32[4, 3]", "[2, 3]"}},
      {"split size 0", Kind::Value, [] { split(f32({4}), 0); }, {"size 0"}},
      {"chunk count 0", Kind::Value, [] { chunk(f32({4}), 0); }, {"0 chunks"}},
      {".fj slice step 0",
       Kind::Parse,
       fj("a = input f32[4]\nb = a[::0]\nout b\n"),
       {"bad.fj:2:6", "step 0"}},
      {".fj integer index out of range",
       Kind::Parse,
       fj("a = input f32[4, 2]\nb = a[4]\nout b\n"),
       {"bad.fj:2:6", "index 4", "extent 4"}},
      {".fj too many indices",
       Kind::Parse,
       fj("a = input f32[4]\nb = a[1, 2]\nout b\n"),
       {"bad.fj:2:6", "2 indices"}},
      {".fj pad widths not pairs",
       Kind::Parse,
       fj("a = input f32[4]\nb = pad(a, [[1, 1, 1]])\nout b\n"),
       {"bad.fj:2", "pair"}},
      {".fj pad of too few dims",
       Kind::Parse,
       fj("a = input f32[4, 2]\nb = pad(a, [[1, 1]])\nout b\n"),
       {"bad.fj:2:5", "1 (before, after) pairs", "f32[4, 2]"}},
      {".fj cat of mismatched shapes",
       Kind::Parse,
       fj("a = input f32[4, 2]\nb = input f32[4, 3]\nc = cat([a, b], 0)\nout c\n"),
       {"bad.fj:3:5", "f32[4, 3]"}},
      {".fj cat without a list",
       Kind::Parse,
       fj("a = input f32[4]\nc = cat(a, 0)\nout c\n"),
       {"bad.fj:2", "list of tensors"}},
      {".fj unfold step 0",
       Kind::Parse,
       fj("a = input f32[4]\nc = unfold(a, 0, 2, 0)\nout c\n"),
       {"bad.fj:2:5", "step 0"}},
      {".fj gather by a literal",
       Kind::Parse,
       fj("a = input f32[4]\nc = gather(a, 0, 2)\nout c\n"),
       {"bad.fj:2", "a tensor, not a literal"}},
      {".fj gather by a float index",
       Kind::Parse,
       fj("a = input f32[4]\nc = index_select(a, 0, a)\nout c\n"),
       {"bad.fj:2:5", "i64 or i32"}},
      {".fj scatter_add by a float index",
       Kind::Parse,
       fj("a = input f32[4]\nc = scatter_add(a, 0, a, a)\nout c\n"),
       {"bad.fj:2:5", "i64 or i32"}},
      {".fj index_add with too few arguments",
       Kind::Parse,
       fj("a = input f32[4]\ni = input i64[2]\nc = index_add(a, 0, i)\nout c\n"),
       {"bad.fj:3", "4 arguments"}},
      {".fj one_hot of float labels",
       Kind::Parse,
       fj("a = input f32[4]\nc = one_hot(a, 3)\nout c\n"),
       {"bad.fj:2:5", "integer tensor"}},
      {".fj argmax dim out of range",
       Kind::Parse,
       fj("a = input f32[4]\nc = argmax(a, 1)\nout c\n"),
       {"bad.fj:2:5", "dim 1"}},
      {".fj arange step 0",
       Kind::Parse,
       fj("c = arange(0, 4, 0)\nout c\n"),
       {"bad.fj:1:5", "step must be nonzero"}},
      {".fj stray character",
       Kind::Parse,
       fj("a = input f32[2]\nb = a $ a\nout b\n"),
       {"bad.fj:2:7", "$"}},
  };
  return rows;
}

TEST(BadInput, EachRaisesItsErrorNamingTheValue) {
  for (const BadInput &row : catalog()) {
    SCOPED_TRACE(row.name);
    try {
      row.run();
      ADD_FAILURE() << "no error";
    } catch (const std::exception &e) {
      EXPECT_TRUE(is_kind(e, row.kind)) << "wrong error type: " << e.what();
      for (const std::string &s : row.named)
        EXPECT_NE(std::string(e.what()).find(s), std::string::npos)
            << "'" << s << "' not in: " << e.what();
    }
  }
}

TEST(BadInput, CatalogIsLarge) { EXPECT_GE(catalog().size(), 30u); }

// A typo in FUSEJIT_NUMERICS must not silently select fast math.
TEST(BadInput, UnknownNumericsSettingNamesIt) {
  ::setenv("FUSEJIT_NUMERICS", "fastest", 1);
  try {
    numerics_from_env();
    ADD_FAILURE() << "no error";
  } catch (const ValueError &e) {
    EXPECT_NE(std::string(e.what()).find("fastest"), std::string::npos) << e.what();
  }
  ::unsetenv("FUSEJIT_NUMERICS");
}

}  // namespace
}  // namespace fusejit
