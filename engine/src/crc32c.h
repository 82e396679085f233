// CRC-32C (Castagnoli), used to detect torn or corrupt batches in the data file.
#pragma once
#include <cstddef>
#include <cstdint>

namespace q4m {
uint32_t crc32c(const void *data, size_t length, uint32_t crc = 0);
}
