#include "ha_queue.h"

#include <cerrno>

#include "row_codec.h"
#include "table_schema.h"

namespace q4m {
namespace {

// ALTER TABLE (and OPTIMIZE, which recreates) copy every row, owned ones too,
// so that rows and their ownership survive the copy.
bool is_copy_statement(THD *thd) {
  const auto cmd = static_cast<enum_sql_command>(thd_sql_command(thd));
  return cmd == SQLCOM_ALTER_TABLE || cmd == SQLCOM_OPTIMIZE;
}

bool is_insert_statement(THD *thd) {
  const auto cmd = static_cast<enum_sql_command>(thd_sql_command(thd));
  return cmd == SQLCOM_INSERT || cmd == SQLCOM_INSERT_SELECT || cmd == SQLCOM_REPLACE ||
         cmd == SQLCOM_REPLACE_SELECT || cmd == SQLCOM_LOAD;
}

bool is_delete_statement(THD *thd) {
  const auto cmd = static_cast<enum_sql_command>(thd_sql_command(thd));
  return cmd == SQLCOM_DELETE || cmd == SQLCOM_DELETE_MULTI;
}

// Rows buffered by a multi-row INSERT are committed in chunks of this size so
// that INSERT ... SELECT of a huge table does not hold it all in memory.
constexpr size_t kBulkChunkBytes = 8u << 20;

}  // namespace

ha_queue::~ha_queue() {
  if (qt_) close();
}

ulonglong ha_queue::table_flags() const {
  // With the binary log on, INSERT and DELETE are logged like any table's
  // (as statements or rows); consumption through the functions is not a
  // table write and is not logged (see engine/README.md).
  return HA_NO_TRANSACTIONS | HA_REC_NOT_IN_SEQ | HA_CAN_GEOMETRY | HA_CAN_BIT_FIELD |
         HA_FILE_BASED | HA_NO_AUTO_INCREMENT | HA_STATS_RECORDS_IS_EXACT | HA_HAS_RECORDS |
         HA_BINLOG_ROW_CAPABLE | HA_BINLOG_STMT_CAPABLE;
}

int ha_queue::open(const char *name, int, uint) {
  int error = 0;
  qt_ = open_table(name, &error);
  if (!qt_) return error == ENOENT ? HA_ERR_NO_SUCH_TABLE : error;
  thr_lock_data_init(&qt_->thr_lock, &lock_data_, nullptr);
  ref_length = sizeof(uint64_t);
  // The server's definition is the authority on the column layout (files of
  // older builds carry none); conditions compiled for another layout go.
  TableSchema schema = schema_of(table);
  mysql_mutex_lock(&g_queue_mutex);
  if (qt_->schema.serialize() != schema.serialize()) {
    qt_->schema = std::move(schema);
    qt_->conditions.clear();
    for (auto &row : qt_->rows) row.second.ints.reset();
  }
  mysql_mutex_unlock(&g_queue_mutex);
  return 0;
}

int ha_queue::close() {
  if (!qt_) return 0;
  int error = finish_statement();
  qt_->release();
  qt_ = nullptr;
  return error;
}

int ha_queue::create(const char *name, TABLE *form, HA_CREATE_INFO *) {
  return create_table_file(name, schema_of(form).serialize());
}

int ha_queue::delete_table(const char *name) { return drop_table_file(name); }

int ha_queue::rename_table(const char *from, const char *to) {
  return rename_table_file(from, to);
}

int ha_queue::rnd_init(bool) {
  THD *thd = ha_thd();
  ConnState *c = conn();
  cursor_ = 0;
  owned_row_returned_ = false;
  if (is_copy_statement(thd)) {
    scan_ = Scan::all;
    block_assignment();  // until the statement ends: the copy must be exact
  } else if (c && c->owner_mode) {
    scan_ = c->owned_table == qt_ ? Scan::owned : Scan::none;
  } else {
    scan_ = Scan::visible;
    // While a DELETE scans, rows it has seen must not be handed out.
    if (is_delete_statement(thd)) block_assignment();
  }
  return 0;
}

int ha_queue::rnd_end() { return 0; }

int ha_queue::rnd_next(uchar *buf) {
  ConnState *c = conn();
  uint64_t rowid = 0;
  StoredRow stored{};
  ConnState *owner = nullptr;

  mysql_mutex_lock(&g_queue_mutex);
  std::shared_ptr<DataFile> file = qt_->log.file();  // the file `stored` refers to
  switch (scan_) {
    case Scan::visible: {
      auto it = qt_->free_rows.upper_bound(cursor_);
      if (it != qt_->free_rows.end()) {
        rowid = *it;
        stored = qt_->rows[rowid].stored;
      }
      break;
    }
    case Scan::all: {
      auto it = qt_->rows.upper_bound(cursor_);
      if (it != qt_->rows.end()) {
        rowid = it->first;
        stored = it->second.stored;
        owner = it->second.owner;
      }
      break;
    }
    case Scan::owned: {
      if (owned_row_returned_ || !c || c->owned_table != qt_) break;
      owned_row_returned_ = true;
      auto it = qt_->rows.find(c->owned_rowid);
      if (it != qt_->rows.end() && it->second.owner == c) {
        rowid = it->first;
        stored = it->second.stored;
      }
      break;
    }
    case Scan::none:
      break;
  }
  mysql_mutex_unlock(&g_queue_mutex);

  if (!rowid) return HA_ERR_END_OF_FILE;
  cursor_ = rowid;
  return read_row(buf, rowid, *file, stored, owner);
}

int ha_queue::rnd_pos(uchar *buf, uchar *pos) {
  const uint64_t rowid = uint8korr(pos);
  ConnState *c = conn();
  StoredRow stored{};
  ConnState *owner = nullptr;
  bool found = false;

  mysql_mutex_lock(&g_queue_mutex);
  std::shared_ptr<DataFile> file = qt_->log.file();
  auto it = qt_->rows.find(rowid);
  if (it != qt_->rows.end()) {
    owner = it->second.owner;
    stored = it->second.stored;
    switch (scan_) {
      case Scan::visible: found = owner == nullptr; break;
      case Scan::owned: found = owner == c && c; break;
      case Scan::all: found = true; break;
      case Scan::none: break;
    }
  }
  mysql_mutex_unlock(&g_queue_mutex);

  if (!found) return HA_ERR_KEY_NOT_FOUND;
  return read_row(buf, rowid, *file, stored, owner);
}

int ha_queue::read_row(uchar *buf, uint64_t rowid, const DataFile &file, const StoredRow &stored,
                       ConnState *owner) {
  current_rowid_ = rowid;
  if (file.read(stored, &read_buffer_) || !unpack_row(table, buf, read_buffer_)) {
    sql_print_error("QUEUE: row %llu of %s cannot be read", static_cast<unsigned long long>(rowid),
                    qt_->path.c_str());
    return HA_ERR_CRASHED_ON_USAGE;
  }
  if (scan_ == Scan::all) {
    // Remember who owned the row, for the copy ALTER TABLE writes next.
    ConnState *c = conn(true);
    c->copy_source_table = qt_;
    c->copy_source_rowid = rowid;
    c->copy_source_owner = owner;
  }
  return 0;
}

void ha_queue::position(const uchar *) { int8store(ref, current_rowid_); }

ha_rows ha_queue::visible_count() {
  ConnState *c = conn();
  mysql_mutex_lock(&g_queue_mutex);
  ha_rows n;
  if (c && c->owner_mode) {
    auto it = c->owned_table == qt_ ? qt_->rows.find(c->owned_rowid) : qt_->rows.end();
    n = it != qt_->rows.end() && it->second.owner == c ? 1 : 0;
  } else {
    // As in Q4M, COUNT(*) counts rows owned by other connections too.
    n = qt_->rows.size();
  }
  mysql_mutex_unlock(&g_queue_mutex);
  return n;
}

int ha_queue::info(uint flag) {
  if (flag & HA_STATUS_VARIABLE) {
    stats.records = visible_count();
    stats.deleted = 0;
    stats.mean_rec_length = table ? table->s->reclength : 0;
  }
  return 0;
}

ha_rows ha_queue::records() { return visible_count(); }

// The first row of an INSERT after queue_set_srcid() settles what happens to
// all rows of the statement, and clears the connection's tag (q4m-spec 7.1).
void ha_queue::decide_relay() {
  ConnState *c = conn();
  if (relay_ != Relay::none || !c || !c->source_set) return;
  c->source_set = false;
  if (c->source_rowid == 0) return;  // "no source": a plain insert
  mysql_mutex_lock(&g_queue_mutex);
  uint64_t &last = qt_->last_source_rowid[c->source_slot];
  if (c->source_mode == 'a' && c->source_rowid <= last) {
    relay_ = Relay::drop;
  } else {
    relay_ = Relay::append;
    relay_mark_ = SourceMark{c->source_slot, c->source_rowid};
    last = c->source_rowid;
  }
  mysql_mutex_unlock(&g_queue_mutex);
  if (relay_ == Relay::drop)
    sql_print_information("QUEUE: skipping forwarded duplicates in %s: source %u, row id %llu",
                          qt_->path.c_str(), c->source_slot,
                          static_cast<unsigned long long>(c->source_rowid));
}

// ALTER TABLE's copy keeps the relay positions of the table it copies, so
// a duplicate re-sent after an ALTER is still recognised.
int ha_queue::inherit_relay_positions() {
  ConnState *c = conn();
  relay_inherited_ = true;
  if (!c || !c->copy_source_table) return 0;
  std::map<uint32_t, uint64_t> positions;
  mysql_mutex_lock(&g_queue_mutex);
  positions = c->copy_source_table->last_source_rowid;
  for (const auto &p : positions) qt_->last_source_rowid[p.first] = p.second;
  mysql_mutex_unlock(&g_queue_mutex);
  uint64_t ticket = 0;
  for (const auto &p : positions) {
    const SourceMark mark{p.first, p.second};
    ticket = qt_->log.enqueue({}, {}, {}, &mark);
  }
  return ticket && qt_->log.wait(ticket) ? HA_ERR_CRASHED_ON_USAGE : 0;
}

int ha_queue::write_row(const uchar *buf) {
  if (is_copy_statement(ha_thd())) {
    // A copy is not an INSERT: it neither uses a pending queue_set_srcid tag
    // nor drops rows, but carries the positions over.
    if (!relay_inherited_)
      if (int error = inherit_relay_positions()) return error;
  } else {
    decide_relay();
  }
  if (relay_ == Relay::drop) return 0;  // reported as inserted, as in Q4M
  std::string packed;
  pack_row(table, buf, &packed);
  if (packed.size() > kMaxRowLength) return HA_ERR_OUT_OF_MEM;

  std::unique_ptr<CarriedOwnership> carried;
  ConnState *c = conn();
  if (c && c->copy_source_owner && is_copy_statement(ha_thd())) {
    carried.reset(new CarriedOwnership{c->copy_source_table, c->copy_source_rowid,
                                       c->copy_source_owner});
    c->copy_source_owner = nullptr;
  }

  bulk_bytes_ += packed.size();
  bulk_rows_.push_back(std::move(packed));
  bulk_carried_.push_back(std::move(carried));
  if (bulk_insert_ && bulk_bytes_ < kBulkChunkBytes) return 0;
  return commit_rows(bulk_rows_, bulk_carried_);
}

// Appends the buffered rows as one batch and waits until they are durable and
// visible.
int ha_queue::commit_rows(std::vector<std::string> &rows,
                          std::vector<std::unique_ptr<CarriedOwnership>> &carried) {
  if (rows.empty()) return 0;
  std::vector<std::pair<const unsigned char *, size_t>> slices;
  std::vector<void *> tags;
  slices.reserve(rows.size());
  tags.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); i++) {
    slices.emplace_back(reinterpret_cast<const unsigned char *>(rows[i].data()), rows[i].size());
    tags.push_back(carried[i].get());
  }
  // The source mark goes with the statement's first batch only.
  const SourceMark *mark = relay_ == Relay::append ? &relay_mark_ : nullptr;
  const uint64_t ticket = qt_->log.enqueue(slices, tags, {}, mark);
  if (mark) relay_ = Relay::none;  // nothing more to mark, but no longer undecided
  const int error = qt_->log.wait(ticket);
  rows.clear();
  carried.clear();
  bulk_bytes_ = 0;
  if (error) {
    sql_print_error("QUEUE: writing %s failed: %s", qt_->path.c_str(), strerror(error));
    return error == ENOSPC ? HA_ERR_RECORD_FILE_FULL : HA_ERR_CRASHED_ON_USAGE;
  }
  return 0;
}

void ha_queue::start_bulk_insert(ha_rows, uint) { bulk_insert_ = true; }

int ha_queue::end_bulk_insert() {
  bulk_insert_ = false;
  return commit_rows(bulk_rows_, bulk_carried_);
}

int ha_queue::delete_row(const uchar *) {
  ConnState *c = conn();
  mysql_mutex_lock(&g_queue_mutex);
  auto it = qt_->rows.find(current_rowid_);
  // A row owned by another connection survives a DELETE (it was not visible
  // when read, or was read before that connection took it).
  const bool deletable = it != qt_->rows.end() &&
                         (it->second.owner == nullptr || (it->second.owner == c && c));
  if (deletable) {
    const uint64_t ticket = remove_row(qt_, current_rowid_);
    if (ticket > removal_ticket_) removal_ticket_ = ticket;
  }
  mysql_mutex_unlock(&g_queue_mutex);
  return 0;
}

int ha_queue::end_bulk_delete() {
  if (!removal_ticket_) return 0;
  const int error = qt_->log.wait(removal_ticket_);
  removal_ticket_ = 0;
  if (!error) compact_if_worthwhile(qt_);
  return error ? HA_ERR_CRASHED_ON_USAGE : 0;
}

void ha_queue::block_assignment() {
  if (blocking_assignment_) return;
  mysql_mutex_lock(&g_queue_mutex);
  qt_->assignment_blocks++;
  mysql_mutex_unlock(&g_queue_mutex);
  blocking_assignment_ = true;
}

void ha_queue::unblock_assignment() {
  if (!blocking_assignment_) return;
  mysql_mutex_lock(&g_queue_mutex);
  qt_->assignment_blocks--;
  dispatch_waiters(qt_);
  mysql_mutex_unlock(&g_queue_mutex);
  blocking_assignment_ = false;
}

// Everything a statement leaves behind is settled here, before the server
// sends the result: buffered rows written, removals durable, waiters served.
int ha_queue::finish_statement() {
  int error = commit_rows(bulk_rows_, bulk_carried_);
  bulk_insert_ = false;
  relay_ = Relay::none;
  relay_inherited_ = false;
  if (insert_statement_) {
    // An INSERT that wrote no row still was the statement the tag was for.
    if (ConnState *c = conn()) c->source_set = false;
    insert_statement_ = false;
  }
  if (int e = end_bulk_delete()) error = error ? error : e;
  unblock_assignment();
  if (ConnState *c = conn()) {
    c->copy_source_table = nullptr;
    c->copy_source_owner = nullptr;
  }
  return error;
}

int ha_queue::external_lock(THD *thd, int lock_type) {
  if (lock_type == F_UNLCK) return finish_statement();
  if (lock_type == F_WRLCK && is_insert_statement(thd)) insert_statement_ = true;
  return 0;
}

int ha_queue::reset() {
  finish_statement();
  return 0;
}

THR_LOCK_DATA **ha_queue::store_lock(THD *thd, THR_LOCK_DATA **to, enum thr_lock_type lock_type) {
  if (lock_type != TL_IGNORE && lock_data_.type == TL_UNLOCK) {
    // Readers and writers never block each other: a queue table is an
    // append-only log and every row is handed out under g_queue_mutex.
    if (lock_type >= TL_WRITE_CONCURRENT_INSERT && lock_type <= TL_WRITE &&
        !thd_in_lock_tables(thd))
      lock_type = TL_WRITE_ALLOW_WRITE;
    if (lock_type == TL_READ_NO_INSERT && !thd_in_lock_tables(thd)) lock_type = TL_READ;
    lock_data_.type = lock_type;
  }
  *to++ = &lock_data_;
  return to;
}

}  // namespace q4m
