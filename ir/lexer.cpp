#include "ir/lexer.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>

#include "ir/error.h"

namespace fusejit::fj {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

// A byte as an error message shows it: printable ASCII as is, others in hex,
// so that a stray control byte does not garble the terminal.
std::string show_char(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string(1, c);
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
  return buf;
}

std::optional<Tok> single_char_token(char c) {
  switch (c) {
    case '(':
      return Tok::LParen;
    case ')':
      return Tok::RParen;
    case '[':
      return Tok::LBracket;
    case ']':
      return Tok::RBracket;
    case ',':
      return Tok::Comma;
    case ':':
      return Tok::Colon;
    case '=':
      return Tok::Assign;
    case '+':
      return Tok::Plus;
    case '-':
      return Tok::Minus;
    case '*':
      return Tok::Star;
    case '/':
      return Tok::Slash;
    case '@':
      return Tok::At;
    case '<':
      return Tok::Lt;
    case '>':
      return Tok::Gt;
    case '%':
      return Tok::Percent;
    default:
      return std::nullopt;
  }
}

// == <= >= != //
std::optional<Tok> two_char_token(char c, char next) {
  if (next == '=') {
    if (c == '=') return Tok::EqEq;
    if (c == '<') return Tok::Le;
    if (c == '>') return Tok::Ge;
    if (c == '!') return Tok::Ne;
  }
  if (c == '/' && next == '/') return Tok::SlashSlash;
  return std::nullopt;
}

}  // namespace

void Source::fail(Loc at, const std::string &message) const {
  size_t begin = std::min(at.offset, text.size());
  while (begin > 0 && text[begin - 1] != '\n') --begin;
  size_t end = text.find('\n', begin);
  if (end == std::string_view::npos) end = text.size();
  if (end > begin && text[end - 1] == '\r') --end;
  std::string_view line = text.substr(begin, end - begin);
  // Keep tabs in the caret line so the caret lines up under a tabbed source line.
  std::string caret;
  for (size_t i = 0; i + 1 < static_cast<size_t>(at.col); ++i)
    caret += i < line.size() && line[i] == '\t' ? '\t' : ' ';
  caret += '^';
  throw ParseError(detail::concat(filename, ":", at.line, ":", at.col, ": error: ", message, "\n",
                                  line, "\n", caret));
}

bool is_reserved(std::string_view word) {
  return word == "input" || word == "out" || word == "inf" || word == "nan" || word == "true" ||
         word == "false";
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !is_ident_start(s[0]) || is_reserved(s)) return false;
  for (char c : s)
    if (!is_ident_char(c)) return false;
  return true;
}

std::string describe(const Token &t) {
  switch (t.kind) {
    case Tok::Newline:
      return "end of line";
    case Tok::Eof:
      return "end of file";
    default:
      return "'" + std::string(t.text) + "'";
  }
}

const Token &Lexer::peek(size_t k) {
  while (ahead_.size() <= k) ahead_.push_back(lex());
  return ahead_[k];
}

Token Lexer::next() {
  peek();
  Token t = ahead_.front();
  ahead_.pop_front();
  return t;
}

Token Lexer::lex() {
  std::string_view s = src_.text;
  // Skip blanks and comments; a newline is a token of its own.
  while (pos_ < s.size()) {
    char c = s[pos_];
    if (c == ' ' || c == '\t' || c == '\r') {
      ++pos_;
    } else if (c == '#') {
      while (pos_ < s.size() && s[pos_] != '\n') ++pos_;
    } else {
      break;
    }
  }
  Token t;
  t.loc = here();
  if (pos_ >= s.size()) {
    t.kind = Tok::Eof;
    return t;
  }
  char c = s[pos_];
  if (c == '\n') {
    t.kind = Tok::Newline;
    ++pos_;
    ++line_;
    line_start_ = pos_;
    return t;
  }
  if (is_digit(c) || (c == '.' && pos_ + 1 < s.size() && is_digit(s[pos_ + 1])))
    return lex_number(t.loc);
  if (is_ident_start(c)) {
    size_t start = pos_;
    while (pos_ < s.size() && is_ident_char(s[pos_])) ++pos_;
    t.kind = Tok::Ident;
    t.text = s.substr(start, pos_ - start);
    return t;
  }
  if (c == '"') {
    size_t end = pos_ + 1;
    while (end < s.size() && s[end] != '"' && s[end] != '\n') ++end;
    if (end >= s.size() || s[end] != '"') src_.fail(t.loc, "unterminated string");
    t.kind = Tok::String;
    t.text = s.substr(pos_, end + 1 - pos_);
    pos_ = end + 1;
    return t;
  }
  size_t len = 1;
  char next = pos_ + 1 < s.size() ? s[pos_ + 1] : '\0';
  if (std::optional<Tok> two = two_char_token(c, next)) {
    t.kind = *two;
    len = 2;
  } else if (std::optional<Tok> k = single_char_token(c)) {
    t.kind = *k;
  } else {
    src_.fail(t.loc, "unexpected character '" + show_char(c) + "'");
  }
  t.text = s.substr(pos_, len);
  pos_ += len;
  return t;
}

// DIGITS ['.' DIGITS] [('e'|'E') ['+'|'-'] DIGITS], or '.' DIGITS ...; a sign
// is never part of a number (`-1` is unary minus applied to `1`).
Token Lexer::lex_number(Loc start) {
  std::string_view s = src_.text;
  size_t begin = pos_;
  bool integer = true;
  while (pos_ < s.size() && is_digit(s[pos_])) ++pos_;
  if (pos_ < s.size() && s[pos_] == '.') {
    integer = false;
    ++pos_;
    while (pos_ < s.size() && is_digit(s[pos_])) ++pos_;
  }
  if (pos_ < s.size() && (s[pos_] == 'e' || s[pos_] == 'E')) {
    integer = false;
    ++pos_;
    if (pos_ < s.size() && (s[pos_] == '+' || s[pos_] == '-')) ++pos_;
    size_t digits = pos_;
    while (pos_ < s.size() && is_digit(s[pos_])) ++pos_;
    if (pos_ == digits) {
      while (pos_ < s.size() && is_ident_char(s[pos_])) ++pos_;
      src_.fail(start, "malformed number '" + std::string(s.substr(begin, pos_ - begin)) + "'");
    }
  }
  // `2x` or `1.5.2` is a typo, not a number followed by something else.
  if (pos_ < s.size() && (is_ident_char(s[pos_]) || s[pos_] == '.')) {
    while (pos_ < s.size() && (is_ident_char(s[pos_]) || s[pos_] == '.')) ++pos_;
    src_.fail(start, "malformed number '" + std::string(s.substr(begin, pos_ - begin)) + "'");
  }
  Token t;
  t.kind = Tok::Number;
  t.loc = start;
  t.text = s.substr(begin, pos_ - begin);
  t.is_integer = integer;
  auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), t.number);
  if (ec != std::errc() || end != t.text.data() + t.text.size())
    src_.fail(start, "number '" + std::string(t.text) + "' is out of range");
  return t;
}

}  // namespace fusejit::fj
