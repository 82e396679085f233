#include "queue_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "crc32c.h"

namespace q4m {

bool log_sync_enabled = true;

namespace {

constexpr char kFileMagic[8] = {'Q', '4', 'M', 'F', 'A', 'S', 'T', '1'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kBatchMagic = 0x54414251;  // "QBAT"
constexpr uint64_t kGrowStep = 4u << 20;
constexpr size_t kReadChunk = 1u << 20;

struct AtomicCounters {
  std::atomic<uint64_t> sys_read{0}, sys_write{0}, sys_sync{0}, append{0}, remove{0},
      rows_written{0}, rows_removed{0};
} counters;

void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint32_t get32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

void append_record(std::string *out, RecordType type, uint32_t length, uint64_t rowid) {
  unsigned char h[kRecordHeaderSize] = {0};
  h[0] = type;
  put32(h + 4, length);
  put64(h + 8, rowid);
  out->append(reinterpret_cast<char *>(h), sizeof h);
}

int pread_full(int fd, void *buf, size_t n, uint64_t at) {
  auto *p = static_cast<char *>(buf);
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(at));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno;
    if (r == 0) return EIO;  // short file
    counters.sys_read++;
    p += r, n -= static_cast<size_t>(r), at += static_cast<uint64_t>(r);
  }
  return 0;
}


}  // namespace

int fsync_parent_dir(const std::string &file) {
  std::string dir = file.substr(0, file.find_last_of('/') + 1);
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = ::fsync(fd) ? errno : 0;
  ::close(fd);
  return err;
}

IoCounters io_counters() {
  IoCounters c;
  c.sys_read = counters.sys_read;
  c.sys_write = counters.sys_write;
  c.sys_sync = counters.sys_sync;
  c.append = counters.append;
  c.remove = counters.remove;
  c.rows_written = counters.rows_written;
  c.rows_removed = counters.rows_removed;
  return c;
}

// Fills the 16-byte header of a batch holding `payload`.
static void encode_batch_header(const std::string &payload, unsigned char *bh) {
  put32(bh, kBatchMagic);
  put32(bh + 4, static_cast<uint32_t>(payload.size()));
  put32(bh + 8, crc32c(payload.data(), payload.size()));
  put32(bh + 12, crc32c(bh, 12));
}

// A whole batch, header and payload, as one buffer (for files written in one go).
static std::string batch_image(const std::string &payload) {
  unsigned char bh[kBatchHeaderSize];
  encode_batch_header(payload, bh);
  std::string image(reinterpret_cast<char *>(bh), sizeof bh);
  return image + payload;
}

int QueueLog::create_file(const std::string &file, uint64_t first_rowid, const std::string &schema) {
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
  if (fd < 0) return errno;
  unsigned char header[kFileHeaderSize] = {0};
  memcpy(header, kFileMagic, sizeof kFileMagic);
  put32(header + 8, kFormatVersion);
  put32(header + 12, kFileHeaderSize);
  put64(header + 16, first_rowid);
  put32(header + 24, crc32c(header, 24));
  std::string image(reinterpret_cast<char *>(header), sizeof header);
  if (!schema.empty()) {
    std::string payload;
    append_record(&payload, REC_SCHEMA, static_cast<uint32_t>(schema.size()), 0);
    payload += schema;
    image += batch_image(payload);
  }
  int err = 0;
  if (::pwrite(fd, image.data(), image.size(), 0) != static_cast<ssize_t>(image.size()))
    err = errno ? errno : EIO;
  if (!err && ::fsync(fd)) err = errno;
  ::close(fd);
  if (!err) err = fsync_parent_dir(file);
  if (err) ::unlink(file.c_str());
  return err;
}

DataFile::~DataFile() {
  if (fd >= 0) ::close(fd);
}

int DataFile::read(const StoredRow &row, std::string *out) const {
  out->resize(row.length);
  if (row.length == 0) return 0;
  return pread_full(fd, &(*out)[0], row.length, row.offset);
}

QueueLog::~QueueLog() = default;

int QueueLog::open(const std::string &file, LogContents *contents) {
  fd_ = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0) return errno;
  data_ = std::make_shared<DataFile>(fd_);
  struct stat st;
  if (fstat(fd_, &st)) return errno;
  const uint64_t size = static_cast<uint64_t>(st.st_size);

  unsigned char header[kFileHeaderSize];
  if (size < kFileHeaderSize || pread_full(fd_, header, sizeof header, 0)) return -1;
  if (memcmp(header, kFileMagic, sizeof kFileMagic) || get32(header + 8) != kFormatVersion ||
      get32(header + 24) != crc32c(header, 24))
    return -1;
  contents->next_rowid = get64(header + 16);

  // Replay batches until the first one that does not validate.
  uint64_t at = kFileHeaderSize;
  std::string payload;
  while (at + kBatchHeaderSize <= size) {
    unsigned char bh[kBatchHeaderSize];
    if (pread_full(fd_, bh, sizeof bh, at)) break;
    const uint32_t length = get32(bh + 4);
    if (get32(bh) != kBatchMagic || get32(bh + 12) != crc32c(bh, 12) ||
        at + kBatchHeaderSize + length > size)
      break;
    payload.resize(length);
    if (pread_full(fd_, &payload[0], length, at + kBatchHeaderSize)) break;
    if (crc32c(payload.data(), length) != get32(bh + 8)) break;

    const auto *p = reinterpret_cast<const unsigned char *>(payload.data());
    size_t off = 0;
    bool malformed = false;
    while (off + kRecordHeaderSize <= length) {
      const RecordType type = static_cast<RecordType>(p[off]);
      const uint32_t data_length = get32(p + off + 4);
      const uint64_t rowid = get64(p + off + 8);
      const size_t data_at = off + kRecordHeaderSize;
      if (data_at + data_length > length) { malformed = true; break; }
      if (type == REC_ROW) {
        contents->live_rows[rowid] = StoredRow{at + kBatchHeaderSize + data_at, data_length};
        contents->bytes_total += data_length;
        if (rowid >= contents->next_rowid) contents->next_rowid = rowid + 1;
      } else if (type == REC_REMOVE) {
        auto it = contents->live_rows.find(rowid);
        if (it != contents->live_rows.end()) {
          contents->bytes_removed += it->second.length;
          contents->live_rows.erase(it);
        }
      } else if (type == REC_SCHEMA) {
        contents->schema.assign(reinterpret_cast<const char *>(p + data_at), data_length);
      } else if (type == REC_SOURCE && data_length == 4) {
        contents->last_source_rowid[get32(p + data_at)] = rowid;
      }
      off = data_at + data_length;
    }
    if (malformed || off != length) break;  // checksum matched but not our format: stop here
    at += kBatchHeaderSize + length;
  }

  // Cut a torn tail so that stale bytes can never be read as a batch later.
  for (uint64_t scan = at; scan < size;) {
    char buf[4096];
    size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof buf, size - scan));
    if (pread_full(fd_, buf, n, scan)) break;
    bool zero = true;
    for (size_t i = 0; i < n && zero; i++) zero = buf[i] == 0;
    if (!zero) { contents->torn_bytes = size - at; break; }
    scan += n;
    if (scan - at > kReadChunk) break;  // zeros well past the end: pre-extension
  }
  if (contents->torn_bytes) {
    if (::ftruncate(fd_, static_cast<off_t>(at)) || ::fsync(fd_)) return errno;
    allocated_ = at;
  } else {
    allocated_ = size;
  }
  end_ = at;
  next_rowid_ = contents->next_rowid;
  return 0;
}

uint64_t QueueLog::enqueue(const std::vector<std::pair<const unsigned char *, size_t>> &rows,
                           const std::vector<void *> &tags,
                           const std::vector<uint64_t> &removals, const SourceMark *source) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (source) {
    unsigned char slot[4];
    put32(slot, source->slot);
    append_record(&pending_, REC_SOURCE, sizeof slot, source->rowid);
    pending_.append(reinterpret_cast<char *>(slot), sizeof slot);
  }
  for (size_t i = 0; i < rows.size(); i++) {
    const uint64_t rowid = next_rowid_++;
    append_record(&pending_, REC_ROW, static_cast<uint32_t>(rows[i].second), rowid);
    pending_rows_.push_back(DurableRow{
        rowid, StoredRow{pending_.size(), static_cast<uint32_t>(rows[i].second)},
        i < tags.size() ? tags[i] : nullptr});
    pending_.append(reinterpret_cast<const char *>(rows[i].first), rows[i].second);
  }
  for (uint64_t rowid : removals) append_record(&pending_, REC_REMOVE, 0, rowid);
  counters.rows_removed += removals.size();
  if (!removals.empty()) counters.remove++;
  return ++enqueued_;
}

int QueueLog::wait(uint64_t ticket) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (durable_ >= ticket) return 0;
  pending_statements_++;
  arrivals_.notify_one();
  while (durable_ < ticket && !failed_) {
    if (!writing_)
      lead(lock);
    else
      written_.wait(lock);
  }
  return durable_ >= ticket ? 0 : failed_;
}

// Called with the mutex held and no write in progress; writes everything
// queued so far as one batch, then publishes its rows and wakes all waiters.
void QueueLog::lead(std::unique_lock<std::mutex> &lock) {
  writing_ = true;
  // With several writers, the ones whose statements the last flush just
  // finished are about to come back with their next statement. Waiting for
  // them (never longer than one flush takes) puts everyone in one batch
  // instead of two half-size ones that alternate: fewer flushes, more rows
  // per second. A single writer never waits.
  if (log_sync_enabled && pending_statements_ < expected_statements_) {
    const auto limit = std::min<std::chrono::nanoseconds>(last_flush_, std::chrono::milliseconds(2));
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (pending_statements_ < expected_statements_ &&
           arrivals_.wait_until(lock, deadline) != std::cv_status::timeout) {
    }
  }
  const int members = pending_statements_;
  std::string payload;
  payload.swap(pending_);
  std::vector<DurableRow> rows;
  rows.swap(pending_rows_);
  const uint64_t upto = enqueued_;
  const uint64_t at = end_;
  lock.unlock();

  const auto started = std::chrono::steady_clock::now();
  int err = write_batch(at, payload);
  const auto flush_time = std::chrono::steady_clock::now() - started;
  if (!err) {
    for (auto &row : rows) row.stored.offset += at + kBatchHeaderSize;
    counters.rows_written += rows.size();
    // Publishing happens before the statements that appended the rows return
    // and before the next batch can be written, so the table learns rows in
    // row id order and never hands out a row whose INSERT could still be lost.
    if (!rows.empty()) on_durable_(rows);
  }

  lock.lock();
  if (err) {
    failed_ = err;
  } else {
    end_ = at + kBatchHeaderSize + payload.size();
    durable_ = upto;
  }
  pending_statements_ -= members;
  expected_statements_ = members + pending_statements_;
  last_flush_ = std::chrono::duration_cast<std::chrono::nanoseconds>(flush_time);
  writing_ = false;
  written_.notify_all();
}

int QueueLog::ensure_allocated(uint64_t end) {
  if (end <= allocated_) return 0;
  const uint64_t target = (end + kGrowStep - 1) / kGrowStep * kGrowStep;
  int err = posix_fallocate(fd_, 0, static_cast<off_t>(target));
  if (err == EOPNOTSUPP || err == EINVAL) err = ::ftruncate(fd_, static_cast<off_t>(target)) ? errno : 0;
  if (!err) allocated_ = target;
  return err;
}

int QueueLog::write_batch(uint64_t at, const std::string &payload) {
  if (payload.empty()) return 0;
  unsigned char bh[kBatchHeaderSize];
  encode_batch_header(payload, bh);
  if (int err = ensure_allocated(at + sizeof bh + payload.size())) return err;

  struct iovec iov[2] = {{bh, sizeof bh}, {const_cast<char *>(payload.data()), payload.size()}};
  size_t done = 0, total = sizeof bh + payload.size();
  while (done < total) {
    // Skip whatever the previous partial write already covered.
    struct iovec part[2];
    int n = 0;
    size_t skip = done;
    for (auto &v : iov) {
      if (skip >= v.iov_len) { skip -= v.iov_len; continue; }
      part[n].iov_base = static_cast<char *>(v.iov_base) + skip;
      part[n].iov_len = v.iov_len - skip;
      skip = 0;
      n++;
    }
    ssize_t r = ::pwritev(fd_, part, n, static_cast<off_t>(at + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return r < 0 ? errno : EIO;
    counters.sys_write++;
    done += static_cast<size_t>(r);
  }
  counters.append++;
  if (log_sync_enabled) {
    if (::fdatasync(fd_)) return errno;
    counters.sys_sync++;
  }
  return 0;
}

void QueueLog::lock_writes() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (writing_) written_.wait(lock);
  writing_ = true;
}

void QueueLog::unlock_writes() {
  std::lock_guard<std::mutex> lock(mutex_);
  writing_ = false;
  written_.notify_all();
}

int QueueLog::write_compacted(const std::string &file,
                              const std::vector<std::pair<uint64_t, StoredRow>> &rows,
                              const std::string &schema,
                              const std::map<uint32_t, uint64_t> &sources, CompactedFile *out) {
  uint64_t first_rowid;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    first_rowid = next_rowid_;  // ids never repeat, even when no row is left
  }
  ::unlink(file.c_str());
  if (int err = create_file(file, first_rowid, schema)) return err;
  int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno;
  auto compacted = std::make_shared<DataFile>(fd);
  struct stat st;
  if (fstat(fd, &st)) return errno;
  uint64_t at = static_cast<uint64_t>(st.st_size);

  // Rows go in batches of about 4 MiB; the relay ids ride in the first one.
  constexpr size_t kBatchBytes = 4u << 20;
  std::string payload, row;
  for (const auto &source : sources) {
    unsigned char slot[4];
    put32(slot, source.first);
    append_record(&payload, REC_SOURCE, sizeof slot, source.second);
    payload.append(reinterpret_cast<char *>(slot), sizeof slot);
  }
  out->offsets.clear();
  auto flush_batch = [&]() -> int {
    if (payload.empty()) return 0;
    const std::string image = batch_image(payload);
    if (::pwrite(fd, image.data(), image.size(), static_cast<off_t>(at)) !=
        static_cast<ssize_t>(image.size()))
      return errno ? errno : EIO;
    counters.sys_write++;
    at += image.size();
    payload.clear();
    return 0;
  };
  for (const auto &entry : rows) {
    if (int err = data_->read(entry.second, &row)) return err;
    append_record(&payload, REC_ROW, static_cast<uint32_t>(row.size()), entry.first);
    // Offsets are known once the batch's place is: header, then this payload.
    out->offsets.push_back(at + kBatchHeaderSize + payload.size());
    payload += row;
    if (payload.size() >= kBatchBytes)
      if (int err = flush_batch()) return err;
  }
  if (int err = flush_batch()) return err;
  if (::fdatasync(fd)) return errno;
  counters.sys_sync++;
  out->file = compacted;
  out->end = at;
  return 0;
}

void QueueLog::install(const CompactedFile &compacted) {
  std::lock_guard<std::mutex> lock(mutex_);
  data_ = compacted.file;
  fd_ = compacted.file->fd;
  end_ = compacted.end;
  allocated_ = compacted.end;
}

}  // namespace q4m
