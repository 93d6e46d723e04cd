#include "runtime/npy_header.h"

#include <cctype>
#include <cstdint>
#include <optional>
#include <vector>

#include "ir/error.h"

namespace fusejit {

namespace {

// A value of the Python literal subset numpy writes in headers. Nested
// tuples appear only in structured dtypes, which are rejected later, but
// they must still parse so the error can name the dtype.
struct Literal {
  enum class Kind { Str, Int, Bool, None, Seq } kind = Kind::None;
  std::string str;
  int64_t num = 0;
  bool flag = false;
  std::vector<Literal> items;
  std::string_view text;  // where it came from, for messages
};

// Garbage like "((((((...." must not recurse without bound.
constexpr int kMaxDepth = 32;

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string &what) : text_(text), what_(what) {}

  NpyHeader parse() {
    skip_space();
    if (!eat('{')) fail("header is not a dict: " + quote_bytes(text_));
    std::optional<Literal> descr, fortran, shape;
    skip_space();
    while (!eat('}')) {
      Literal key = value(0);
      if (key.kind != Literal::Kind::Str)
        fail("header key " + quote(key.text) + " is not a string");
      skip_space();
      if (!eat(':')) fail_here("expected ':' after key " + quote(key.text));
      Literal v = value(0);
      if (key.str == "descr")
        descr = std::move(v);
      else if (key.str == "fortran_order")
        fortran = std::move(v);
      else if (key.str == "shape")
        shape = std::move(v);
      else
        fail("header has unexpected key " + quote(key.text));
      skip_space();
      if (eat(',')) {
        skip_space();
        continue;
      }
      if (!eat('}')) fail_here("expected ',' or '}' in header dict");
      break;
    }
    skip_space();
    if (pos_ != text_.size()) fail_here("unexpected text after header dict");
    return build(descr, fortran, shape);
  }

 private:
  NpyHeader build(const std::optional<Literal> &descr, const std::optional<Literal> &fortran,
                  const std::optional<Literal> &shape) {
    if (!descr) fail("header is missing key 'descr'");
    if (!fortran) fail("header is missing key 'fortran_order'");
    if (!shape) fail("header is missing key 'shape'");
    NpyHeader h;
    // A structured dtype (a list of fields) is a valid header but not a dtype
    // we hold; report it as one.
    if (descr->kind != Literal::Kind::Str && descr->kind != Literal::Kind::Seq)
      fail("descr " + quote(descr->text) + " is not a dtype string");
    h.descr = descr->kind == Literal::Kind::Str ? descr->str : std::string(descr->text);
    if (fortran->kind != Literal::Kind::Bool)
      fail("fortran_order " + quote(fortran->text) + " is not True or False");
    h.fortran_order = fortran->flag;
    if (shape->kind != Literal::Kind::Seq) fail("shape " + quote(shape->text) + " is not a tuple");
    for (const Literal &d : shape->items) {
      if (d.kind != Literal::Kind::Int)
        fail("shape " + quote(shape->text) + " holds " + quote(d.text) + ", not an integer");
      h.shape.push_back(d.num);
    }
    h.shape_text = std::string(shape->text);
    return h;
  }

  Literal value(int depth) {
    if (depth > kMaxDepth) fail_here("header nests deeper than " + std::to_string(kMaxDepth));
    skip_space();
    size_t start = pos_;
    Literal v;
    if (at_end()) fail_here("header ends where a value was expected");
    char c = text_[pos_];
    if (c == '\'' || c == '"') {
      v.kind = Literal::Kind::Str;
      v.str = string_literal();
    } else if (c == '(' || c == '[') {
      v.kind = Literal::Kind::Seq;
      v.items = sequence(c == '(' ? ')' : ']', depth);
    } else if (c == '-' || c == '+' || is_digit(c)) {
      v.kind = Literal::Kind::Int;
      v.num = integer();
    } else if (eat_word("True") || eat_word("False")) {
      v.kind = Literal::Kind::Bool;
      v.flag = text_[start] == 'T';
    } else if (eat_word("None")) {
      v.kind = Literal::Kind::None;
    } else {
      fail_here("unexpected character in header");
    }
    v.text = text_.substr(start, pos_ - start);
    return v;
  }

  std::string string_literal() {
    char quote_char = text_[pos_++];
    std::string s;
    while (!at_end() && text_[pos_] != quote_char) {
      if (text_[pos_] == '\n') break;
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      s += text_[pos_++];
    }
    if (!eat(quote_char)) fail_here("unterminated string in header");
    return s;
  }

  std::vector<Literal> sequence(char close, int depth) {
    ++pos_;  // the opening bracket
    std::vector<Literal> items;
    skip_space();
    while (!eat(close)) {
      items.push_back(value(depth + 1));
      skip_space();
      if (eat(',')) {
        skip_space();
        continue;
      }
      if (!eat(close)) fail_here(std::string("expected ',' or '") + close + "' in header");
      break;
    }
    return items;
  }

  int64_t integer() {
    size_t start = pos_;
    bool negative = text_[pos_] == '-';
    if (text_[pos_] == '-' || text_[pos_] == '+') ++pos_;
    if (at_end() || !is_digit(text_[pos_])) fail_here("expected digits in header");
    int64_t n = 0;
    while (!at_end() && is_digit(text_[pos_])) {
      int digit = text_[pos_++] - '0';
      if (n > (INT64_MAX - digit) / 10)
        fail("integer " + quote(text_.substr(start, pos_ - start)) + "... in header is too large");
      n = n * 10 + digit;
    }
    // Python 2 wrote long integers with an L suffix.
    if (!at_end() && (text_[pos_] == 'L' || text_[pos_] == 'l')) ++pos_;
    return negative ? -n : n;
  }

  bool eat_word(std::string_view w) {
    if (text_.substr(pos_, w.size()) != w) return false;
    size_t end = pos_ + w.size();
    auto next = end < text_.size() ? static_cast<unsigned char>(text_[end]) : ' ';
    if (std::isalnum(next) || next == '_') return false;
    pos_ = end;
    return true;
  }

  bool eat(char c) {
    if (at_end() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  void skip_space() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                         text_[pos_] == '\r'))
      ++pos_;
  }

  bool at_end() const { return pos_ >= text_.size(); }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  // Spans of header text are Python source already: escape, do not re-quote.
  static std::string quote(std::string_view s) { return escape_bytes(s); }

  [[noreturn]] void fail(const std::string &msg) const { throw IOError(what_ + ": " + msg); }
  [[noreturn]] void fail_here(const std::string &msg) const {
    fail(msg + " at offset " + std::to_string(pos_) + ": " + quote_bytes(text_.substr(pos_)));
  }

  std::string_view text_;
  const std::string &what_;
  size_t pos_ = 0;
};

}  // namespace

NpyHeader parse_npy_header(std::string_view text, const std::string &what) {
  return HeaderParser(text, what).parse();
}

std::string format_npy_header(const std::string &descr, const Shape &shape) {
  // Python's repr of a tuple: a one-element tuple keeps its trailing comma.
  std::string dims = "(";
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  dims += ")";
  return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + dims + ", }";
}

std::string escape_bytes(std::string_view bytes, size_t max_chars) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == max_chars) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string quote_bytes(std::string_view bytes, size_t max_chars) {
  return "'" + escape_bytes(bytes, max_chars) + "'";
}

}  // namespace fusejit
