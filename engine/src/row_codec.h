// Converts between the server's in-memory record format (TABLE::record[0]
// layout, BLOBs as pointers) and the compact form stored in the data file:
//   the null bitmap bytes as they are (they also hold BIT columns' odd bits),
//   then, for each stored column that is not NULL, in column order:
//     BLOB/TEXT/JSON/GEOMETRY: u32 length + the bytes;
//     VARCHAR/VARBINARY: its length prefix + only the used bytes;
//     anything else: its fixed-size image.
#pragma once
#include "server.h"

#include <string>

namespace q4m {

// Appends the packed form of `record` (laid out like table->record[0]).
void pack_row(TABLE *table, const uchar *record, std::string *out);

// Fills `record` from `packed`. BLOB pointers in the record point into
// `packed`, which the caller keeps alive until the next read. Returns false if
// the data does not fit the table's layout.
bool unpack_row(TABLE *table, uchar *record, const std::string &packed);

}  // namespace q4m
