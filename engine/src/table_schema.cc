#include "server.h"

#include "table_schema.h"

#include <strings.h>

namespace q4m {
namespace {

void put_u32(std::string *out, uint32_t v) {
  for (int i = 0; i < 4; i++) out->push_back(static_cast<char>(v >> (8 * i)));
}
bool get_u32(const std::string &in, size_t *at, uint32_t *v) {
  if (*at + 4 > in.size()) return false;
  *v = 0;
  for (int i = 3; i >= 0; i--) *v = (*v << 8) | static_cast<unsigned char>(in[*at + i]);
  *at += 4;
  return true;
}
uint64_t read_le(const unsigned char *p, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = bytes; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

}  // namespace

const SchemaColumn *TableSchema::find_int_column(const std::string &name) const {
  // Compared as the server compares column names (utf8, case-insensitive).
  for (const SchemaColumn &c : columns)
    if (c.int_slot >= 0 && !my_strcasecmp(system_charset_info, c.name.c_str(), name.c_str()))
      return &c;
  return nullptr;
}

TableSchema schema_of(TABLE *table) {
  TableSchema s;
  s.null_bytes = table->s->null_bytes;
  for (Field **fp = table->field; *fp; fp++) {
    Field *f = *fp;
    if (!f->stored_in_db()) continue;
    SchemaColumn c;
    c.name.assign(f->field_name.str, f->field_name.length);
    if (f->flags & BLOB_FLAG) {
      c.storage = SchemaColumn::BLOB;
    } else if (f->real_type() == MYSQL_TYPE_VARCHAR) {
      c.storage = SchemaColumn::VARCHAR;
      c.size = f->pack_length() - f->field_length;
    } else {
      c.storage = SchemaColumn::FIXED;
      c.size = f->pack_length();
    }
    if (f->null_ptr) {
      c.null_offset = static_cast<int32_t>(f->null_ptr - table->record[0]);
      c.null_mask = f->null_bit;
    }
    switch (f->real_type()) {
      case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_INT24:
      case MYSQL_TYPE_LONG: case MYSQL_TYPE_LONGLONG:
        c.int_bytes = static_cast<uint8_t>(f->pack_length());
        c.is_unsigned = f->flags & UNSIGNED_FLAG;
        break;
      case MYSQL_TYPE_NEWDATE:  // the 3-byte DATE: its packed value
        c.int_bytes = 3;
        c.is_unsigned = true;
        break;
      default:
        break;
    }
    if (c.int_bytes) c.int_slot = s.int_columns++;
    s.columns.push_back(std::move(c));
  }
  return s;
}

std::string TableSchema::serialize() const {
  std::string out;
  put_u32(&out, 1);  // layout version
  put_u32(&out, null_bytes);
  put_u32(&out, static_cast<uint32_t>(columns.size()));
  for (const SchemaColumn &c : columns) {
    put_u32(&out, static_cast<uint32_t>(c.name.size()));
    out += c.name;
    out.push_back(static_cast<char>(c.storage));
    put_u32(&out, c.size);
    put_u32(&out, static_cast<uint32_t>(c.null_offset));
    out.push_back(static_cast<char>(c.null_mask));
    out.push_back(static_cast<char>(c.int_bytes));
    out.push_back(static_cast<char>(c.is_unsigned));
  }
  return out;
}

bool TableSchema::parse(const std::string &data, TableSchema *out) {
  TableSchema s;
  size_t at = 0;
  uint32_t version, count;
  if (!get_u32(data, &at, &version) || version != 1 || !get_u32(data, &at, &s.null_bytes) ||
      !get_u32(data, &at, &count))
    return false;
  for (uint32_t i = 0; i < count; i++) {
    SchemaColumn c;
    uint32_t name_length, null_offset;
    if (!get_u32(data, &at, &name_length) || at + name_length > data.size()) return false;
    c.name = data.substr(at, name_length);
    at += name_length;
    if (at + 1 > data.size()) return false;
    c.storage = static_cast<SchemaColumn::Storage>(data[at++]);
    if (!get_u32(data, &at, &c.size) || !get_u32(data, &at, &null_offset) || at + 3 > data.size())
      return false;
    c.null_offset = static_cast<int32_t>(null_offset);
    c.null_mask = static_cast<uint8_t>(data[at++]);
    c.int_bytes = static_cast<uint8_t>(data[at++]);
    c.is_unsigned = data[at++] != 0;
    if (c.storage > SchemaColumn::BLOB) return false;
    if (c.int_bytes) c.int_slot = s.int_columns++;
    s.columns.push_back(std::move(c));
  }
  *out = std::move(s);
  return true;
}

bool extract_ints(const TableSchema &schema, const std::string &packed, RowInts *out) {
  const auto *data = reinterpret_cast<const unsigned char *>(packed.data());
  const size_t size = packed.size();
  out->values.assign(schema.int_columns, 0);
  out->is_null.assign(schema.int_columns, true);
  if (size < schema.null_bytes) return false;
  size_t at = schema.null_bytes;
  for (const SchemaColumn &c : schema.columns) {
    if (c.null_offset >= 0 && static_cast<uint32_t>(c.null_offset) < schema.null_bytes &&
        (data[c.null_offset] & c.null_mask))
      continue;  // NULL: nothing stored
    size_t length;
    if (c.storage == SchemaColumn::BLOB) {
      if (at + 4 > size) return false;
      length = 4 + read_le(data + at, 4);
    } else if (c.storage == SchemaColumn::VARCHAR) {
      if (at + c.size > size) return false;
      length = c.size + read_le(data + at, c.size);
    } else {
      length = c.size;
    }
    if (at + length > size) return false;
    if (c.int_slot >= 0) {
      uint64_t v = read_le(data + at, c.int_bytes);
      if (!c.is_unsigned && c.int_bytes < 8 && (v >> (8 * c.int_bytes - 1)) & 1)
        v |= ~uint64_t(0) << (8 * c.int_bytes);  // sign-extend
      out->values[c.int_slot] = static_cast<int64_t>(v);
      out->is_null[c.int_slot] = false;
    }
    at += length;
  }
  return true;
}

}  // namespace q4m
