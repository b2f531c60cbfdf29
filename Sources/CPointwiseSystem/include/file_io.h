// File calls that Swift's Glibc module does not expose.
#ifndef C_POINTWISE_FILE_IO_H
#define C_POINTWISE_FILE_IO_H

#include <stdint.h>

/// Starts writing the file's dirty pages in `offset ..< offset + length` (length 0: to the end)
/// to the disk, without waiting for the writes to finish (Linux `sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE`), so that a large output is written while the rest is computed and
/// the final `fsync` has little left to do. Returns 0, or -1 with `errno` set; elsewhere than
/// Linux it does nothing and returns 0.
int32_t pw_start_writeback(int32_t descriptor, int64_t offset, int64_t length);

#endif
