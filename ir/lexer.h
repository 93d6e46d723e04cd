// Tokens of the `.fj` text format, and the one place that formats its
// errors (`FILE:LINE:COL: error: MESSAGE`, the line, a caret).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace fusejit::fj {

// A position in the source: byte offset, and 1-based line and column.
struct Loc {
  size_t offset = 0;
  int line = 1;
  int col = 1;
};

// The source text and its name, for error messages.
struct Source {
  std::string_view text;
  std::string filename;

  // Throws ParseError "FILE:LINE:COL: error: MESSAGE\n<line>\n<caret>".
  [[noreturn]] void fail(Loc at, const std::string &message) const;
};

enum class Tok {
  Ident,
  Number,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,   // : (in slices)
  Assign,  // =
  Plus,
  Minus,
  Star,
  Slash,
  At,
  Lt,
  Gt,
  EqEq,
  Le,          // <=
  Ge,          // >=
  Ne,          // !=
  SlashSlash,  // //
  Percent,     // %
  String,      // "same": one line, no escapes; text keeps the quotes
  Newline,     // ends a statement; blank and comment-only lines still produce one
  Eof,
};

struct Token {
  Tok kind = Tok::Eof;
  std::string_view text;  // the lexeme ("" for Newline and Eof)
  Loc loc;
  // Number only: its value, and whether it was written as an integer
  // (no '.' and no exponent), which is what shapes and dims require.
  double number = 0;
  bool is_integer = false;
};

// Words that cannot name a value: `input`, `out`, and the literals `inf`,
// `nan`, `true`, `false`.
bool is_reserved(std::string_view word);
// Whether `s` can name a value: [A-Za-z_][A-Za-z0-9_]* and not reserved.
bool is_identifier(std::string_view s);

// "'foo'", "end of line", "end of file": how an error names a token.
std::string describe(const Token &t);

// Lexes on demand, so errors come out in source order; peek(k) looks ahead
// a bounded number of tokens (the parser needs at most three).
class Lexer {
 public:
  explicit Lexer(const Source &src) : src_(src) {}

  const Token &peek(size_t k = 0);
  Token next();

 private:
  Token lex();
  Token lex_number(Loc start);
  Loc here() const { return Loc{pos_, line_, static_cast<int>(pos_ - line_start_) + 1}; }

  const Source &src_;
  std::deque<Token> ahead_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int line_ = 1;
};

}  // namespace fusejit::fj
