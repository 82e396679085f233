// The data file of one queue table: an append-only log of checksummed batches,
// written with group commit. Knows nothing about the server; the in-memory
// state of a table (queue_table.h) is rebuilt from it at open and fed by it
// through a callback whenever a batch becomes durable.
//
// File layout (all integers little-endian):
//   file header, 4096 bytes: "Q4MFAST1", u32 format version, u32 header size,
//     u64 first row id (next id when the file holds no row), u32 crc32c of the
//     preceding 24 bytes, zeros.
//   then batches, each: u32 magic "QBAT", u32 payload length, u32 crc32c of the
//     payload, u32 crc32c of the previous 12 bytes; then the payload: records.
//   record: u8 type, 3 zero bytes, u32 data length, u64 row id, data.
//     REC_ROW    a row (data = the packed row) with its id;
//     REC_REMOVE the row with this id is gone (no data);
//     REC_SOURCE relay bookkeeping (data = u32 slot), for queue_set_srcid;
//     REC_SCHEMA the column layout (table_schema.h), written at CREATE.
// The file is pre-extended with zeros in 4 MiB steps; the log ends at the
// first batch whose header or checksum does not validate, and anything after
// that point is cut off when the file is opened (a torn tail after a crash).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace q4m {

enum RecordType : uint8_t { REC_ROW = 1, REC_REMOVE = 2, REC_SOURCE = 3, REC_SCHEMA = 4 };

constexpr uint32_t kFileHeaderSize = 4096;
constexpr uint32_t kBatchHeaderSize = 16;
constexpr uint32_t kRecordHeaderSize = 16;
constexpr uint32_t kMaxRowLength = (1u << 30) - 1;

// A row as it lies in the file: where its data starts and how long it is.
struct StoredRow {
  uint64_t offset;
  uint32_t length;
};

// What a rebuilt log contains, handed to the table at open.
struct LogContents {
  std::map<uint64_t, StoredRow> live_rows;  // by row id, ascending = FIFO order
  std::map<uint32_t, uint64_t> last_source_rowid;
  std::string schema;          // the last REC_SCHEMA record's data
  uint64_t next_rowid = 1;
  uint64_t bytes_total = 0;    // payload bytes of every row in the file
  uint64_t bytes_removed = 0;  // payload bytes of removed rows
  uint64_t torn_bytes = 0;     // bytes cut from the tail (0 after a clean run)
};

// Relay bookkeeping written with relayed rows (queue_set_srcid): the last row
// id received from a source slot.
struct SourceMark {
  uint32_t slot;
  uint64_t rowid;
};

// A row that became durable, as reported to the table by the group leader.
struct DurableRow {
  uint64_t rowid;
  StoredRow stored;
  void *tag;  // whatever the appender attached (used to carry ownership in ALTER)
};

// Process-wide I/O counters for SHOW ENGINE QUEUE STATUS.
struct IoCounters {
  uint64_t sys_read = 0, sys_write = 0, sys_sync = 0, append = 0, remove = 0,
           rows_written = 0, rows_removed = 0;
};
IoCounters io_counters();

// fsync of the directory holding `file`, so a created or renamed file survives a crash.
int fsync_parent_dir(const std::string &file);

// Whether statements wait for fdatasync (the queue_sync variable).
extern bool log_sync_enabled;

// An open data file. Readers hold it while they read, so a compaction can
// swap files under them: the old one is closed when its last reader is done.
struct DataFile {
  int fd;
  explicit DataFile(int descriptor) : fd(descriptor) {}
  ~DataFile();
  DataFile(const DataFile &) = delete;
  DataFile &operator=(const DataFile &) = delete;
  // Reads a stored row of this file.
  int read(const StoredRow &row, std::string *out) const;
};

// A compacted copy of a log, written next to it by QueueLog::write_compacted.
struct CompactedFile {
  std::shared_ptr<DataFile> file;
  std::vector<uint64_t> offsets;  // new offset of each row given, same order
  uint64_t end = 0;
};

class QueueLog {
 public:
  using DurableCallback = std::function<void(const std::vector<DurableRow> &)>;

  // Creates a new data file holding no row, only the table's column layout
  // (replacing nothing: the caller unlinks).
  static int create_file(const std::string &file, uint64_t first_rowid, const std::string &schema);

  explicit QueueLog(DurableCallback on_durable) : on_durable_(std::move(on_durable)) {}
  ~QueueLog();
  QueueLog(const QueueLog &) = delete;
  QueueLog &operator=(const QueueLog &) = delete;

  // Opens and replays the file. Returns 0 or an errno / -1 for a bad file.
  int open(const std::string &file, LogContents *contents);

  // Queues rows and removals for the next group commit and returns a ticket
  // to wait on. Row ids are assigned here, in call order, so rows keep the
  // order in which statements appended them. Never blocks on I/O, so it may
  // be called with the engine's global mutex held.
  // A `source` mark goes into the same batch as the rows, so after a crash
  // the relayed rows and the duplicate-suppression state agree.
  uint64_t enqueue(const std::vector<std::pair<const unsigned char *, size_t>> &rows,
                   const std::vector<void *> &tags, const std::vector<uint64_t> &removals,
                   const SourceMark *source = nullptr);

  // Waits until everything up to the ticket is written (and flushed when
  // syncing is on). The first waiter to find no write in progress becomes the
  // leader and writes every queued batch with one write and one flush.
  // Returns 0, or an errno if the log could not be written.
  int wait(uint64_t ticket);

  // The current data file. Only a compaction changes it, under the table's
  // mutex, so a reader that looked a row up under that mutex must read it
  // from the file it got there.
  std::shared_ptr<DataFile> file() const { return data_; }

  uint64_t end_offset() {
    std::lock_guard<std::mutex> lock(mutex_);
    return end_;
  }

  // --- compaction (queue_table.cc drives it) ---
  // Makes the caller the only writer: waits for a running group commit and
  // holds off the next one; statements keep queueing their records.
  void lock_writes();
  void unlock_writes();
  // Writes `rows` (read from the current file) with their ids, the layout and
  // the relay ids into a new file at `file`, flushed.
  int write_compacted(const std::string &file, const std::vector<std::pair<uint64_t, StoredRow>> &rows,
                      const std::string &schema, const std::map<uint32_t, uint64_t> &sources,
                      CompactedFile *out);
  // Switches to the compacted file (writes must be locked).
  void install(const CompactedFile &compacted);

 private:
  void lead(std::unique_lock<std::mutex> &lock);
  int write_batch(uint64_t at, const std::string &payload);
  int ensure_allocated(uint64_t end);

  DurableCallback on_durable_;
  std::shared_ptr<DataFile> data_;
  int fd_ = -1;  // data_->fd, for the writer

  std::mutex mutex_;
  std::condition_variable written_;
  std::condition_variable arrivals_;    // a statement started waiting (for a gathering leader)
  // Group-commit gathering: statements waiting for a flush that has not
  // started, how many took part in the last round (members plus those that
  // arrived during its flush), and how long its flush took.
  int pending_statements_ = 0;
  int expected_statements_ = 1;
  std::chrono::nanoseconds last_flush_{0};
  std::string pending_;                 // records of the next batch
  std::vector<DurableRow> pending_rows_;  // offsets relative to pending_
  uint64_t next_rowid_ = 1;
  uint64_t enqueued_ = 0;  // last ticket handed out
  uint64_t durable_ = 0;   // last ticket written
  bool writing_ = false;   // a leader is writing
  int failed_ = 0;         // sticky write error: the table needs a restart
  uint64_t end_ = 0;       // file offset where the next batch goes
  uint64_t allocated_ = 0; // file size after pre-extension
};

}  // namespace q4m
