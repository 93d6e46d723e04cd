// Recursive-descent parser of `.fj` programs. The grammar, lowest precedence
// first (ir/README.md explains the choices):
//
//   program    := { [statement] NEWLINE } EOF
//   statement  := NAME '=' 'input' DTYPE ints
//               | NAME '=' expr
//               | 'out' NAME { ',' NAME }
//   expr       := additive [ ('<' | '>' | '==' | '<=' | '>=' | '!=') additive ]
//                                                      (comparisons do not chain)
//   additive   := term { ('+' | '-') term }
//   term       := unary { ('*' | '/' | '//' | '%' | '@') unary }
//   unary      := '-' unary | postfix
//   postfix    := primary { '[' item { ',' item } ']' }   (numpy basic slicing)
//   item       := int | [int] ':' [int] [':' [int]]
//   primary    := NUMBER | 'inf' | 'nan' | 'true' | 'false' | NAME | NAME '(' [arg { ',' arg }] ')'
//   | '(' expr ')' arg        := expr | ints | '[' ints { ',' ints } ']' | '[' expr { ',' expr }
//   ']'
//               | 'keepdim' '=' ('true' | 'false') | 'value' '=' expr   (a literal)
//               | ('eps' | 'correction') '=' expr                         (a literal)
//   ints       := '[' [int { ',' int }] ']'          int := ['-'] INTEGER
//
// Every node is built through the checked constructors of ir/graph.h; their
// ShapeErrors come back as ParseErrors at the operator or call that failed.
#include "ir/parser.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "ir/conv.h"
#include "ir/error.h"
#include "ir/fj_functions.h"
#include "ir/graph.h"
#include "ir/lexer.h"
#include "ir/row_ops.h"

#include <fusejit/scalar.h>

namespace fusejit {

namespace {

using fj::Callee;
using fj::Fn;
using fj::Loc;
using fj::Tok;
using fj::Token;

// Deeper nesting than this is an error rather than a stack overflow.
constexpr int kMaxNesting = 256;

size_t dtype_slot(DType t) { return static_cast<size_t>(t); }

// The value of an expression. Literals have no dtype of their own, so an
// expression made only of literals is built in every dtype it may take
// until an operand with a dtype picks one (the unused ones are dropped;
// nodes are hash-consed).
struct Value {
  NodeRef typed;  // null for a literal-only expression
  ScalarKind scalar = ScalarKind::Float;
  std::array<NodeRef, std::size(kAllDTypes)> as;  // the literal-only expression per dtype

  static Value of(NodeRef n) { return Value{std::move(n), ScalarKind::Float, {}}; }
  static Value literal(double v, ScalarKind s) {
    Value out{nullptr, s, {}};
    for (DType t : kAllDTypes)
      if (scalar_dtype(t, s) == t) out.as[dtype_slot(t)] = ir::constant(v, t);
    return out;
  }
  bool untyped() const { return !typed; }
  bool is_literal() const { return untyped() && standalone()->is(Op::Const); }
  // The expression next to a tensor of dtype `t`.
  NodeRef in(DType t) const {
    if (typed) return typed;
    const NodeRef &n = as[dtype_slot(scalar_dtype(t, scalar))];
    return n ? n : standalone();
  }
  NodeRef standalone() const { return typed ? typed : as[dtype_slot(default_dtype(scalar))]; }
};

// One argument of a call, before the function says what it expects.
struct Arg {
  enum Kind {
    Expr,
    Ints,
    Keepdim,
    IntLists,
    Exprs,
    Fill,
    Keyword,
    IntsKeyword,
    DTypeName
  } kind = Expr;
  Loc loc;
  Value value;                              // Expr
  std::optional<int64_t> integer;           // Expr written as a (signed) integer literal: a dim
  std::vector<int64_t> ints;                // Ints
  bool keepdim = false;                     // Keepdim
  std::vector<std::vector<int64_t>> lists;  // IntLists: [[1, 1], [0, 2]]
  std::vector<Value> values;                // Exprs: [a, b]
  double fill = 0;                          // Fill, Keyword: its number
  std::string keyword;       // Fill, Keyword, IntsKeyword: value=, eps=, ..., stride=, ...
  std::string word;          // IntsKeyword given a string instead: padding="same"
  DType dtype = DType::F32;  // DTypeName: a dtype not shadowed by a name
};

std::string loc_str(Loc l) { return std::to_string(l.line) + ":" + std::to_string(l.col); }

class Parser {
 public:
  Parser(std::string_view text, std::string filename)
      : src_{text, std::move(filename)}, lex_(src_) {}

  Program run();

 private:
  using Build = std::function<NodeRef(const std::vector<NodeRef> &)>;

  // Statements.
  void statement();
  void binding();
  Value input_decl(const Token &name);
  void out_statement();
  void end_of_statement();

  // Expressions, lowest precedence first.
  Value expr();
  Value additive();
  Value term();
  Value unary();
  Value postfix();
  Value subscript(const Token &open, const Value &x);
  Value primary();
  Value call(const Token &name);
  std::vector<Arg> call_args(const Token &name);
  Arg call_arg();
  Value apply_call(const Token &name, Callee callee, std::vector<Arg> &args);
  Value reduction(const Token &name, Op op, std::vector<Arg> &args);
  Value row_op(const Token &name, Fn fn, std::vector<Arg> &args);
  Value conv_op(const Token &name, fj::Callee c, std::vector<Arg> &args);
  using ViewBuild = NodeRef (*)(NodeRef, std::vector<int64_t>);
  Value view(const Token &name, std::vector<Arg> &args, ViewBuild build);
  Value join(const Token &name, std::vector<Arg> &args, bool stack);
  int64_t int_arg(const Token &name, const Arg &a, const char *what);
  std::optional<int64_t> int_value(const Token &name, const std::vector<Arg> &args, size_t i,
                                   const char *what);

  // Pieces.
  std::vector<int64_t> int_list();
  int64_t integer();
  Token expect(Tok kind, const std::string &what);
  void check_arity(const Token &name, const std::vector<Arg> &args, size_t lo, size_t hi);
  const Value &value_arg(const Token &name, const Arg &a);
  const std::vector<int64_t> &ints_arg(const Arg &a);

  Value apply(Loc at, const std::vector<Value> &operands, size_t dtype_from, const Build &build);
  Value infix(const Token &op_tok, const Value &a, const Value &b);
  Value binary(const Token &op_tok, Op op, const Value &a, const Value &b);

  struct Nesting {
    explicit Nesting(Parser &p, Loc at) : p_(p) {
      if (++p_.depth_ > kMaxNesting)
        p_.src_.fail(at, "expression nested too deeply (more than " + std::to_string(kMaxNesting) +
                             " levels)");
    }
    ~Nesting() { --p_.depth_; }
    Parser &p_;
  };

  struct Name {
    Value value;
    Loc loc;
  };

  fj::Source src_;
  fj::Lexer lex_;
  Program prog_;
  std::unordered_map<std::string, Name> names_;
  Loc last_newline_;
  int depth_ = 0;
};

Program Parser::run() {
  while (lex_.peek().kind != Tok::Eof) statement();
  if (prog_.outputs.empty()) {
    // Point at the end of the last line rather than past the final newline.
    Loc at = lex_.peek().loc;
    if (at.col == 1 && at.line > 1) at = last_newline_;
    src_.fail(at, "program has no `out`");
  }
  return std::move(prog_);
}

void Parser::statement() {
  const Token &t = lex_.peek();
  if (t.kind == Tok::Ident && t.text == "out")
    out_statement();
  else if (t.kind == Tok::Ident)
    binding();
  else if (t.kind != Tok::Newline)
    src_.fail(t.loc, "expected a statement (NAME = ... or out NAME), got " + fj::describe(t));
  end_of_statement();
}

void Parser::end_of_statement() {
  const Token &t = lex_.peek();
  if (t.kind == Tok::Eof) return;
  if (t.kind != Tok::Newline) src_.fail(t.loc, "expected end of line, got " + fj::describe(t));
  last_newline_ = lex_.next().loc;
}

void Parser::binding() {
  Token name = lex_.next();
  std::string id(name.text);
  if (fj::is_reserved(id)) src_.fail(name.loc, "'" + id + "' is a reserved word");
  if (auto it = names_.find(id); it != names_.end())
    src_.fail(name.loc, "'" + id + "' is already defined at " + loc_str(it->second.loc));
  expect(Tok::Assign, "'=' after '" + id + "'");
  const Token &rhs = lex_.peek();
  Value v = rhs.kind == Tok::Ident && rhs.text == "input" ? input_decl(name) : expr();
  names_.emplace(id, Name{v, name.loc});
  // A literal-only binding is recorded in its kind's default dtype.
  prog_.bindings.emplace_back(id, v.standalone());
}

Value Parser::input_decl(const Token &name) {
  lex_.next();  // `input`
  Token dt = lex_.next();
  if (dt.kind != Tok::Ident)
    src_.fail(dt.loc, "expected a dtype (f32 or f64), got " + fj::describe(dt));
  std::optional<DType> dtype = parse_dtype(dt.text);
  if (!dtype)
    src_.fail(dt.loc, "unknown dtype '" + std::string(dt.text) + "' (expected f32 or f64)");
  if (lex_.peek().kind != Tok::LBracket)
    src_.fail(lex_.peek().loc,
              "expected '[' and a shape after the dtype, got " + fj::describe(lex_.peek()));
  Shape shape = int_list();
  try {
    NodeRef n = ir::input(*dtype, std::move(shape), std::string(name.text));
    prog_.inputs.push_back(n);
    return Value::of(std::move(n));
  } catch (const ShapeError &e) {
    src_.fail(dt.loc, e.what());
  }
}

void Parser::out_statement() {
  lex_.next();  // `out`
  std::string after = "'out'";
  for (;;) {
    Token t = lex_.next();
    if (t.kind != Tok::Ident)
      src_.fail(t.loc, "expected a name after " + after + ", got " + fj::describe(t));
    std::string id(t.text);
    auto it = names_.find(id);
    if (it == names_.end()) src_.fail(t.loc, "unknown name '" + id + "'");
    for (const auto &[out_name, node] : prog_.outputs)
      if (out_name == id) src_.fail(t.loc, "'" + id + "' is already an output");
    prog_.outputs.emplace_back(id, it->second.value.standalone());
    if (lex_.peek().kind != Tok::Comma) break;
    lex_.next();
    after = "','";
  }
}

// ---- expressions ----

// The grammar fixes each operator's precedence; the op it builds is the
// one the op list spells with it.
Value Parser::expr() {
  Value lhs = additive();
  auto is_compare = [](Tok k) {
    return k == Tok::Lt || k == Tok::Gt || k == Tok::EqEq || k == Tok::Le || k == Tok::Ge ||
           k == Tok::Ne;
  };
  if (!is_compare(lex_.peek().kind)) return lhs;
  Token op = lex_.next();
  Value result = infix(op, lhs, additive());
  // `a < b < c` means something else in every language that allows it.
  if (is_compare(lex_.peek().kind))
    src_.fail(lex_.peek().loc, "comparisons do not chain; add parentheses");
  return result;
}

Value Parser::additive() {
  Value v = term();
  while (lex_.peek().kind == Tok::Plus || lex_.peek().kind == Tok::Minus) {
    Token op = lex_.next();
    v = infix(op, v, term());
  }
  return v;
}

Value Parser::term() {
  Value v = unary();
  for (;;) {
    Tok k = lex_.peek().kind;
    if (k != Tok::Star && k != Tok::Slash && k != Tok::At && k != Tok::SlashSlash &&
        k != Tok::Percent)
      return v;
    Token op = lex_.next();
    v = infix(op, v, unary());
  }
}

Value Parser::unary() {
  if (lex_.peek().kind != Tok::Minus) return postfix();
  Token minus = lex_.next();
  Nesting guard(*this, minus.loc);
  Value v = unary();
  // `-1` is the literal -1, not neg(1); `neg(1)` still spells the latter.
  if (v.is_literal()) return Value::literal(-v.standalone()->value, v.scalar);
  return apply(minus.loc, {v}, 0, [](const auto &a) { return ir::unary(Op::Neg, a[0]); });
}

Value Parser::postfix() {
  Value v = primary();
  while (lex_.peek().kind == Tok::LBracket) v = subscript(lex_.next(), v);
  return v;
}

// x[1:3, :, ::-1, 2]: numpy's basic slicing (ir::index).
Value Parser::subscript(const Token &open, const Value &x) {
  Nesting guard(*this, open.loc);
  auto is_int_start = [this] {
    Tok k = lex_.peek().kind;
    return k == Tok::Number || k == Tok::Minus;
  };
  std::vector<ir::IndexItem> items;
  for (;;) {
    ir::IndexItem item;
    std::optional<int64_t> first;
    if (is_int_start()) first = integer();
    if (lex_.peek().kind != Tok::Colon) {
      if (!first)
        src_.fail(lex_.peek().loc,
                  "expected an index or a slice like 1:3, got " + fj::describe(lex_.peek()));
      item.kind = ir::IndexItem::Integer;
      item.index = *first;
    } else {
      lex_.next();
      item.start = first;
      if (is_int_start()) item.stop = integer();
      if (lex_.peek().kind == Tok::Colon) {
        lex_.next();
        if (is_int_start()) item.step = integer();
      }
    }
    items.push_back(item);
    Token t = lex_.next();
    if (t.kind == Tok::RBracket) break;
    if (t.kind != Tok::Comma)
      src_.fail(t.loc, "expected ',' or ']' in the index at " + loc_str(open.loc) + ", got " +
                           fj::describe(t));
  }
  return apply(open.loc, {x}, 0, [&](const auto &a) { return ir::index(a[0], items); });
}

Value Parser::primary() {
  Token t = lex_.next();
  switch (t.kind) {
    case Tok::Number:
      return Value::literal(t.number, t.is_integer ? ScalarKind::Int : ScalarKind::Float);
    case Tok::LParen: {
      Nesting guard(*this, t.loc);
      Value v = expr();
      if (lex_.peek().kind != Tok::RParen)
        src_.fail(lex_.peek().loc, "expected ')' to match the '(' at " + loc_str(t.loc) + ", got " +
                                       fj::describe(lex_.peek()));
      lex_.next();
      return v;
    }
    case Tok::Ident: {
      if (t.text == "inf")
        return Value::literal(std::numeric_limits<double>::infinity(), ScalarKind::Float);
      if (t.text == "nan")
        return Value::literal(std::numeric_limits<double>::quiet_NaN(), ScalarKind::Float);
      if (t.text == "true" || t.text == "false")
        return Value::literal(t.text == "true" ? 1 : 0, ScalarKind::Bool);
      if (lex_.peek().kind == Tok::LParen) return call(t);
      if (fj::is_reserved(t.text)) src_.fail(t.loc, "unexpected " + fj::describe(t));
      auto it = names_.find(std::string(t.text));
      if (it == names_.end()) src_.fail(t.loc, "unknown name '" + std::string(t.text) + "'");
      return it->second.value;
    }
    default:
      src_.fail(t.loc, "expected an expression, got " + fj::describe(t));
  }
}

Value Parser::call(const Token &name) {
  std::optional<Callee> callee = fj::lookup_function(name.text);
  if (!callee) src_.fail(name.loc, "unknown function '" + std::string(name.text) + "'");
  Nesting guard(*this, name.loc);
  std::vector<Arg> args = call_args(name);
  return apply_call(name, *callee, args);
}

std::vector<Arg> Parser::call_args(const Token &name) {
  Token open = lex_.next();  // `(`
  std::vector<Arg> args;
  if (lex_.peek().kind == Tok::RParen) {
    lex_.next();
    return args;
  }
  for (;;) {
    args.push_back(call_arg());
    Token t = lex_.next();
    if (t.kind == Tok::RParen) return args;
    if (t.kind != Tok::Comma)
      src_.fail(t.loc, "expected ',' or ')' in the call to '" + std::string(name.text) + "' at " +
                           loc_str(open.loc) + ", got " + fj::describe(t));
  }
}

Arg Parser::call_arg() {
  Arg a;
  a.loc = lex_.peek().loc;
  const Token &t0 = lex_.peek(0);
  if (t0.kind == Tok::LBracket && lex_.peek(1).kind == Tok::LBracket) {
    a.kind = Arg::IntLists;
    lex_.next();
    for (;;) {
      a.lists.push_back(int_list());
      Token t = lex_.next();
      if (t.kind == Tok::RBracket) return a;
      if (t.kind != Tok::Comma)
        src_.fail(t.loc, "expected ',' or ']' in a list of lists, got " + fj::describe(t));
    }
  }
  if (t0.kind == Tok::LBracket &&
      (lex_.peek(1).kind == Tok::Ident || lex_.peek(1).kind == Tok::LParen)) {
    a.kind = Arg::Exprs;
    lex_.next();
    for (;;) {
      a.values.push_back(expr());
      Token t = lex_.next();
      if (t.kind == Tok::RBracket) return a;
      if (t.kind != Tok::Comma)
        src_.fail(t.loc, "expected ',' or ']' in a list of tensors, got " + fj::describe(t));
    }
  }
  if (t0.kind == Tok::LBracket) {
    a.kind = Arg::Ints;
    a.ints = int_list();
    return a;
  }
  if (t0.kind == Tok::Ident &&
      (t0.text == "value" || t0.text == "eps" || t0.text == "correction" ||
       t0.text == "ignore_index" || t0.text == "ceil_mode" || t0.text == "count_include_pad") &&
      lex_.peek(1).kind == Tok::Assign) {
    a.keyword = std::string(lex_.next().text);
    lex_.next();
    Loc at = lex_.peek().loc;
    Value v = expr();
    if (!v.is_literal()) src_.fail(at, a.keyword + "= takes a number");
    a.kind = a.keyword == "value" ? Arg::Fill : Arg::Keyword;
    a.fill = v.in(DType::F64)->value;  // exact: an f32 literal would round eps=1e-5
    return a;
  }
  // Convolution's keywords take an integer (every spatial dim) or a list.
  if (t0.kind == Tok::Ident &&
      (t0.text == "stride" || t0.text == "padding" || t0.text == "dilation" ||
       t0.text == "groups" || t0.text == "output_padding") &&
      lex_.peek(1).kind == Tok::Assign) {
    a.keyword = std::string(lex_.next().text);
    lex_.next();
    if (lex_.peek().kind == Tok::String) {
      Token w = lex_.next();
      a.word = std::string(w.text.substr(1, w.text.size() - 2));
    } else if (lex_.peek().kind == Tok::LBracket) {
      a.ints = int_list();
    } else {
      const Token &v = lex_.peek();
      if (v.kind != Tok::Number || !v.is_integer)
        src_.fail(v.loc,
                  a.keyword + "= takes an integer or a list of integers, got " + fj::describe(v));
      a.ints = {integer()};
    }
    a.kind = Arg::IntsKeyword;
    return a;
  }
  if (t0.kind == Tok::Ident && t0.text == "keepdim" && lex_.peek(1).kind == Tok::Assign) {
    lex_.next();
    lex_.next();
    Token v = lex_.next();
    if (v.kind != Tok::Ident || (v.text != "true" && v.text != "false"))
      src_.fail(v.loc, "keepdim must be true or false, got " + fj::describe(v));
    a.kind = Arg::Keepdim;
    a.keepdim = v.text == "true";
    return a;
  }
  // A bare (signed) integer may be a dim; keep it as an integer as well.
  auto ends_arg = [](Tok k) { return k == Tok::Comma || k == Tok::RParen; };
  if (t0.kind == Tok::Ident && ends_arg(lex_.peek(1).kind) && !names_.count(std::string(t0.text)))
    if (std::optional<DType> dt = parse_dtype(t0.text)) {
      lex_.next();
      a.kind = Arg::DTypeName;
      a.dtype = *dt;
      return a;
    }
  bool neg = t0.kind == Tok::Minus;
  const Token &num = lex_.peek(neg ? 1 : 0);
  if (num.kind == Tok::Number && num.is_integer && ends_arg(lex_.peek(neg ? 2 : 1).kind)) {
    double literal = neg ? -num.number : num.number;  // keeps the sign of -0
    a.integer = integer();
    a.value = Value::literal(literal, ScalarKind::Int);
    return a;
  }
  a.value = expr();
  return a;
}

void Parser::check_arity(const Token &name, const std::vector<Arg> &args, size_t lo, size_t hi) {
  if (args.size() >= lo && args.size() <= hi) return;
  std::string want =
      lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi);
  src_.fail(name.loc, "'" + std::string(name.text) + "' takes " + want +
                          (hi == 1 ? " argument" : " arguments") + ", got " +
                          std::to_string(args.size()));
}

const Value &Parser::value_arg(const Token &name, const Arg &a) {
  if (a.kind == Arg::Keepdim)
    src_.fail(a.loc, "'" + std::string(name.text) + "' takes no keepdim= argument here");
  if (a.kind == Arg::Fill || a.kind == Arg::Keyword || a.kind == Arg::IntsKeyword)
    src_.fail(a.loc, "'" + std::string(name.text) + "' takes no " + a.keyword + "= argument here");
  if (a.kind == Arg::DTypeName)
    src_.fail(a.loc, "expected an expression, got the dtype " + std::string(dtype_name(a.dtype)));
  if (a.kind != Arg::Expr) src_.fail(a.loc, "expected an expression, got a list");
  return a.value;
}

int64_t Parser::int_arg(const Token &name, const Arg &a, const char *what) {
  if (a.kind != Arg::Expr || !a.integer)
    src_.fail(a.loc, "'" + std::string(name.text) + "' expects an integer " + what + " here");
  return *a.integer;
}

// Argument i as an integer, if there is one.
std::optional<int64_t> Parser::int_value(const Token &name, const std::vector<Arg> &args, size_t i,
                                         const char *what) {
  if (i >= args.size()) return std::nullopt;
  return int_arg(name, args[i], what);
}

const std::vector<int64_t> &Parser::ints_arg(const Arg &a) {
  if (a.kind != Arg::Ints) src_.fail(a.loc, "expected a list of integers like [1, 0]");
  return a.ints;
}

Value Parser::apply_call(const Token &name, Callee c, std::vector<Arg> &args) {
  auto arity = [&](size_t n) { check_arity(name, args, n, n); };
  auto value = [&](size_t i) { return value_arg(name, args[i]); };
  switch (c.fn) {
    case Fn::Unary:
      arity(1);
      return apply(name.loc, {value(0)}, 0, [&](const auto &a) { return ir::unary(c.op, a[0]); });
    case Fn::Binary:
      arity(2);
      return binary(name, c.op, value(0), value(1));
    case Fn::Where:
      arity(3);
      // x and y decide the dtype of a literal condition, not the other way round.
      return apply(name.loc, {value(0), value(1), value(2)}, 1,
                   [](const auto &a) { return ir::where(a[0], a[1], a[2]); });
    case Fn::Reduce:
      return reduction(name, c.op, args);
    case Fn::Transpose:
      arity(1);
      return apply(name.loc, {value(0)}, 0, [](const auto &a) { return ir::transpose(a[0]); });
    case Fn::Matmul:
      arity(2);
      return apply(name.loc, {value(0), value(1)}, 0,
                   [](const auto &a) { return ir::matmul(a[0], a[1]); });
    case Fn::Reshape:
      return view(name, args, &ir::reshape);
    case Fn::Permute:
      return view(name, args, &ir::permute);
    case Fn::Expand:
      return view(name, args, &ir::expand);
    case Fn::Flip:
      // By value, as the ViewBuild signature the other views share.
      // NOLINTNEXTLINE(performance-unnecessary-value-param)
      return view(name, args, [](NodeRef x, std::vector<int64_t> dims) {
        return ir::flip(std::move(x), dims);
      });
    case Fn::Slice: {
      // slice(x, [start...], [step...], [extent...]): the primitive, as dumps print it.
      arity(4);
      Value x = value(0);
      std::vector<int64_t> start = ints_arg(args[1]), step = ints_arg(args[2]),
                           extent = ints_arg(args[3]);
      return apply(name.loc, {x}, 0,
                   [&](const auto &a) { return ir::slice(a[0], start, step, extent); });
    }
    case Fn::Pad: {
      // pad(x, [[before, after], ...], value=v)
      check_arity(name, args, 2, 3);
      Value x = value(0);
      if (args[1].kind != Arg::IntLists)
        src_.fail(args[1].loc, "expected the widths as [[before, after], ...]");
      std::vector<std::pair<int64_t, int64_t>> widths;
      for (const std::vector<int64_t> &w : args[1].lists) {
        if (w.size() != 2)
          src_.fail(args[1].loc, "each pad width is a pair [before, after], got " +
                                     std::to_string(w.size()) + " numbers");
        widths.emplace_back(w[0], w[1]);
      }
      double fill = 0;
      if (args.size() == 3) {
        if (args[2].kind != Arg::Fill) src_.fail(args[2].loc, "expected value=NUMBER");
        fill = args[2].fill;
      }
      return apply(name.loc, {x}, 0, [&](const auto &a) { return ir::pad(a[0], widths, fill); });
    }
    case Fn::Softmax:
    case Fn::LogSoftmax:
    case Fn::Logsumexp:
    case Fn::Var:
    case Fn::Std:
    case Fn::LayerNorm:
    case Fn::RmsNorm:
      return row_op(name, c.fn, args);
    case Fn::CrossEntropy: {
      // cross_entropy(logits, labels, ignore_index=-100)
      check_arity(name, args, 2, 3);
      Value logits = value(0), labels = value(1);
      if (labels.untyped()) src_.fail(args[1].loc, "the labels must be a tensor, not a literal");
      int64_t ignore = -100;
      if (args.size() == 3) {
        const Arg &a = args[2];
        if (a.kind != Arg::Keyword || a.keyword != "ignore_index" ||
            a.fill != static_cast<double>(static_cast<int64_t>(a.fill)))
          src_.fail(a.loc, "expected ignore_index=INTEGER");
        ignore = static_cast<int64_t>(a.fill);
      }
      return apply(name.loc, {logits, labels}, 0,
                   [&](const auto &a) { return ir::cross_entropy(a[0], a[1], ignore); });
    }
    case Fn::Conv:
    case Fn::ConvTranspose:
    case Fn::Pool:
      return conv_op(name, c, args);
    case Fn::Cat:
      return join(name, args, false);
    case Fn::Stack:
      return join(name, args, true);
    case Fn::Unfold: {
      arity(4);
      Value x = value(0);
      int64_t dim = int_arg(name, args[1], "dim"), size = int_arg(name, args[2], "size"),
              step = int_arg(name, args[3], "step");
      return apply(name.loc, {x}, 0,
                   [&](const auto &a) { return ir::unfold(a[0], dim, size, step); });
    }
    case Fn::Squeeze: {
      check_arity(name, args, 1, 2);
      Value x = value(0);
      std::optional<int64_t> dim = int_value(name, args, 1, "dim");
      return apply(name.loc, {x}, 0, [&](const auto &a) { return ir::squeeze(a[0], dim); });
    }
    case Fn::Unsqueeze: {
      arity(2);
      Value x = value(0);
      int64_t dim = int_arg(name, args[1], "dim");
      return apply(name.loc, {x}, 0, [&](const auto &a) { return ir::unsqueeze(a[0], dim); });
    }
    case Fn::Cast: {
      arity(2);
      Value x = value(0);
      if (args[1].kind != Arg::DTypeName)
        src_.fail(args[1].loc, "cast takes a dtype (f32, f64, i32, i64, u8 or bool)");
      DType to = args[1].dtype;
      // A literal casts from its kind's default dtype, and is then typed.
      return Value::of(
          apply(name.loc, {x}, 0, [&](const auto &a) { return ir::cast(a[0], to); }).standalone());
    }
    case Fn::Clamp:
      arity(3);
      return apply(name.loc, {value(0), value(1), value(2)}, 0, [](const auto &a) {
        return ir::binary(Op::Minimum, ir::binary(Op::Maximum, a[0], a[1]), a[2]);
      });
    case Fn::MaskedFill:
      arity(3);
      return apply(name.loc, {value(0), value(1), value(2)}, 0,
                   [](const auto &a) { return ir::where(a[1], a[2], a[0]); });
    case Fn::FullLike: {
      bool full = name.text == "full_like";
      arity(full ? 2 : 1);
      Value x = value(0);
      if (full && !value(1).is_literal()) src_.fail(args[1].loc, "full_like takes a number");
      double v = full ? value(1).standalone()->value : name.text == "ones_like" ? 1 : 0;
      return apply(name.loc, {x}, 0,
                   [&](const auto &a) { return ir::full(v, a[0]->dtype, a[0]->shape); });
    }
    case Fn::Arange: {
      check_arity(name, args, 1, 3);
      int64_t first = int_arg(name, args[0], "bound");
      int64_t start = args.size() == 1 ? 0 : first;
      int64_t end = args.size() == 1 ? first : int_arg(name, args[1], "bound");
      int64_t step = int_value(name, args, 2, "step").value_or(1);
      try {
        return Value::of(ir::arange(start, end, step));
      } catch (const ValueError &e) {
        src_.fail(name.loc, e.what());
      }
    }
    case Fn::Gather: {
      // gather(x, dim, index) and index_select(x, dim, index), torch's order.
      arity(3);
      Value x = value(0), index = value(2);
      int64_t dim = int_arg(name, args[1], "dim");
      if (index.untyped()) src_.fail(args[2].loc, "the index must be a tensor, not a literal");
      bool select = name.text == "index_select";
      return apply(name.loc, {x, index}, 0, [&](const auto &a) {
        return select ? ir::index_select(a[0], dim, a[1]) : ir::gather(a[0], dim, a[1]);
      });
    }
    case Fn::Scatter: {
      // scatter_add(x, dim, index, src) and index_add(x, dim, index, src).
      arity(4);
      Value x = value(0), index = value(2), src = value(3);
      int64_t dim = int_arg(name, args[1], "dim");
      if (index.untyped()) src_.fail(args[2].loc, "the index must be a tensor, not a literal");
      bool scatter = name.text == "scatter_add";
      return apply(name.loc, {x, index, src}, 0, [&](const auto &a) {
        return scatter ? ir::scatter_add(a[0], dim, a[1], a[2])
                       : ir::index_add(a[0], dim, a[1], a[2]);
      });
    }
    case Fn::OneHot: {
      // one_hot(labels, n) is i64; one_hot(labels, n, f32) another dtype.
      check_arity(name, args, 2, 3);
      Value labels = value(0);
      int64_t n = int_arg(name, args[1], "number of classes");
      DType to = DType::I64;
      if (args.size() == 3) {
        if (args[2].kind != Arg::DTypeName)
          src_.fail(args[2].loc, "one_hot takes a dtype (f32, f64, i32, i64, u8 or bool)");
        to = args[2].dtype;
      }
      if (labels.untyped()) src_.fail(args[0].loc, "the labels must be a tensor, not a literal");
      return apply(name.loc, {labels}, 0, [&](const auto &a) { return ir::one_hot(a[0], n, to); });
    }
    case Fn::Argmax: {
      // argmax(x), argmax(x, 1), each with an optional keepdim=.
      check_arity(name, args, 1, 3);
      Value x = value(0);
      std::optional<int64_t> dim;
      size_t i = 1;
      if (i < args.size() && args[i].kind != Arg::Keepdim) dim = int_arg(name, args[i++], "dim");
      bool keepdim = false;
      if (i < args.size()) {
        if (args[i].kind != Arg::Keepdim)
          src_.fail(args[i].loc, "expected keepdim=true or keepdim=false");
        keepdim = args[i++].keepdim;
      }
      if (i < args.size())
        src_.fail(args[i].loc,
                  "keepdim= must be the last argument of '" + std::string(name.text) + "'");
      bool largest = name.text == "argmax";
      return apply(name.loc, {x}, 0,
                   [&](const auto &a) { return ir::arg_extreme(a[0], dim, keepdim, largest); });
    }
    case Fn::Flatten: {
      check_arity(name, args, 1, 3);
      Value x = value(0);
      int64_t start = int_value(name, args, 1, "dim").value_or(0),
              end = int_value(name, args, 2, "dim").value_or(-1);
      return apply(name.loc, {x}, 0, [&](const auto &a) { return ir::flatten(a[0], start, end); });
    }
  }
  src_.fail(name.loc, "unknown function '" + std::string(name.text) + "'");
}

// reshape(x, [2, 3]), permute(x, [1, 0]), expand(x, [4, 2, 3]).
Value Parser::view(const Token &name, std::vector<Arg> &args, ViewBuild build) {
  check_arity(name, args, 2, 2);
  Value x = value_arg(name, args[0]);
  std::vector<int64_t> ints = ints_arg(args[1]);
  return apply(name.loc, {x}, 0, [&](const auto &a) { return build(a[0], ints); });
}

// cat([a, b], 1), stack([a, b], 0).
Value Parser::join(const Token &name, std::vector<Arg> &args, bool stack) {
  check_arity(name, args, 2, 2);
  if (args[0].kind != Arg::Exprs)
    src_.fail(args[0].loc, "'" + std::string(name.text) + "' takes a list of tensors like [a, b]");
  int64_t dim = int_arg(name, args[1], "dim");
  return apply(name.loc, args[0].values, 0,
               [&](const auto &a) { return stack ? ir::stack(a, dim) : ir::cat(a, dim); });
}

// sum(x), sum(x, 1), sum(x, [0, 2]), each with an optional trailing keepdim=.
Value Parser::reduction(const Token &name, Op op, std::vector<Arg> &args) {
  check_arity(name, args, 1, 3);
  Value x = value_arg(name, args[0]);
  std::vector<int64_t> dims;
  bool keepdim = false;
  size_t i = 1;
  if (i < args.size() && args[i].kind != Arg::Keepdim) {
    const Arg &d = args[i++];
    if (d.kind == Arg::Ints)
      dims = d.ints;
    else if (d.integer)
      dims = {*d.integer};
    else
      src_.fail(d.loc, "expected a dim: an integer or a list of integers like [0, 2]");
  }
  if (i < args.size()) {
    if (args[i].kind != Arg::Keepdim)
      src_.fail(args[i].loc, "expected keepdim=true or keepdim=false");
    keepdim = args[i++].keepdim;
  }
  if (i < args.size())
    src_.fail(args[i].loc,
              "keepdim= must be the last argument of '" + std::string(name.text) + "'");
  return apply(name.loc, {x}, 0,
               [&](const auto &a) { return ir::reduce(op, a[0], dims, keepdim); });
}

// softmax(x, 1), log_softmax(x, 1), logsumexp(x, [1], keepdim=true),
// var(x, [1], correction=1, keepdim=true) (std likewise),
// layer_norm(x, [1], w, b, eps=0.00001), rms_norm(x, [1], w, eps=0.00001):
// positional arguments first (x, the dims, then weight and bias), keywords after.
Value Parser::row_op(const Token &name, Fn fn, std::vector<Arg> &args) {
  std::string fname(name.text);
  bool norm = fn == Fn::LayerNorm || fn == Fn::RmsNorm;
  size_t params = fn == Fn::LayerNorm ? 2 : fn == Fn::RmsNorm ? 1 : 0;
  size_t positional = 0;
  while (positional < args.size() && args[positional].kind != Arg::Keepdim &&
         args[positional].kind != Arg::Keyword && args[positional].kind != Arg::IntsKeyword)
    ++positional;
  size_t lo = fn == Fn::Softmax || fn == Fn::LogSoftmax || norm ? 2 : 1;
  size_t hi = 2 + params;
  if (positional < lo || positional > hi)
    src_.fail(name.loc, "'" + fname + "' takes " + std::to_string(lo) +
                            (hi == lo ? "" : " to " + std::to_string(hi)) +
                            " positional arguments, got " + std::to_string(positional));
  Value x = value_arg(name, args[0]);
  std::vector<int64_t> dims;
  if (positional > 1) {
    const Arg &d = args[1];
    if (d.kind == Arg::Ints && fn != Fn::Softmax && fn != Fn::LogSoftmax)
      dims = d.ints;
    else if (d.kind == Arg::Expr && d.integer)
      dims = {*d.integer};
    else
      src_.fail(d.loc, fn == Fn::Softmax || fn == Fn::LogSoftmax
                           ? "expected a dim: an integer"
                           : "expected a dim: an integer or a list of integers like [0, 2]");
  }
  std::vector<Value> operands{x};
  for (size_t i = 2; i < positional; ++i) operands.push_back(value_arg(name, args[i]));
  bool keepdim = false;
  std::optional<double> eps, correction;
  for (size_t i = positional; i < args.size(); ++i) {
    const Arg &a = args[i];
    bool takes_keepdim = fn == Fn::Logsumexp || fn == Fn::Var || fn == Fn::Std;
    if (a.kind == Arg::Keepdim && takes_keepdim) {
      keepdim = a.keepdim;
    } else if (a.kind == Arg::Keyword && a.keyword == "eps" && norm) {
      eps = a.fill;
    } else if (a.kind == Arg::Keyword && a.keyword == "correction" &&
               (fn == Fn::Var || fn == Fn::Std)) {
      correction = a.fill;
    } else if (a.kind == Arg::Keepdim || a.kind == Arg::Keyword || a.kind == Arg::IntsKeyword) {
      src_.fail(a.loc, "'" + fname + "' takes no " +
                           (a.kind == Arg::Keepdim ? std::string("keepdim") : a.keyword) +
                           "= argument");
    } else {
      src_.fail(a.loc, "positional arguments of '" + fname + "' come before its keywords");
    }
  }
  return apply(name.loc, operands, 0, [&](const auto &a) -> NodeRef {
    NodeRef w = a.size() > 1 ? a[1] : nullptr, b = a.size() > 2 ? a[2] : nullptr;
    // Not a switch: the other call forms have no case here.
    if (fn == Fn::Softmax) return ir::softmax(a[0], dims[0]);
    if (fn == Fn::LogSoftmax) return ir::log_softmax(a[0], dims[0]);
    if (fn == Fn::Logsumexp) return ir::logsumexp(a[0], dims, keepdim);
    if (fn == Fn::Var) return ir::var(a[0], dims, correction.value_or(1.0), keepdim);
    if (fn == Fn::Std) return ir::std_dev(a[0], dims, correction.value_or(1.0), keepdim);
    if (fn == Fn::LayerNorm) return ir::layer_norm(a[0], dims, w, b, eps.value_or(1e-5));
    if (fn == Fn::RmsNorm) return ir::rms_norm(a[0], dims, w, eps);
    throw InternalError("parse: " + fname + " is not a row op");
  });
}

// conv1d(x, w), conv2d(x, w, bias, stride=[1, 1], padding=1, dilation=1,
// groups=1), max_pool2d(x, [2, 2], stride=2, padding=0), avg_pool2d(...):
// positional arguments first, keywords (an integer or a list) after.
Value Parser::conv_op(const Token &name, fj::Callee c, std::vector<Arg> &args) {
  std::string fname(name.text);
  const bool transposed = c.fn == Fn::ConvTranspose, conv = c.fn == Fn::Conv || transposed;
  const bool max_pool = c.fn == Fn::Pool && c.op == Op::Max;
  size_t positional = 0;
  while (positional < args.size() && args[positional].kind != Arg::IntsKeyword &&
         args[positional].kind != Arg::Keyword && args[positional].kind != Arg::Keepdim)
    ++positional;
  const size_t lo = 2, hi = conv ? 3 : 2;
  if (positional < lo || positional > hi)
    src_.fail(name.loc, "'" + fname + "' takes " + std::to_string(lo) +
                            (hi == lo ? "" : " to " + std::to_string(hi)) +
                            " positional arguments, got " + std::to_string(positional));
  ir::ConvParams cp;
  ir::PoolParams pp;
  std::vector<Value> operands{value_arg(name, args[0])};
  if (conv) {
    for (size_t i = 1; i < positional; ++i) operands.push_back(value_arg(name, args[i]));
  } else {
    pp.kernel = ints_arg(args[1]);
  }
  auto no_such = [&](const Arg &a) {
    src_.fail(a.loc, "'" + fname + "' takes no " +
                         (a.kind == Arg::Keepdim ? std::string("keepdim") : a.keyword) +
                         "= argument");
  };
  for (size_t i = positional; i < args.size(); ++i) {
    const Arg &a = args[i];
    if (a.kind == Arg::Keyword && !conv &&
        (a.keyword == "ceil_mode" || (a.keyword == "count_include_pad" && !max_pool))) {
      (a.keyword == "ceil_mode" ? pp.ceil_mode : pp.count_include_pad) = a.fill != 0;
      continue;
    }
    if (a.kind != Arg::IntsKeyword) {
      if (a.kind == Arg::Keyword || a.kind == Arg::Keepdim) no_such(a);
      src_.fail(a.loc, "positional arguments of '" + fname + "' come before its keywords");
    }
    if (!a.word.empty() && (a.keyword != "padding" || !conv || transposed))
      src_.fail(a.loc, a.keyword + "= of '" + fname + "' takes an integer or a list, not \"" +
                           a.word + "\"");
    if (a.keyword == "padding" && !a.word.empty()) {
      if (a.word != "same" && a.word != "valid")
        src_.fail(a.loc, "padding= takes an integer, a list, \"same\" or \"valid\", not \"" +
                             a.word + "\"");
      cp.same = a.word == "same";
      cp.padding = {0};
    } else if (a.keyword == "stride") {
      (conv ? cp.stride : pp.stride) = a.ints;
    } else if (a.keyword == "padding") {
      (conv ? cp.padding : pp.padding) = a.ints;
    } else if (a.keyword == "dilation" && (conv || max_pool)) {
      (conv ? cp.dilation : pp.dilation) = a.ints;
    } else if (a.keyword == "output_padding" && transposed) {
      cp.output_padding = a.ints;
    } else if (a.keyword == "groups" && conv && a.ints.size() == 1) {
      cp.groups = a.ints[0];
    } else if (a.keyword == "groups" && conv) {
      src_.fail(a.loc, "groups= takes one integer, got a list of " + std::to_string(a.ints.size()));
    } else {
      no_such(a);
    }
  }
  // The name says the spatial rank; the operand must have it.
  const size_t spatial = fname == "conv1d" || fname == "conv_transpose1d" ? 1 : 2;
  return apply(name.loc, operands, 0, [&](const auto &a) -> NodeRef {
    FUSEJIT_USER_CHECK(a[0]->rank() == spatial + 2, ShapeError, fname, ": the input is ",
                       type_str(a[0]->dtype, a[0]->shape), "; it must have ", spatial + 2,
                       " dims (N, C, ", spatial == 1 ? "L)" : "H, W)");
    const NodeRef bias = a.size() > 2 ? a[2] : nullptr;
    if (transposed) return ir::conv_transpose(a[0], a[1], bias, cp);
    if (conv) return ir::conv(a[0], a[1], bias, cp);
    return max_pool ? ir::max_pool(a[0], pp) : ir::avg_pool(a[0], pp);
  });
}

// ---- pieces ----

Value Parser::infix(const Token &op_tok, const Value &a, const Value &b) {
  std::optional<Op> op = fj::lookup_infix(op_tok.text);
  FUSEJIT_INTERNAL_CHECK(op, "no op is written '", op_tok.text, "'");
  switch (op_kind(*op)) {
    case OpKind::Binary:
      return binary(op_tok, *op, a, b);
    case OpKind::Matmul:
      return apply(op_tok.loc, {a, b}, 0, [](const auto &x) { return ir::matmul(x[0], x[1]); });
    case OpKind::Leaf:
    case OpKind::Unary:
    case OpKind::Ternary:
    case OpKind::Reduce:
    case OpKind::View:
      break;
  }
  throw InternalError(std::string("parse: no infix form for ") + op_name(*op));
}

Value Parser::binary(const Token &op_tok, Op op, const Value &a, const Value &b) {
  return apply(op_tok.loc, {a, b}, 0, [op](const auto &x) { return ir::binary(op, x[0], x[1]); });
}

// Builds a node from `operands`. If any operand has a dtype (the first found
// from `dtype_from` on), literal-only operands take the dtype scalar_dtype
// gives for it (the graph then promotes); otherwise the result stays
// literal-only, of the kind its build in the operands' default gives, and
// is built in every dtype that kind may take.
Value Parser::apply(Loc at, const std::vector<Value> &operands, size_t dtype_from,
                    const Build &build) {
  auto build_in = [&](DType t) {
    std::vector<NodeRef> args;
    for (const Value &v : operands) args.push_back(v.in(t));
    try {
      return build(args);
    } catch (const ShapeError &e) {
      src_.fail(at, e.what());
    } catch (const ValueError &e) {
      src_.fail(at, e.what());
    }
  };
  for (size_t k = 0; k < operands.size(); ++k) {
    const Value &v = operands[(dtype_from + k) % operands.size()];
    if (!v.untyped()) return Value::of(build_in(v.typed->dtype));
  }
  ScalarKind widest = ScalarKind::Bool;
  for (const Value &v : operands) widest = std::max(widest, v.scalar);
  NodeRef probe = build_in(default_dtype(widest));
  Value out{nullptr, scalar_kind(probe->dtype), {}};
  out.as[dtype_slot(default_dtype(out.scalar))] = probe;
  for (DType t : kAllDTypes) {
    if (scalar_dtype(t, out.scalar) != t || out.as[dtype_slot(t)]) continue;
    // A dtype the expression cannot take (bool - bool) is left out; `in` falls back to the probe.
    try {
      std::vector<NodeRef> args;
      for (const Value &v : operands) args.push_back(v.in(t));
      out.as[dtype_slot(t)] = build(args);
    } catch (const ShapeError &) {
    } catch (const ValueError &) {
    }
  }
  return out;
}

std::vector<int64_t> Parser::int_list() {
  expect(Tok::LBracket, "'['");
  std::vector<int64_t> out;
  if (lex_.peek().kind == Tok::RBracket) {
    lex_.next();
    return out;
  }
  for (;;) {
    out.push_back(integer());
    Token t = lex_.next();
    if (t.kind == Tok::RBracket) return out;
    if (t.kind != Tok::Comma)
      src_.fail(t.loc, "expected ',' or ']' in a list of integers, got " + fj::describe(t));
  }
}

int64_t Parser::integer() {
  bool neg = lex_.peek().kind == Tok::Minus;
  if (neg) lex_.next();
  Token t = lex_.next();
  if (t.kind != Tok::Number || !t.is_integer)
    src_.fail(t.loc, "expected an integer, got " + fj::describe(t));
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
  if (ec != std::errc() || end != t.text.data() + t.text.size())
    src_.fail(t.loc, "integer '" + std::string(t.text) + "' is out of range");
  return neg ? -v : v;
}

Token Parser::expect(Tok kind, const std::string &what) {
  Token t = lex_.next();
  if (t.kind != kind) src_.fail(t.loc, "expected " + what + ", got " + fj::describe(t));
  return t;
}

}  // namespace

Program parse_program(std::string_view source, const std::string &filename) {
  return Parser(source, filename).run();
}

Program parse_program_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError("cannot open '" + path + "'");
  // A directory opens, and then reads as an empty program.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw IOError("cannot read '" + path + "': it is a directory");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw IOError("cannot read '" + path + "'");
  return parse_program(text.str(), path);
}

}  // namespace fusejit
