// In-memory state of queue tables and of the connections that use them:
// which rows are live, which are owned and by whom, and who is waiting.
//
// Concurrency design: one process-wide mutex (g_queue_mutex) guards all of it.
// Every operation under it is a few map operations; the expensive parts (file
// I/O, waiting for a flush) always happen with it released. One mutex makes
// multi-table queue_wait atomic ("a lower-priority table can't win while a
// higher one has a row") without lock ordering problems. It is a mysql_mutex_t
// because blocked waiters sleep on it through THD::enter_cond, which is what
// lets KILL wake them.
#pragma once
#include "server.h"

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "condition.h"
#include "queue_log.h"
#include "table_schema.h"

namespace q4m {

struct ConnState;
struct Waiter;

extern mysql_mutex_t g_queue_mutex;

struct LiveRow {
  StoredRow stored;
  ConnState *owner;  // nullptr when free
  // Integer column values, read from the file the first time a condition
  // looks at the row, then kept (conditions are evaluated under the mutex).
  std::unique_ptr<RowInts> ints;
};

// Counters reported by queue_stats(); the wait and restore counters survive as
// long as the table object (until DROP or server restart).
struct TableStats {
  uint64_t rows_written = 0, rows_removed = 0, wait_immediate = 0, wait_delayed = 0,
           wait_timeout = 0, restored_by_abort = 0, restored_by_close = 0,
           bytes_total = 0, bytes_removed = 0;
};

class QueueTable {
 public:
  explicit QueueTable(std::string path);
  ~QueueTable();

  std::string path;  // registry key: the server's table path, without extension
  QueueLog log;

  // --- guarded by g_queue_mutex ---
  std::map<uint64_t, LiveRow> rows;  // every live row, in FIFO (row id) order
  std::set<uint64_t> free_rows;      // live rows nobody owns
  std::vector<Waiter *> waiters;     // blocked queue_wait calls, in arrival order
  int assignment_blocks = 0;         // running DELETE / ALTER scans: hand out nothing
  bool detached = false;             // dropped, truncated away or replaced
  bool compacting = false;
  uint64_t release_generation = 0;   // bumped when a row becomes free again
  TableStats stats;
  std::map<uint32_t, uint64_t> last_source_rowid;  // relay duplicate suppression
  TableSchema schema;  // column layout, for conditions
  std::map<std::string, std::shared_ptr<const Condition>> conditions;  // compiled, by text

  THR_LOCK thr_lock;  // the server's table lock (concurrent reads and writes)

  void acquire() { refs_.fetch_add(1); }
  void release();

  // Free row that a consumer may take now, or 0.
  uint64_t first_takeable() const {
    return assignment_blocks || free_rows.empty() ? 0 : *free_rows.begin();
  }
  // The oldest free row matching `condition` (any row when null), or 0.
  uint64_t first_takeable(const Condition *condition);
  // A compiled condition from the cache, or nullptr with *error set.
  std::shared_ptr<const Condition> condition(const std::string &text, std::string *error);

 private:
  void on_durable(const std::vector<DurableRow> &rows);
  std::atomic<int> refs_{1};  // the registry's reference
};

// What one client connection holds (the engine's part of its THD).
struct ConnState {
  THD *thd;
  bool owner_mode = false;
  QueueTable *owned_table = nullptr;  // holds a reference while set
  uint64_t owned_rowid = 0;

  // ALTER TABLE copy: the row this connection's scan just read, and its owner,
  // so the copy written next can keep the ownership (see ha_queue::write_row).
  QueueTable *copy_source_table = nullptr;
  uint64_t copy_source_rowid = 0;
  ConnState *copy_source_owner = nullptr;

  // queue_set_srcid() tag for the next INSERT (slot, mode, rowid).
  bool source_set = false;
  uint32_t source_slot = 0;
  char source_mode = 'a';
  uint64_t source_rowid = 0;
};

// A blocked queue_wait(). When a table it waits on is dropped, renamed or
// replaced (TRUNCATE, ALTER), the slot is emptied and filled again if a table
// appears under the same path, so waiters follow ALTER and TRUNCATE.
struct Waiter {
  ConnState *conn;
  std::vector<std::string> paths;    // by argument, in priority order
  std::vector<std::string> condition_texts;  // "" = no condition
  std::vector<QueueTable *> tables;  // the same; nullptr while no table has the path
  std::vector<std::shared_ptr<const Condition>> conditions;  // compiled for `tables`
  mysql_cond_t cond;
  int assigned = -1;  // argument index of the row handed over, or -1
};

// Carried by a row copied in ALTER TABLE from a row someone owned.
struct CarriedOwnership {
  QueueTable *from;
  uint64_t from_rowid;
  ConnState *owner;
};

// ---- the registry of open tables (keyed by path) ----

// Finds or opens the table stored at `path` (no extension). Returns a table
// with a reference the caller must release, or nullptr with *error set
// (ENOENT = no such queue table, HA_ERR_CRASHED_ON_USAGE = unreadable file).
QueueTable *open_table(const std::string &path, int *error);
// CREATE / TRUNCATE: detaches any table at `path` and writes a new empty file.
int create_table_file(const std::string &path, const std::string &schema);
int drop_table_file(const std::string &path);
int rename_table_file(const std::string &from, const std::string &to);
void close_all_tables();
std::string data_file_name(const std::string &path);        // <path>.Q4M
std::string compaction_file_name(const std::string &path);  // <path>.Q4T

// Rewrites the table's file with only its live rows (row ids, ownership and
// FIFO order kept) when removed rows make up most of a file of 16 MiB or
// more, or always when `force`. Returns false if another compaction runs or
// the table is gone. Call with no engine mutex held.
bool compact_if_worthwhile(QueueTable *t, bool force = false);

// ---- connections ----
ConnState *conn_state(THD *thd, bool create);
void conn_disconnect(THD *thd);

// ---- ownership, all with g_queue_mutex held ----

// Makes `conn` own the oldest free row of `t` (which must have one).
void take_row(QueueTable *t, uint64_t rowid, ConnState *conn);
// Removes the row `conn` owns, if still live; returns the log ticket to wait
// on after unlocking (0 when nothing was written), table in *written_to.
uint64_t end_owned_row(ConnState *conn, QueueTable **written_to);
// Gives the owned row back to the queue at its original place.
void release_owned_row(ConnState *conn, bool by_close);
void leave_owner_mode(ConnState *conn);
// Removes a live row (DELETE); returns the ticket.
uint64_t remove_row(QueueTable *t, uint64_t rowid);
// Hands free rows of `t` to its waiters, longest waiting first.
void dispatch_waiters(QueueTable *t);
// Adds / removes a waiter to / from the lists of its tables. Each non-null
// slot of `tables` holds a table reference, released by unregister_waiter.
void register_waiter(Waiter *w);
void unregister_waiter(Waiter *w);
// Empties the waiters' slots that point to `t` but no longer match its path
// (it was dropped or renamed away).
void retarget_waiters(QueueTable *t);

}  // namespace q4m
