// The handler: how the server reads and writes a QUEUE table. Which rows a
// scan returns depends on the connection (owner mode, see q4m-spec.md 3 and
// 5.2); writes are batched per statement and committed through the table's
// log (group commit) before the statement returns.
#pragma once
#include "server.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "queue_table.h"

namespace q4m {

class ha_queue final : public handler {
 public:
  ha_queue(handlerton *hton, TABLE_SHARE *share) : handler(hton, share) {}
  ~ha_queue() override;

  const char *table_type() const override { return "QUEUE"; }
  const char *index_type(uint) override { return "NONE"; }
  ulonglong table_flags() const override;
  ulong index_flags(uint, uint, bool) const override { return 0; }
  uint max_supported_keys() const override { return 0; }
  uint max_supported_record_length() const override { return HA_MAX_REC_LENGTH; }

  int open(const char *name, int mode, uint test_if_locked) override;
  int close() override;
  int create(const char *name, TABLE *form, HA_CREATE_INFO *info) override;
  int delete_table(const char *name) override;
  int rename_table(const char *from, const char *to) override;

  int rnd_init(bool scan) override;
  int rnd_end() override;
  int rnd_next(uchar *buf) override;
  int rnd_pos(uchar *buf, uchar *pos) override;
  void position(const uchar *record) override;
  int info(uint flag) override;
  ha_rows records() override;

  int write_row(const uchar *buf) override;
  int update_row(const uchar *, const uchar *) override { return HA_ERR_WRONG_COMMAND; }
  int delete_row(const uchar *buf) override;
  int delete_all_rows() override { return HA_ERR_WRONG_COMMAND; }
  void start_bulk_insert(ha_rows rows, uint flags) override;
  int end_bulk_insert() override;
  bool start_bulk_delete() override { return false; }
  int end_bulk_delete() override;

  int external_lock(THD *thd, int lock_type) override;
  int reset() override;
  THR_LOCK_DATA **store_lock(THD *thd, THR_LOCK_DATA **to, enum thr_lock_type lock_type) override;

 private:
  enum class Scan { visible, owned, none, all };

  int read_row(uchar *buf, uint64_t rowid, const DataFile &file, const StoredRow &stored,
               ConnState *owner);
  int commit_rows(std::vector<std::string> &rows, std::vector<std::unique_ptr<CarriedOwnership>> &carried);
  int finish_statement();
  void decide_relay();
  int inherit_relay_positions();
  void block_assignment();
  void unblock_assignment();
  ha_rows visible_count();
  ConnState *conn(bool create = false) { return conn_state(ha_thd(), create); }

  QueueTable *qt_ = nullptr;
  THR_LOCK_DATA lock_data_;

  Scan scan_ = Scan::visible;
  uint64_t cursor_ = 0;         // last row id a scan returned
  uint64_t current_rowid_ = 0;  // row last read, for position() / delete_row()
  bool owned_row_returned_ = false;
  std::string read_buffer_;     // the row last read; its BLOBs point into it

  // Per-statement state, settled by finish_statement().
  bool blocking_assignment_ = false;
  bool bulk_insert_ = false;
  size_t bulk_bytes_ = 0;
  std::vector<std::string> bulk_rows_;
  std::vector<std::unique_ptr<CarriedOwnership>> bulk_carried_;
  uint64_t removal_ticket_ = 0;  // DELETE's removals, to wait for before returning
  // queue_set_srcid() applied to this INSERT: append with a source mark, or
  // drop the rows as an already received duplicate.
  enum class Relay { none, append, drop } relay_ = Relay::none;
  SourceMark relay_mark_{0, 0};
  bool relay_inherited_ = false;  // ALTER's copy took over the relay positions
  bool insert_statement_ = false;  // this statement is an INSERT into this table
};

}  // namespace q4m
