// Plugin glue: the handlerton, the queue_sync variable, SHOW ENGINE QUEUE
// STATUS and the plugin declaration. The SQL functions live in
// queue_functions.cc, in the same shared object.
#include "server.h"

#include <cstdio>
#include <string>

#include "functions.h"
#include "ha_queue.h"
#include "queue_log.h"
#include "queue_table.h"

namespace q4m {

handlerton *queue_hton = nullptr;

namespace {

// .Q4T is a compaction's temporary file: registered so that DROP DATABASE
// also removes one a crash left behind.
const char *queue_file_extensions[] = {".Q4M", ".Q4T", NullS};

my_bool sync_variable = TRUE;

void update_sync(THD *, struct st_mysql_sys_var *, void *var, const void *save) {
  *static_cast<my_bool *>(var) = *static_cast<const my_bool *>(save);
  log_sync_enabled = *static_cast<const my_bool *>(save);
}

MYSQL_SYSVAR_BOOL(sync, sync_variable, PLUGIN_VAR_OPCMDARG,
                  "Wait for fdatasync before INSERT, DELETE and row consumption return "
                  "(ON, the default: durable). OFF trades durability for speed, for benchmarks.",
                  nullptr, update_sync, TRUE);

struct st_mysql_sys_var *system_variables[] = {MYSQL_SYSVAR(sync), nullptr};

handler *create_handler(handlerton *hton, TABLE_SHARE *share, MEM_ROOT *mem_root) {
  return new (mem_root) ha_queue(hton, share);
}

int close_connection(handlerton *, THD *thd) {
  conn_disconnect(thd);
  return 0;
}

void add_line(std::string *out, const char *name, unsigned long long value) {
  char line[64];
  snprintf(line, sizeof line, "%-16s %20llu\n", name, value);
  *out += line;
}

void add_section(std::string *out, const char *title) {
  *out += "\n";
  *out += title;
  *out += "\n------------------------------------\n";
}

bool show_status(handlerton *hton, THD *thd, stat_print_fn *print, enum ha_stat_type type) {
  if (type != HA_ENGINE_STATUS) return false;
  const IoCounters io = io_counters();
  std::string text;
  add_section(&text, "I/O calls");
  add_line(&text, "sys_read", io.sys_read);
  add_line(&text, "sys_write", io.sys_write);
  add_line(&text, "sys_sync", io.sys_sync);
  add_line(&text, "read_cachehit", 0);
  add_section(&text, "Writer thread");
  add_line(&text, "append", io.append);
  add_line(&text, "remove", io.remove);
  add_section(&text, "Conditional subscription");
  add_line(&text, "evaluation", function_counters.evaluation);
  add_line(&text, "compile", function_counters.compile);
  add_line(&text, "compile_cachehit", function_counters.compile_cachehit);
  add_section(&text, "High-level stats");
  add_line(&text, "rows_written", io.rows_written);
  add_line(&text, "rows_removed", io.rows_removed);
  add_line(&text, "queue_wait", function_counters.queue_wait);
  add_line(&text, "queue_end", function_counters.queue_end);
  add_line(&text, "queue_abort", function_counters.queue_abort);
  add_line(&text, "queue_rowid", function_counters.queue_rowid);
  add_line(&text, "queue_set_srcid", function_counters.queue_set_srcid);
  return print(thd, "QUEUE", 5, "", 0, text.data(), text.size());
}

int plugin_init(void *p) {
  queue_hton = static_cast<handlerton *>(p);
  mysql_mutex_init(0, &g_queue_mutex, MY_MUTEX_INIT_FAST);
  log_sync_enabled = sync_variable;
  queue_hton->create = create_handler;
  queue_hton->close_connection = close_connection;
  queue_hton->show_status = show_status;
  queue_hton->tablefile_extensions = queue_file_extensions;
  // TRUNCATE re-creates the table through handler::create().
  queue_hton->flags = HTON_CAN_RECREATE;
  return 0;
}

int plugin_deinit(void *) {
  close_all_tables();
  mysql_mutex_destroy(&g_queue_mutex);
  return 0;
}

struct st_mysql_storage_engine storage_engine = {MYSQL_HANDLERTON_INTERFACE_VERSION};

}  // namespace
}  // namespace q4m

maria_declare_plugin(queue){
    MYSQL_STORAGE_ENGINE_PLUGIN,
    &q4m::storage_engine,
    "QUEUE",
    "q4m_fast",
    "Q4M-compatible message queue storage engine",
    PLUGIN_LICENSE_GPL,
    q4m::plugin_init,
    q4m::plugin_deinit,
    0x0009,
    nullptr,
    q4m::system_variables,
    "0.9",
    MariaDB_PLUGIN_MATURITY_GAMMA,
} maria_declare_plugin_end;
