// Counters of SQL function calls and condition work, for SHOW ENGINE QUEUE STATUS.
#pragma once
#include <atomic>
#include <cstdint>

namespace q4m {

struct FunctionCounters {
  std::atomic<uint64_t> queue_wait{0}, queue_end{0}, queue_abort{0}, queue_rowid{0},
      queue_set_srcid{0};
  // conditional subscription
  std::atomic<uint64_t> evaluation{0}, compile{0}, compile_cachehit{0};
};
extern FunctionCounters function_counters;

}  // namespace q4m
