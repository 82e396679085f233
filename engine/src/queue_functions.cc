// The SQL functions: queue_wait, queue_end, queue_abort, queue_rowid.
// UDF rules apply: an *_init refusal is a statement error (1123), a run-time
// failure makes the call return NULL (q4m-spec.md section 0).
#include "server.h"

#include <atomic>
#include <cerrno>
#include <cmath>
#include <string>
#include <vector>

#include "functions.h"
#include "queue_table.h"

// mysys' queues.h defines queue_end() as a macro; our SQL function owns the name here.
#undef queue_end

namespace q4m {

FunctionCounters function_counters;

namespace {

constexpr long long kDefaultTimeoutMs = 60 * 1000;
constexpr long long kMaxTimeoutMs = 0x7fffffff;  // clamped, never wrapped
constexpr size_t kMaxTableSpecLength = 2 * FN_REFLEN;  // "[db.]table", as in Q4M
constexpr size_t kMaxArgumentLength = 1u << 20;          // with the condition

PSI_stage_info stage_waiting_for_row = {0, "Waiting for a queue row", 0};

void set_message(char *message, const char *text) {
  strncpy(message, text, MYSQL_ERRMSG_SIZE - 1);
  message[MYSQL_ERRMSG_SIZE - 1] = 0;
}

// Only `SELECT queue_wait(...)` without a table is allowed: with a FROM list
// the function would run once per row read, consuming a row each time.
bool statement_reads_tables(THD *thd) {
  return thd->lex && thd->lex->first_select_lex() &&
         thd->lex->first_select_lex()->table_list.elements > 0;
}

bool valid_identifier(const std::string &name) {
  return !name.empty() && name.size() <= NAME_LEN && name.find('\0') == std::string::npos;
}

// Resolves "[db.]table" to the server's table path, the way the server
// builds it (names are encoded, so "../x" can never escape the datadir).
bool resolve_table_path(THD *thd, const std::string &spec, std::string *path) {
  std::string db, name;
  const size_t dot = spec.find('.');
  if (dot == std::string::npos) {
    if (!thd->db.str) return false;
    db.assign(thd->db.str, thd->db.length);
    name = spec;
  } else {
    db = spec.substr(0, dot);
    name = spec.substr(dot + 1);
  }
  if (!valid_identifier(db) || !valid_identifier(name)) return false;
  if (lower_case_table_names == 1) {
    db.resize(my_casedn_str(files_charset_info, &db[0]));
    name.resize(my_casedn_str(files_charset_info, &name[0]));
  }
  char buffer[FN_REFLEN + 1];
  build_table_filename(buffer, sizeof buffer - 1, db.c_str(), name.c_str(), "", 0);
  *path = buffer;
  return true;
}

struct WaitRequest {
  std::vector<std::string> paths;
  std::vector<std::string> condition_texts;  // "" = none
  long long timeout_ms = kDefaultTimeoutMs;
};

// Parses the arguments; false means the call returns NULL.
bool parse_wait_arguments(THD *thd, UDF_ARGS *args, WaitRequest *request) {
  const unsigned table_args = args->arg_count == 1 ? 1 : args->arg_count - 1;
  if (args->arg_count >= 2) {
    const char *value = args->args[args->arg_count - 1];
    if (!value) return false;
    const double seconds = *reinterpret_cast<const double *>(value);
    if (std::isnan(seconds)) return false;
    const double ms = std::ceil(seconds * 1000.0);
    request->timeout_ms = ms <= 0 ? 0 : ms >= double(kMaxTimeoutMs) ? kMaxTimeoutMs : (long long)ms;
  }
  for (unsigned i = 0; i < table_args; i++) {
    if (!args->args[i] || args->lengths[i] > kMaxArgumentLength) return false;
    std::string spec(args->args[i], args->lengths[i]);
    // "[db.]table[:condition]", split at the first ':'. An empty condition
    // ("t:") does not compile, as in Q4M.
    const size_t colon = spec.find(':');
    const bool has_condition = colon != std::string::npos;
    if ((has_condition ? colon : spec.size()) > kMaxTableSpecLength) return false;
    std::string path;
    if (!resolve_table_path(thd, spec.substr(0, colon), &path)) return false;
    if (has_condition && colon + 1 == spec.size()) return false;
    request->paths.push_back(path);
    request->condition_texts.push_back(has_condition ? spec.substr(colon + 1) : std::string());
  }
  return true;
}

void release_tables(std::vector<QueueTable *> &tables) {
  for (QueueTable *t : tables)
    if (t) t->release();
  tables.clear();
}

// Ends the row the connection owns, durably, and leaves owner mode.
int consume_owned_row(ConnState *conn) {
  QueueTable *t = nullptr;
  mysql_mutex_lock(&g_queue_mutex);
  const uint64_t ticket = end_owned_row(conn, &t);
  leave_owner_mode(conn);
  mysql_mutex_unlock(&g_queue_mutex);
  int error = 0;
  if (t) {
    if (ticket) error = t->log.wait(ticket);
    if (!error && ticket) compact_if_worthwhile(t);
    t->release();
  }
  return error;
}

// Opens each argument's table and compiles its condition, in argument order,
// stopping at the first failure (the reason goes to the error log). On
// failure the tables resolved so far count a timeout, as in Q4M's stats.
bool resolve_arguments(const WaitRequest &request, std::vector<QueueTable *> *tables,
                       std::vector<std::shared_ptr<const Condition>> *conditions) {
  bool ok = true;
  for (size_t i = 0; ok && i < request.paths.size(); i++) {
    int open_error = 0;
    QueueTable *t = open_table(request.paths[i], &open_error);
    if (!t) {
      ok = false;  // unknown or not a queue table
      break;
    }
    tables->push_back(t);
    std::shared_ptr<const Condition> condition;
    if (!request.condition_texts[i].empty()) {
      std::string error;
      mysql_mutex_lock(&g_queue_mutex);
      condition = t->condition(request.condition_texts[i], &error);
      mysql_mutex_unlock(&g_queue_mutex);
      if (!condition) {
        sql_print_information("QUEUE: queue_wait: cannot compile condition '%s' for %s: %s",
                              request.condition_texts[i].c_str(), t->path.c_str(), error.c_str());
        ok = false;
      }
    }
    conditions->push_back(std::move(condition));
  }
  if (!ok) {
    mysql_mutex_lock(&g_queue_mutex);
    for (QueueTable *t : *tables) t->stats.wait_timeout++;
    mysql_mutex_unlock(&g_queue_mutex);
  }
  return ok;
}

// The first argument with a row it may take now, or -1. Counts the
// arguments passed over as timeouts, as Q4M's queue_stats does.
int take_first_available(std::vector<QueueTable *> &tables,
                         const std::vector<std::shared_ptr<const Condition>> &conditions,
                         ConnState *conn) {
  for (size_t i = 0; i < tables.size(); i++) {
    if (uint64_t rowid = tables[i]->first_takeable(conditions[i].get())) {
      take_row(tables[i], rowid, conn);
      tables[i]->stats.wait_immediate++;
      for (size_t j = 0; j < i; j++) tables[j]->stats.wait_timeout++;
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Blocks until a row is handed over, the deadline passes or the statement is
// killed. Called and returns with g_queue_mutex held. Returns the argument
// index, -1 on timeout, -2 when killed.
int wait_for_row(THD *thd, ConnState *conn, const WaitRequest &request,
                 std::vector<QueueTable *> &tables,
                 const std::vector<std::shared_ptr<const Condition>> &conditions,
                 long long timeout_ms) {
  Waiter waiter;
  waiter.conn = conn;
  waiter.paths = request.paths;
  waiter.condition_texts = request.condition_texts;
  waiter.conditions = conditions;
  for (QueueTable *t : tables) t->acquire();  // the waiter's own references
  waiter.tables = tables;
  mysql_cond_init(0, &waiter.cond, nullptr);
  register_waiter(&waiter);

  struct timespec deadline;
  set_timespec_nsec(deadline, static_cast<ulonglong>(timeout_ms) * 1000000ULL);
  PSI_stage_info old_stage;
  // enter_cond registers the condition with the THD, so KILL wakes us.
  thd->ENTER_COND(&waiter.cond, &g_queue_mutex, &stage_waiting_for_row, &old_stage);
  while (waiter.assigned < 0 && !thd_killed(thd)) {
    const int rc = mysql_cond_timedwait(&waiter.cond, &g_queue_mutex, &deadline);
    if ((rc == ETIMEDOUT || rc == ETIME) && waiter.assigned < 0) break;
  }
  unregister_waiter(&waiter);
  int result = waiter.assigned;
  if (thd_killed(thd)) {
    if (result >= 0) release_owned_row(conn, false);  // the client will never see it
    result = -2;
  } else if (result >= 0) {
    conn->owned_table->stats.wait_delayed++;
    for (size_t i = 0; i < tables.size(); i++)
      if (static_cast<int>(i) != result) tables[i]->stats.wait_timeout++;
  } else {
    for (QueueTable *t : tables) t->stats.wait_timeout++;
  }
  // exit_cond unlocks the mutex; take it again for the caller.
  thd->EXIT_COND(&old_stage);
  mysql_mutex_lock(&g_queue_mutex);
  mysql_cond_destroy(&waiter.cond);
  return result;
}

}  // namespace

}  // namespace q4m

using namespace q4m;

extern "C" {

my_bool queue_wait_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  if (args->arg_count == 0) {
    set_message(message, "queue_wait(table_name[,timeout]): argument error");
    return 1;
  }
  if (statement_reads_tables(current_thd)) {
    // The server shows at most 80 characters of this message.
    set_message(message, "queue_wait() cannot be used in a statement with a FROM table");
    return 1;
  }
  for (unsigned i = 0; i < args->arg_count; i++)
    args->arg_type[i] = args->arg_count >= 2 && i == args->arg_count - 1 ? REAL_RESULT : STRING_RESULT;
  initid->maybe_null = 1;
  initid->const_item = 0;
  return 0;
}

long long queue_wait(UDF_INIT *, UDF_ARGS *args, char *is_null, char *error) {
  THD *thd = current_thd;
  function_counters.queue_wait++;
  *is_null = 1;
  *error = 0;
  ConnState *conn = conn_state(thd, true);

  // The row owned so far is consumed first, even if the rest fails.
  if (conn->owner_mode && consume_owned_row(conn)) return 0;

  WaitRequest request;
  if (!parse_wait_arguments(thd, args, &request)) return 0;
  std::vector<QueueTable *> tables;
  std::vector<std::shared_ptr<const Condition>> conditions;
  if (!resolve_arguments(request, &tables, &conditions)) {
    release_tables(tables);
    return 0;  // NULL
  }

  mysql_mutex_lock(&g_queue_mutex);
  int index = take_first_available(tables, conditions, conn);
  if (index < 0 && request.timeout_ms > 0)
    index = wait_for_row(thd, conn, request, tables, conditions, request.timeout_ms);
  else if (index < 0)
    for (QueueTable *t : tables) t->stats.wait_timeout++;
  if (index == -2) {
    leave_owner_mode(conn);
  } else {
    conn->owner_mode = true;  // also after a timeout: owner mode without a row
  }
  mysql_mutex_unlock(&g_queue_mutex);
  release_tables(tables);

  if (index == -2) {
    // Fail the statement with the server's own "interrupted" / "killed"
    // error, so the client knows the call did not take a row.
    thd->send_kill_message();
    *error = 1;
    return 0;
  }
  *is_null = 0;
  return index + 1;
}

my_bool queue_end_init(UDF_INIT *initid, UDF_ARGS *, char *) {
  initid->maybe_null = 0;
  initid->const_item = 0;
  return 0;
}

long long queue_end(UDF_INIT *, UDF_ARGS *, char *is_null, char *error) {
  function_counters.queue_end++;
  *is_null = 0;
  *error = 0;
  ConnState *conn = conn_state(current_thd, false);
  if (conn && conn->owner_mode && consume_owned_row(conn)) {
    *error = 1;  // the removal could not be written: NULL, row not consumed
    return 0;
  }
  return 1;
}

my_bool queue_abort_init(UDF_INIT *initid, UDF_ARGS *, char *message) {
  ConnState *conn = conn_state(current_thd, false);
  if (!conn || !conn->owner_mode) {
    set_message(message, "queue_abort(): not in owner mode");
    return 1;
  }
  initid->maybe_null = 0;
  initid->const_item = 0;
  return 0;
}

long long queue_abort(UDF_INIT *, UDF_ARGS *, char *is_null, char *error) {
  function_counters.queue_abort++;
  *is_null = 0;
  *error = 0;
  if (ConnState *conn = conn_state(current_thd, false)) {
    mysql_mutex_lock(&g_queue_mutex);
    release_owned_row(conn, false);
    leave_owner_mode(conn);
    mysql_mutex_unlock(&g_queue_mutex);
  }
  return 1;
}

my_bool queue_rowid_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  if (args->arg_count != 0) {
    set_message(message, "queue_rowid(): argument error");
    return 1;
  }
  ConnState *conn = conn_state(current_thd, false);
  if (!conn || !conn->owner_mode) {
    set_message(message, "queue_rowid(): not in owner mode");
    return 1;
  }
  initid->maybe_null = 1;
  initid->const_item = 0;
  return 0;
}

long long queue_rowid(UDF_INIT *, UDF_ARGS *, char *is_null, char *error) {
  function_counters.queue_rowid++;
  *error = 0;
  *is_null = 1;
  ConnState *conn = conn_state(current_thd, false);
  if (!conn || !conn->owned_table) return 0;
  mysql_mutex_lock(&g_queue_mutex);
  auto it = conn->owned_table->rows.find(conn->owned_rowid);
  const bool live = it != conn->owned_table->rows.end() && it->second.owner == conn;
  mysql_mutex_unlock(&g_queue_mutex);
  if (!live) return 0;
  *is_null = 0;
  return static_cast<long long>(conn->owned_rowid);
}

}  // extern "C"

// ---- maintenance and statistics: queue_compact(table), queue_stats(table) ----

namespace {

// Resolves the single table argument of queue_compact / queue_stats; nullptr
// (the call returns NULL) for a NULL, unknown or non-queue table.
QueueTable *table_argument(UDF_ARGS *args) {
  if (!args->args[0] || args->lengths[0] > kMaxTableSpecLength) return nullptr;
  std::string path;
  if (!resolve_table_path(current_thd, std::string(args->args[0], args->lengths[0]), &path))
    return nullptr;
  int error = 0;
  return open_table(path, &error);
}

my_bool one_table_argument(UDF_ARGS *args, char *message, const char *usage) {
  if (args->arg_count != 1) {
    set_message(message, usage);
    return 1;
  }
  args->arg_type[0] = STRING_RESULT;
  return 0;
}

}  // namespace

extern "C" {

my_bool queue_compact_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  initid->maybe_null = 1;
  initid->const_item = 0;
  return one_table_argument(args, message, "queue_compact(table_name): argument error");
}

long long queue_compact(UDF_INIT *, UDF_ARGS *args, char *is_null, char *error) {
  *error = 0;
  QueueTable *t = table_argument(args);
  *is_null = t == nullptr;
  if (!t) return 0;
  // As in Q4M: 1 also when another compaction is already running.
  compact_if_worthwhile(t, true);
  t->release();
  return 1;
}

my_bool queue_stats_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  initid->maybe_null = 1;
  initid->const_item = 0;
  initid->ptr = nullptr;
  return one_table_argument(args, message, "queue_stats(table_name): argument error");
}

char *queue_stats(UDF_INIT *initid, UDF_ARGS *args, char *, unsigned long *length, char *is_null,
                  char *error) {
  *error = 0;
  QueueTable *t = table_argument(args);
  *is_null = t == nullptr;
  if (!t) return nullptr;
  mysql_mutex_lock(&g_queue_mutex);
  const TableStats s = t->stats;
  mysql_mutex_unlock(&g_queue_mutex);
  t->release();
  const std::pair<const char *, uint64_t> lines[] = {
      {"rows_written", s.rows_written},       {"rows_removed", s.rows_removed},
      {"wait_immediate", s.wait_immediate},   {"wait_delayed", s.wait_delayed},
      {"wait_timeout", s.wait_timeout},       {"restored_by_abort", s.restored_by_abort},
      {"restored_by_close", s.restored_by_close}, {"bytes_total", s.bytes_total},
      {"bytes_removed", s.bytes_removed}};
  std::string text;
  for (const auto &line : lines)
    text += std::string(line.first) + ": " + std::to_string(line.second) + "\n";
  free(initid->ptr);
  initid->ptr = static_cast<char *>(malloc(text.size()));
  if (!initid->ptr) {
    *error = 1;
    return nullptr;
  }
  memcpy(initid->ptr, text.data(), text.size());
  *length = text.size();
  return initid->ptr;
}

void queue_stats_deinit(UDF_INIT *initid) { free(initid->ptr); }

}  // extern "C"

// ---- relaying: queue_set_srcid(source, mode, rowid) ----

extern "C" {

my_bool queue_set_srcid_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  if (args->arg_count != 3) {
    set_message(message, "queue_set_srcid(source,mode,rowid): argument error");
    return 1;
  }
  args->arg_type[0] = INT_RESULT;
  args->arg_type[1] = STRING_RESULT;
  args->arg_type[2] = INT_RESULT;
  initid->maybe_null = 1;
  initid->const_item = 0;
  return 0;
}

// Tags the connection's next INSERT into a queue table: with mode 'a' rows
// whose row id is not above the last one received from that source are
// dropped as duplicates; 'w' accepts them and resets the source's position.
long long queue_set_srcid(UDF_INIT *, UDF_ARGS *args, char *is_null, char *error) {
  function_counters.queue_set_srcid++;
  *error = 0;
  *is_null = 1;
  if (!args->args[0] || !args->args[1] || !args->args[2]) return 0;
  const long long source = *reinterpret_cast<const long long *>(args->args[0]);
  const long long rowid = *reinterpret_cast<const long long *>(args->args[2]);
  const std::string mode(args->args[1], args->lengths[1]);
  if (source < 0 || source > 63 || rowid < 0 || (mode != "a" && mode != "w")) return 0;
  ConnState *conn = conn_state(current_thd, true);
  conn->source_set = true;
  conn->source_slot = static_cast<uint32_t>(source);
  conn->source_mode = mode[0];
  conn->source_rowid = static_cast<uint64_t>(rowid);
  *is_null = 0;
  return 1;
}

}  // extern "C"
