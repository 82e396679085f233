#include "row_codec.h"

#include <cstring>

namespace q4m {
namespace {

bool is_blob(const Field *field) { return field->flags & BLOB_FLAG; }
bool is_varchar(const Field *field) { return field->real_type() == MYSQL_TYPE_VARCHAR; }

uint32_t read_le(const uchar *p, uint bytes) {
  uint32_t v = 0;
  for (uint i = bytes; i-- > 0;) v = (v << 8) | p[i];
  return v;
}
void write_le(uchar *p, uint bytes, uint32_t v) {
  for (uint i = 0; i < bytes; i++) p[i] = static_cast<uchar>(v >> (8 * i));
}

}  // namespace

void pack_row(TABLE *table, const uchar *record, std::string *out) {
  const my_ptrdiff_t shift = record - table->record[0];
  out->append(reinterpret_cast<const char *>(record), table->s->null_bytes);
  for (Field **fp = table->field; *fp; fp++) {
    Field *field = *fp;
    if (!field->stored_in_db() || field->is_null_in_record(record)) continue;
    const uchar *at = field->ptr + shift;
    if (is_blob(field)) {
      const uint length_bytes = static_cast<Field_blob *>(field)->pack_length_no_ptr();
      const uint32_t length = read_le(at, length_bytes);
      const uchar *data;
      memcpy(&data, at + length_bytes, sizeof data);
      uchar prefix[4];
      write_le(prefix, 4, length);
      out->append(reinterpret_cast<char *>(prefix), 4);
      if (length) out->append(reinterpret_cast<const char *>(data), length);
    } else if (is_varchar(field)) {
      const uint length_bytes = field->pack_length() - field->field_length;
      const uint32_t length = read_le(at, length_bytes);
      out->append(reinterpret_cast<const char *>(at), length_bytes + length);
    } else {
      out->append(reinterpret_cast<const char *>(at), field->pack_length());
    }
  }
}

bool unpack_row(TABLE *table, uchar *record, const std::string &packed) {
  const my_ptrdiff_t shift = record - table->record[0];
  const uchar *p = reinterpret_cast<const uchar *>(packed.data());
  const uchar *end = p + packed.size();
  const uint null_bytes = table->s->null_bytes;
  if (packed.size() < null_bytes) return false;
  // Start from the defaults so NULL columns and padding are deterministic.
  memcpy(record, table->s->default_values, table->s->reclength);
  memcpy(record, p, null_bytes);
  p += null_bytes;
  for (Field **fp = table->field; *fp; fp++) {
    Field *field = *fp;
    if (!field->stored_in_db() || field->is_null_in_record(record)) continue;
    uchar *at = field->ptr + shift;
    if (is_blob(field)) {
      if (end - p < 4) return false;
      const uint32_t length = read_le(p, 4);
      p += 4;
      if (static_cast<size_t>(end - p) < length) return false;
      const uint length_bytes = static_cast<Field_blob *>(field)->pack_length_no_ptr();
      write_le(at, length_bytes, length);
      const uchar *data = p;  // never NULL: some server code reads empty BLOBs through it
      memcpy(at + length_bytes, &data, sizeof data);
      p += length;
    } else if (is_varchar(field)) {
      const uint length_bytes = field->pack_length() - field->field_length;
      if (static_cast<size_t>(end - p) < length_bytes) return false;
      const uint32_t length = read_le(p, length_bytes);
      if (length > field->field_length || static_cast<size_t>(end - p) < length_bytes + length)
        return false;
      memcpy(at, p, length_bytes + length);
      p += length_bytes + length;
    } else {
      const uint size = field->pack_length();
      if (static_cast<size_t>(end - p) < size) return false;
      memcpy(at, p, size);
      p += size;
    }
  }
  return p == end;
}

}  // namespace q4m
