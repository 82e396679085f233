#include "condition.h"

#include <strings.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>

namespace q4m {

namespace {
enum class Op : uint8_t {
  Const, Column, Or, Xor, And, Not, Eq, Ne, Lt, Le, Gt, Ge, IsTrue, IsNotTrue, IsFalse,
  IsNotFalse, IsNull, IsNotNull, BitOr, BitAnd, Shl, Shr, Add, Sub, Mul, Div, Mod, BitXor,
  Neg, BitNot, Pow
};

struct Value {
  bool null;
  int64_t v;
};

bool truthy(Value x) { return !x.null && x.v != 0; }
Value of(bool b) { return Value{false, b ? 1 : 0}; }

uint64_t u(int64_t v) { return static_cast<uint64_t>(v); }
int64_t s(uint64_t v) { return static_cast<int64_t>(v); }
}  // namespace

struct Condition::Node {
  Op op;
  int64_t value;  // Const: the literal; Column: the int slot
};

// Recursive-descent parser producing a postfix program. Precedence, lowest
// first: OR/||, XOR, AND/&&, NOT, comparisons and IS, |, &, << >>, + -,
// * div % mod, ^, unary - ~, primaries.
class ConditionParser {
 public:
  ConditionParser(const std::string &text, const TableSchema &schema, Condition *out)
      : text_(text), schema_(schema), out_(out) {}

  bool parse(std::string *error) {
    bool ok = parse_or() && (skip_space(), pos_ == text_.size());
    if (!ok) *error = error_.empty() ? "syntax error at offset " + std::to_string(pos_) : error_;
    return ok;
  }

 private:
  void emit(Op op, int64_t value = 0) { out_->nodes_.push_back(Condition::Node{op, value}); }
  void skip_space() {
    while (pos_ < text_.size() && isspace(static_cast<unsigned char>(text_[pos_]))) pos_++;
  }
  // Matches a symbol, making sure e.g. "<" does not match the start of "<=".
  bool symbol(const char *sym, const char *not_followed_by = "") {
    skip_space();
    size_t n = strlen(sym);
    if (text_.compare(pos_, n, sym) != 0) return false;
    if (pos_ + n < text_.size() && strchr(not_followed_by, text_[pos_ + n]) && *not_followed_by)
      return false;
    pos_ += n;
    return true;
  }
  static bool ident_char(char c) { return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
  // Matches a keyword as a whole word; case-insensitive unless `exact`.
  bool keyword(const char *word, bool exact = false) {
    skip_space();
    size_t n = strlen(word);
    if (pos_ + n > text_.size()) return false;
    bool same = exact ? text_.compare(pos_, n, word) == 0 : !strncasecmp(&text_[pos_], word, n);
    if (!same || (pos_ + n < text_.size() && ident_char(text_[pos_ + n]))) return false;
    pos_ += n;
    return true;
  }
  bool fail(const std::string &why) {
    if (error_.empty()) error_ = why;
    return false;
  }

  bool parse_or() {
    if (!parse_xor()) return false;
    while (keyword("or") || symbol("||")) {
      if (!parse_xor()) return false;
      emit(Op::Or);
    }
    return true;
  }
  bool parse_xor() {
    if (!parse_and()) return false;
    while (keyword("xor")) {
      if (!parse_and()) return false;
      emit(Op::Xor);
    }
    return true;
  }
  bool parse_and() {
    if (!parse_not()) return false;
    while (keyword("and") || symbol("&&")) {
      if (!parse_not()) return false;
      emit(Op::And);
    }
    return true;
  }
  bool parse_not() {
    if (keyword("not")) {
      if (!parse_rel()) return false;
      emit(Op::Not);
      return true;
    }
    return parse_rel();
  }
  bool parse_rel() {
    if (!parse_bitor()) return false;
    for (;;) {
      Op op;
      if (symbol("<=")) op = Op::Le;
      else if (symbol(">=")) op = Op::Ge;
      else if (symbol("!=")) op = Op::Ne;
      else if (symbol("<>")) return fail("'<>' is not supported; use '!='");
      else if (symbol("<", "<")) op = Op::Lt;
      else if (symbol(">", ">")) op = Op::Gt;
      else if (symbol("==")) return fail("'==' is not supported; use '='");
      else if (symbol("=")) op = Op::Eq;
      else if (keyword("is")) {
        bool negated = keyword("not");
        if (keyword("true")) emit(negated ? Op::IsNotTrue : Op::IsTrue);
        else if (keyword("false")) emit(negated ? Op::IsNotFalse : Op::IsFalse);
        else if (keyword("null")) emit(negated ? Op::IsNotNull : Op::IsNull);
        else return fail("expected TRUE, FALSE or NULL after IS");
        continue;
      } else return true;
      if (!parse_bitor()) return false;
      emit(op);
    }
  }
  bool parse_bitor() {
    if (!parse_bitand()) return false;
    while (symbol("|", "|")) {
      if (!parse_bitand()) return false;
      emit(Op::BitOr);
    }
    return true;
  }
  bool parse_bitand() {
    if (!parse_shift()) return false;
    while (symbol("&", "&")) {
      if (!parse_shift()) return false;
      emit(Op::BitAnd);
    }
    return true;
  }
  bool parse_shift() {
    if (!parse_add()) return false;
    for (;;) {
      Op op;
      if (symbol("<<")) op = Op::Shl;
      else if (symbol(">>")) op = Op::Shr;
      else return true;
      if (!parse_add()) return false;
      emit(op);
    }
  }
  bool parse_add() {
    if (!parse_mul()) return false;
    for (;;) {
      Op op;
      if (symbol("+")) op = Op::Add;
      else if (symbol("-")) op = Op::Sub;
      else return true;
      if (!parse_mul()) return false;
      emit(op);
    }
  }
  bool parse_mul() {
    if (!parse_bitxor()) return false;
    for (;;) {
      Op op;
      if (symbol("*")) op = Op::Mul;
      else if (symbol("%")) op = Op::Mod;
      else if (keyword("div", true)) op = Op::Div;  // lower-case only, as in Q4M
      else if (keyword("mod", true)) op = Op::Mod;
      else return true;
      if (!parse_bitxor()) return false;
      emit(op);
    }
  }
  bool parse_bitxor() {
    if (!parse_unary()) return false;
    while (symbol("^")) {
      if (!parse_unary()) return false;
      emit(Op::BitXor);
    }
    return true;
  }
  // Nesting is bounded: the parser recurses, and server threads have small stacks.
  struct DepthGuard {
    int &depth;
    explicit DepthGuard(int &d) : depth(++d) {}
    ~DepthGuard() { --depth; }
  };
  static constexpr int kMaxDepth = 64;

  bool parse_unary() {
    DepthGuard guard(depth_);
    if (depth_ > kMaxDepth) return fail("condition nested too deeply");
    if (symbol("-")) {
      if (!parse_unary()) return false;
      emit(Op::Neg);
      return true;
    }
    if (symbol("~")) {
      if (!parse_unary()) return false;
      emit(Op::BitNot);
      return true;
    }
    return parse_primary();
  }
  bool parse_number() {
    size_t start = pos_;
    uint64_t v = 0;
    if (text_.compare(pos_, 2, "0x") == 0 || text_.compare(pos_, 2, "0X") == 0) {
      pos_ += 2;
      size_t digits = 0;
      while (pos_ < text_.size() && isxdigit(static_cast<unsigned char>(text_[pos_]))) {
        char c = static_cast<char>(tolower(text_[pos_++]));
        v = v * 16 + static_cast<uint64_t>(isdigit(static_cast<unsigned char>(c)) ? c - '0' : c - 'a' + 10);
        digits++;
      }
      if (digits == 0 || digits > 16) return fail("bad hexadecimal literal");
    } else if (text_[pos_] == '0') {  // a leading zero means octal, as in Q4M
      pos_++;
      while (pos_ < text_.size() && isdigit(static_cast<unsigned char>(text_[pos_]))) {
        if (text_[pos_] > '7') return fail("bad octal literal");
        if (v > (std::numeric_limits<uint64_t>::max() >> 3)) return fail("literal out of range");
        v = v * 8 + static_cast<uint64_t>(text_[pos_++] - '0');
      }
      if (v > uint64_t(std::numeric_limits<int64_t>::max())) return fail("literal out of range");
    } else {
      while (pos_ < text_.size() && isdigit(static_cast<unsigned char>(text_[pos_]))) {
        if (pos_ - start >= 19) return fail("literal out of range");
        v = v * 10 + static_cast<uint64_t>(text_[pos_++] - '0');
      }
      if (v > uint64_t(std::numeric_limits<int64_t>::max())) return fail("literal out of range");
    }
    if (pos_ < text_.size() && ident_char(text_[pos_])) return fail("bad numeric literal");
    emit(Op::Const, s(v));
    return true;
  }
  bool column(const std::string &name) {
    const SchemaColumn *c = schema_.find_int_column(name);
    if (!c) return fail("unknown integer column '" + name + "'");
    emit(Op::Column, c->int_slot);
    return true;
  }
  bool parse_primary() {
    skip_space();
    if (pos_ >= text_.size()) return fail("unexpected end of condition");
    const char c = text_[pos_];
    if (isdigit(static_cast<unsigned char>(c))) return parse_number();
    if (c == '(') {
      pos_++;
      if (!parse_or()) return false;
      return symbol(")") || fail("expected ')'");
    }
    if (c == '`') {
      size_t end = text_.find('`', pos_ + 1);
      if (end == std::string::npos) return fail("unterminated `name`");
      std::string name = text_.substr(pos_ + 1, end - pos_ - 1);
      pos_ = end + 1;
      return column(name);
    }
    if (text_.compare(pos_, 4, "pow(") == 0) {
      pos_ += 4;
      if (!parse_or() || !symbol(",") || !parse_or() || !symbol(")")) return fail("bad pow(a, b)");
      emit(Op::Pow);
      return true;
    }
    if (keyword("null")) {
      emit(Op::Column, -1);  // slot -1 always reads as NULL
      return true;
    }
    if (isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos_;
      while (pos_ < text_.size() && ident_char(text_[pos_])) pos_++;
      std::string name = text_.substr(start, pos_ - start);
      static const char *reserved[] = {"or", "xor", "and", "not", "is", "true", "false", "null"};
      for (const char *r : reserved)
        if (!strcasecmp(name.c_str(), r)) return fail("keyword '" + name + "' used as a column");
      return column(name);
    }
    return fail(std::string("unexpected character '") + c + "'");
  }

  const std::string &text_;
  const TableSchema &schema_;
  Condition *out_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::string error_;
};

std::shared_ptr<const Condition> Condition::compile(const std::string &text,
                                                    const TableSchema &schema, std::string *error) {
  auto c = std::make_shared<Condition>();
  c->text_ = text;
  ConditionParser parser(text, schema, c.get());
  if (!parser.parse(error)) return nullptr;
  return c;
}

bool Condition::matches(const RowInts &row) const {
  Value stack[64];
  std::vector<Value> big;  // only for very deep expressions
  Value *st = stack;
  if (nodes_.size() > 64) {
    big.resize(nodes_.size());
    st = big.data();
  }
  size_t sp = 0;
  for (const Node &n : nodes_) {
    switch (n.op) {
      case Op::Const: st[sp++] = Value{false, n.value}; continue;
      case Op::Column:
        if (n.value < 0 || static_cast<size_t>(n.value) >= row.values.size() || row.is_null[n.value])
          st[sp++] = Value{true, 0};
        else
          st[sp++] = Value{false, row.values[n.value]};
        continue;
      default: break;
    }
    // Unary operators.
    if (n.op == Op::Not || n.op == Op::Neg || n.op == Op::BitNot || n.op == Op::IsTrue ||
        n.op == Op::IsNotTrue || n.op == Op::IsFalse || n.op == Op::IsNotFalse ||
        n.op == Op::IsNull || n.op == Op::IsNotNull) {
      Value &a = st[sp - 1];
      switch (n.op) {
        case Op::Not: if (!a.null) a.v = a.v == 0; break;
        case Op::Neg: if (!a.null) a.v = s(0 - u(a.v)); break;
        case Op::BitNot: if (!a.null) a.v = ~a.v; break;
        case Op::IsTrue: a = of(truthy(a)); break;
        case Op::IsNotTrue: a = of(!truthy(a)); break;
        case Op::IsFalse: a = of(!a.null && a.v == 0); break;
        case Op::IsNotFalse: a = of(a.null || a.v != 0); break;
        case Op::IsNull: a = of(a.null); break;
        case Op::IsNotNull: a = of(!a.null); break;
        default: break;
      }
      continue;
    }
    Value b = st[--sp];
    Value &a = st[sp - 1];
    switch (n.op) {
      case Op::Or:
        a = truthy(a) || truthy(b) ? of(true) : (a.null || b.null) ? Value{true, 0} : of(false);
        continue;
      case Op::And:  // as in Q4M: NULL only when both sides are NULL
        a = a.null && b.null ? Value{true, 0} : of(truthy(a) && truthy(b));
        continue;
      default: break;
    }
    if (a.null || b.null) {
      a = Value{true, 0};
      continue;
    }
    switch (n.op) {
      case Op::Xor: a = of((a.v != 0) != (b.v != 0)); break;
      case Op::Eq: a = of(a.v == b.v); break;
      case Op::Ne: a = of(a.v != b.v); break;
      case Op::Lt: a = of(a.v < b.v); break;
      case Op::Le: a = of(a.v <= b.v); break;
      case Op::Gt: a = of(a.v > b.v); break;
      case Op::Ge: a = of(a.v >= b.v); break;
      case Op::BitOr: a.v |= b.v; break;
      case Op::BitAnd: a.v &= b.v; break;
      case Op::BitXor: a.v ^= b.v; break;
      case Op::Shl: a.v = b.v < 0 || b.v > 63 ? 0 : s(u(a.v) << b.v); break;
      case Op::Shr: a.v = b.v < 0 || b.v > 63 ? 0 : a.v >> b.v; break;
      case Op::Add: a.v = s(u(a.v) + u(b.v)); break;
      case Op::Sub: a.v = s(u(a.v) - u(b.v)); break;
      case Op::Mul: a.v = s(u(a.v) * u(b.v)); break;
      case Op::Div:
        if (b.v == 0) a = Value{true, 0};
        else if (b.v == -1) a.v = s(0 - u(a.v));  // no overflow trap on INT64_MIN / -1
        else a.v /= b.v;
        break;
      case Op::Mod:
        if (b.v == 0) a = Value{true, 0};
        else if (b.v == -1) a.v = 0;
        else a.v %= b.v;
        break;
      case Op::Pow: {
        double r = std::trunc(std::pow(static_cast<double>(a.v), static_cast<double>(b.v)));
        if (!std::isfinite(r) || r >= 9.2233720368547758e18 || r < -9.2233720368547758e18)
          a = Value{true, 0};
        else
          a.v = static_cast<int64_t>(r);
        break;
      }
      default: break;
    }
  }
  return sp == 1 && truthy(st[0]);
}

}  // namespace q4m
