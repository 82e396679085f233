#include "queue_table.h"

#include "functions.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <mutex>

namespace q4m {

extern handlerton *queue_hton;
mysql_mutex_t g_queue_mutex;

namespace {
// Open tables by path, guarded by g_queue_mutex.
std::map<std::string, QueueTable *> g_tables;
// Serialises file-level operations (open + replay, create, drop, rename) so
// two of them never race on the same path; held without g_queue_mutex so a
// long replay blocks only other DDL, never consumers.
std::mutex g_ddl_mutex;
// Waiters with at least one empty slot (its table went away), guarded by
// g_queue_mutex; filled again when a table is registered under the path.
std::vector<Waiter *> g_unresolved_waiters;

QueueTable *find_locked(const std::string &path) {
  auto it = g_tables.find(path);
  return it == g_tables.end() ? nullptr : it->second;
}

// Removes the table at `path` from the registry; holders keep using the object,
// which no longer receives rows. Called with g_queue_mutex held.
void attach_unresolved_locked(QueueTable *t) {
  for (size_t k = 0; k < g_unresolved_waiters.size();) {
    Waiter *w = g_unresolved_waiters[k];
    bool still_unresolved = false, attached = false;
    for (size_t i = 0; i < w->tables.size(); i++) {
      if (w->tables[i]) continue;
      if (w->paths[i] != t->path) { still_unresolved = true; continue; }
      // The new table (after ALTER, say) may lay its columns out differently.
      std::shared_ptr<const Condition> condition;
      std::string error;
      if (!w->condition_texts[i].empty() &&
          !(condition = t->condition(w->condition_texts[i], &error))) {
        still_unresolved = true;
        continue;
      }
      t->acquire();
      w->tables[i] = t;
      w->conditions[i] = condition;
      attached = true;
    }
    if (attached && std::find(t->waiters.begin(), t->waiters.end(), w) == t->waiters.end())
      t->waiters.push_back(w);
    if (still_unresolved)
      k++;
    else
      g_unresolved_waiters.erase(g_unresolved_waiters.begin() + k);
  }
  dispatch_waiters(t);
}

void detach_locked(const std::string &path) {
  QueueTable *t = find_locked(path);
  if (!t) return;
  g_tables.erase(path);
  t->detached = true;
  retarget_waiters(t);
  t->release();
}
}  // namespace

QueueTable::QueueTable(std::string table_path)
    : path(std::move(table_path)),
      log([this](const std::vector<DurableRow> &durable) { on_durable(durable); }) {
  thr_lock_init(&thr_lock);
}

QueueTable::~QueueTable() { thr_lock_delete(&thr_lock); }

uint64_t QueueTable::first_takeable(const Condition *condition) {
  if (!condition) return first_takeable();
  if (assignment_blocks) return 0;
  if (condition->generation != release_generation) {
    condition->generation = release_generation;
    condition->cursor = 0;  // a row came back: look at everything again
  }
  std::string packed;
  for (auto it = free_rows.upper_bound(condition->cursor); it != free_rows.end(); ++it) {
    const uint64_t rowid = *it;
    condition->cursor = rowid;  // evaluated now; taken by the caller if it matches
    LiveRow &row = rows[rowid];
    if (!row.ints) {
      auto ints = std::make_unique<RowInts>();
      // Under the mutex no compaction can swap the file this offset refers to.
      if (log.file()->read(row.stored, &packed) || !extract_ints(schema, packed, ints.get()))
        continue;
      row.ints = std::move(ints);
    }
    function_counters.evaluation++;
    if (condition->matches(*row.ints)) return rowid;
  }
  return 0;
}

std::shared_ptr<const Condition> QueueTable::condition(const std::string &text, std::string *error) {
  auto it = conditions.find(text);
  if (it != conditions.end()) {
    function_counters.compile_cachehit++;
    return it->second;
  }
  if (schema.empty()) {
    *error = "the table's column layout is unknown";
    return nullptr;
  }
  function_counters.compile++;
  auto compiled = Condition::compile(text, schema, error);
  if (compiled) {
    if (conditions.size() >= 100) conditions.clear();  // bounded: texts come from clients
    conditions.emplace(text, compiled);
  }
  return compiled;
}

void QueueTable::release() {
  if (refs_.fetch_sub(1) == 1) delete this;
}

// Called by the group-commit leader once a batch is on disk: the rows become
// visible and waiters are served, before any appending statement returns.
void QueueTable::on_durable(const std::vector<DurableRow> &durable) {
  std::vector<uint64_t> orphans;  // ALTER copies of rows consumed meanwhile
  mysql_mutex_lock(&g_queue_mutex);
  for (const DurableRow &row : durable) {
    ConnState *owner = nullptr;
    if (auto *carried = static_cast<CarriedOwnership *>(row.tag)) {
      auto src = carried->from->rows.find(carried->from_rowid);
      if (src == carried->from->rows.end()) {
        orphans.push_back(row.rowid);
        continue;
      }
      ConnState *c = carried->owner;
      if (src->second.owner == c && c->owned_table == carried->from &&
          c->owned_rowid == carried->from_rowid) {
        carried->from->release_generation++;
        // The owner now owns the copy; the original goes back to its (blocked,
        // soon dropped) table so a failed ALTER loses nothing.
        owner = c;
        src->second.owner = nullptr;
        carried->from->free_rows.insert(carried->from_rowid);
        acquire();
        carried->from->release();
        c->owned_table = this;
        c->owned_rowid = row.rowid;
      }
    }
    rows.emplace(row.rowid, LiveRow{row.stored, owner, nullptr});
    if (!owner) free_rows.insert(row.rowid);
    stats.rows_written++;
    stats.bytes_total += row.stored.length;
  }
  if (!orphans.empty()) {
    stats.rows_written += orphans.size();
    stats.rows_removed += orphans.size();
    log.enqueue({}, {}, orphans);  // written by the next batch
  }
  dispatch_waiters(this);
  mysql_mutex_unlock(&g_queue_mutex);
}

std::string data_file_name(const std::string &path) { return path + ".Q4M"; }
std::string compaction_file_name(const std::string &path) { return path + ".Q4T"; }

QueueTable *open_table(const std::string &path, int *error) {
  mysql_mutex_lock(&g_queue_mutex);
  if (QueueTable *t = find_locked(path)) {
    t->acquire();
    mysql_mutex_unlock(&g_queue_mutex);
    return t;
  }
  mysql_mutex_unlock(&g_queue_mutex);

  std::lock_guard<std::mutex> ddl(g_ddl_mutex);
  mysql_mutex_lock(&g_queue_mutex);
  if (QueueTable *t = find_locked(path)) {  // opened while we waited
    t->acquire();
    mysql_mutex_unlock(&g_queue_mutex);
    return t;
  }
  mysql_mutex_unlock(&g_queue_mutex);

  auto *t = new QueueTable(path);
  LogContents contents;
  const std::string file = data_file_name(path);
  // A compaction's copy that a crash interrupted: the data file is intact.
  ::unlink(compaction_file_name(path).c_str());
  int err = t->log.open(file, &contents);
  if (err) {
    if (err != ENOENT)
      sql_print_error("QUEUE: cannot open %s (%s); the table is unusable", file.c_str(),
                      err > 0 ? strerror(err) : "not a valid queue data file");
    t->release();
    *error = err == ENOENT ? ENOENT : HA_ERR_CRASHED_ON_USAGE;
    return nullptr;
  }
  if (contents.torn_bytes)
    sql_print_warning("QUEUE: %s was not closed cleanly; cut %llu bytes of an incomplete write",
                      file.c_str(), static_cast<unsigned long long>(contents.torn_bytes));
  for (const auto &row : contents.live_rows) {
    t->rows.emplace(row.first, LiveRow{row.second, nullptr, nullptr});
    t->free_rows.insert(t->free_rows.end(), row.first);
  }
  t->last_source_rowid = contents.last_source_rowid;
  if (!contents.schema.empty() && !TableSchema::parse(contents.schema, &t->schema))
    sql_print_warning("QUEUE: %s has an unreadable column layout record", file.c_str());
  t->stats.bytes_total = contents.bytes_total;
  t->stats.bytes_removed = contents.bytes_removed;

  mysql_mutex_lock(&g_queue_mutex);
  g_tables[path] = t;
  t->acquire();
  attach_unresolved_locked(t);
  mysql_mutex_unlock(&g_queue_mutex);
  return t;
}

int create_table_file(const std::string &path, const std::string &schema) {
  std::lock_guard<std::mutex> ddl(g_ddl_mutex);
  mysql_mutex_lock(&g_queue_mutex);
  detach_locked(path);
  mysql_mutex_unlock(&g_queue_mutex);
  const std::string file = data_file_name(path);
  // A stale file (TRUNCATE re-creates in place; a crash may leave one behind)
  // is unlinked, not truncated: sessions still holding it keep a valid file.
  if (::unlink(file.c_str()) && errno != ENOENT) return errno;
  return QueueLog::create_file(file, 1, schema);
}

int drop_table_file(const std::string &path) {
  std::lock_guard<std::mutex> ddl(g_ddl_mutex);
  mysql_mutex_lock(&g_queue_mutex);
  detach_locked(path);
  mysql_mutex_unlock(&g_queue_mutex);
  ::unlink(compaction_file_name(path).c_str());
  return ::unlink(data_file_name(path).c_str()) ? errno : 0;
}

int rename_table_file(const std::string &from, const std::string &to) {
  std::lock_guard<std::mutex> ddl(g_ddl_mutex);
  if (::rename(data_file_name(from).c_str(), data_file_name(to).c_str())) return errno;
  ::unlink(compaction_file_name(from).c_str());
  mysql_mutex_lock(&g_queue_mutex);
  detach_locked(to);
  if (QueueTable *t = find_locked(from)) {
    g_tables.erase(from);
    t->path = to;
    g_tables[to] = t;
    retarget_waiters(t);
    attach_unresolved_locked(t);
  }
  mysql_mutex_unlock(&g_queue_mutex);
  return 0;
}

void close_all_tables() {
  mysql_mutex_lock(&g_queue_mutex);
  auto tables = std::move(g_tables);
  g_tables.clear();
  mysql_mutex_unlock(&g_queue_mutex);
  for (auto &entry : tables) entry.second->release();
}

namespace {
constexpr uint64_t kCompactionMinBytes = 16u << 20;
constexpr uint64_t kRecordOverhead = kRecordHeaderSize * 2;  // its ROW and REMOVE headers

bool compaction_worthwhile(QueueTable *t) {
  const uint64_t end = t->log.end_offset();
  const uint64_t live = t->stats.bytes_total - t->stats.bytes_removed + kRecordOverhead * t->rows.size();
  return end >= kCompactionMinBytes && live * 4 <= end;
}
}  // namespace

bool compact_if_worthwhile(QueueTable *t, bool force) {
  mysql_mutex_lock(&g_queue_mutex);
  const bool wanted = !t->detached && !t->compacting && (force || compaction_worthwhile(t));
  if (wanted) t->compacting = true;
  mysql_mutex_unlock(&g_queue_mutex);
  if (!wanted) return false;

  // DDL waits for us (so a DROP cannot race the rename below), and no batch
  // is written meanwhile: statements keep queueing records, which go to the
  // new file once it is in place.
  std::lock_guard<std::mutex> ddl(g_ddl_mutex);
  t->log.lock_writes();
  std::vector<std::pair<uint64_t, StoredRow>> live;
  std::string schema, path;
  std::map<uint32_t, uint64_t> sources;
  mysql_mutex_lock(&g_queue_mutex);
  live.reserve(t->rows.size());
  for (const auto &row : t->rows) live.emplace_back(row.first, row.second.stored);
  schema = t->schema.serialize();
  sources = t->last_source_rowid;
  path = t->path;
  const bool detached = t->detached;
  mysql_mutex_unlock(&g_queue_mutex);

  const uint64_t before = t->log.end_offset();
  const std::string file = data_file_name(path), temporary = compaction_file_name(path);
  CompactedFile compacted;
  int err = detached ? 0 : t->log.write_compacted(temporary, live, schema, sources, &compacted);
  if (!err && !detached && ::rename(temporary.c_str(), file.c_str())) err = errno;
  if (!err && !detached) {
    fsync_parent_dir(file);  // best effort: the rename itself already happened
    mysql_mutex_lock(&g_queue_mutex);
    uint64_t live_bytes = 0;
    for (size_t i = 0; i < live.size(); i++) {
      auto it = t->rows.find(live[i].first);
      if (it == t->rows.end()) continue;  // removed meanwhile: its REMOVE is still queued
      it->second.stored.offset = compacted.offsets[i];
      live_bytes += it->second.stored.length;
    }
    t->log.install(compacted);
    t->stats.bytes_total = live_bytes;
    t->stats.bytes_removed = 0;
    mysql_mutex_unlock(&g_queue_mutex);
    sql_print_information("QUEUE: compacted %s: %llu -> %llu bytes, %zu live rows", file.c_str(),
                          static_cast<unsigned long long>(before),
                          static_cast<unsigned long long>(compacted.end), live.size());
  } else if (err) {
    ::unlink(temporary.c_str());
    sql_print_error("QUEUE: compacting %s failed: %s", file.c_str(), strerror(err));
  }
  t->log.unlock_writes();
  mysql_mutex_lock(&g_queue_mutex);
  t->compacting = false;
  mysql_mutex_unlock(&g_queue_mutex);
  return !err && !detached;
}

ConnState *conn_state(THD *thd, bool create) {
  auto *st = static_cast<ConnState *>(thd_get_ha_data(thd, queue_hton));
  if (!st && create) {
    st = new ConnState();
    st->thd = thd;
    thd_set_ha_data(thd, queue_hton, st);
  }
  return st;
}

void conn_disconnect(THD *thd) {
  auto *st = static_cast<ConnState *>(thd_get_ha_data(thd, queue_hton));
  if (!st) return;
  mysql_mutex_lock(&g_queue_mutex);
  release_owned_row(st, true);
  mysql_mutex_unlock(&g_queue_mutex);
  delete st;
  thd_set_ha_data(thd, queue_hton, nullptr);
}

void take_row(QueueTable *t, uint64_t rowid, ConnState *conn) {
  t->free_rows.erase(rowid);
  t->rows[rowid].owner = conn;
  t->acquire();
  conn->owned_table = t;
  conn->owned_rowid = rowid;
  conn->owner_mode = true;
}

uint64_t end_owned_row(ConnState *conn, QueueTable **written_to) {
  QueueTable *t = conn->owned_table;
  *written_to = t;
  if (!t) return 0;
  conn->owned_table = nullptr;
  auto it = t->rows.find(conn->owned_rowid);
  if (it == t->rows.end() || it->second.owner != conn) return 0;
  t->stats.rows_removed++;
  t->stats.bytes_removed += it->second.stored.length;
  t->rows.erase(it);
  return t->log.enqueue({}, {}, {conn->owned_rowid});
}

void release_owned_row(ConnState *conn, bool by_close) {
  QueueTable *t = conn->owned_table;
  if (!t) return;
  conn->owned_table = nullptr;
  auto it = t->rows.find(conn->owned_rowid);
  if (it != t->rows.end() && it->second.owner == conn) {
    it->second.owner = nullptr;
    t->free_rows.insert(conn->owned_rowid);
    t->release_generation++;
    (by_close ? t->stats.restored_by_close : t->stats.restored_by_abort)++;
    dispatch_waiters(t);
  }
  t->release();
}

void leave_owner_mode(ConnState *conn) {
  conn->owner_mode = false;
  conn->owned_rowid = 0;
}

uint64_t remove_row(QueueTable *t, uint64_t rowid) {
  auto it = t->rows.find(rowid);
  if (it == t->rows.end()) return 0;
  t->stats.rows_removed++;
  t->stats.bytes_removed += it->second.stored.length;
  t->rows.erase(it);
  t->free_rows.erase(rowid);
  return t->log.enqueue({}, {}, {rowid});
}

void dispatch_waiters(QueueTable *t) {
  for (Waiter *w : t->waiters) {
    if (!t->first_takeable()) break;
    if (w->assigned >= 0) continue;
    // The waiter's arguments are checked in priority order: a row of a more
    // important table that is free now wins over the one that just arrived.
    for (size_t i = 0; i < w->tables.size(); i++) {
      QueueTable *candidate = w->tables[i];
      uint64_t rowid = candidate ? candidate->first_takeable(w->conditions[i].get()) : 0;
      if (!rowid) continue;
      take_row(candidate, rowid, w->conn);
      w->assigned = static_cast<int>(i);
      mysql_cond_signal(&w->cond);
      break;
    }
  }
}

void register_waiter(Waiter *w) {
  bool unresolved = false;
  for (size_t i = 0; i < w->tables.size(); i++) {
    QueueTable *t = w->tables[i];
    if (!t) { unresolved = true; continue; }
    if (std::find(t->waiters.begin(), t->waiters.end(), w) == t->waiters.end())
      t->waiters.push_back(w);
  }
  if (unresolved) g_unresolved_waiters.push_back(w);
}

void unregister_waiter(Waiter *w) {
  for (QueueTable *&t : w->tables) {
    if (!t) continue;
    auto it = std::find(t->waiters.begin(), t->waiters.end(), w);
    if (it != t->waiters.end()) t->waiters.erase(it);
    t->release();
    t = nullptr;
  }
  auto it = std::find(g_unresolved_waiters.begin(), g_unresolved_waiters.end(), w);
  if (it != g_unresolved_waiters.end()) g_unresolved_waiters.erase(it);
}

void retarget_waiters(QueueTable *t) {
  std::vector<Waiter *> keep;
  for (Waiter *w : t->waiters) {
    bool still_here = false, emptied = false;
    for (size_t i = 0; i < w->tables.size(); i++) {
      if (w->tables[i] != t) continue;
      if (!t->detached && w->paths[i] == t->path) { still_here = true; continue; }
      w->tables[i] = nullptr;
      w->conditions[i].reset();
      t->release();
      emptied = true;
    }
    if (still_here) keep.push_back(w);
    if (emptied && std::find(g_unresolved_waiters.begin(), g_unresolved_waiters.end(), w) ==
                       g_unresolved_waiters.end())
      g_unresolved_waiters.push_back(w);
  }
  t->waiters.swap(keep);
}

}  // namespace q4m
