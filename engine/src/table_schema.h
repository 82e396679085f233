// The column layout of a queue table as the engine needs it to evaluate
// conditions (`queue_wait('t:prio=0')`) on stored rows without the server's
// table definition: which columns exist, how to step over each in a packed
// row (row_codec.h), where its NULL bit is, and which ones hold integers.
// Written into the data file when the table is created, and refreshed from
// the server's definition whenever a handler opens the table.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

struct TABLE;

namespace q4m {

struct SchemaColumn {
  enum Storage : uint8_t { FIXED = 0, VARCHAR = 1, BLOB = 2 };
  std::string name;
  Storage storage = FIXED;
  uint32_t size = 0;         // FIXED: bytes; VARCHAR: bytes of the length prefix
  int32_t null_offset = -1;  // byte in the null bitmap, -1 = NOT NULL
  uint8_t null_mask = 0;
  // Integer-valued columns (usable in conditions): their width in bytes
  // (1, 2, 3, 4, 8), signedness, and whether it is the 3-byte DATE whose
  // value is its packed encoding (day + 32*month + 512*year).
  uint8_t int_bytes = 0;
  bool is_unsigned = false;
  int int_slot = -1;         // index into RowInts::values, -1 = not usable
};

struct TableSchema {
  uint32_t null_bytes = 0;
  std::vector<SchemaColumn> columns;
  int int_columns = 0;

  bool empty() const { return columns.empty(); }
  // Column usable in conditions by name (case-insensitive, exact), or nullptr.
  const SchemaColumn *find_int_column(const std::string &name) const;
  std::string serialize() const;
  static bool parse(const std::string &data, TableSchema *out);
};

TableSchema schema_of(TABLE *table);

// The integer column values of one row, for condition evaluation.
struct RowInts {
  std::vector<int64_t> values;
  std::vector<bool> is_null;
};

bool extract_ints(const TableSchema &schema, const std::string &packed, RowInts *out);

}  // namespace q4m
