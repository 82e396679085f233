// Conditional subscription: the expression language of `queue_wait('t:cond')`
// (q4m-spec.md 4.3), compiled against a table's integer columns and evaluated
// per row by the engine. Values are signed 64-bit integers or NULL; a row
// matches when the whole expression is non-NULL and non-zero.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "table_schema.h"

namespace q4m {

class Condition {
 public:
  // Compiles `text`; on failure returns nullptr and describes why in *error.
  static std::shared_ptr<const Condition> compile(const std::string &text,
                                                  const TableSchema &schema, std::string *error);
  bool matches(const RowInts &row) const;
  const std::string &text() const { return text_; }

  // Scan cursor, so each row is evaluated at most once: rows up to `cursor`
  // were found not to match (or were taken), valid while the table's release
  // generation is `generation` (a released row may sit below the cursor).
  // Guarded by the engine's mutex; a condition belongs to one table.
  mutable uint64_t cursor = 0;
  mutable uint64_t generation = 0;

  struct Node;

 private:
  std::string text_;
  std::vector<Node> nodes_;  // postfix program, evaluated on a small stack
  friend class ConditionParser;
};

}  // namespace q4m
