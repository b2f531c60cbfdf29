#define _GNU_SOURCE
#include "file_io.h"

#include <fcntl.h>

int32_t pw_start_writeback(int32_t descriptor, int64_t offset, int64_t length) {
#ifdef __linux__
    return sync_file_range(descriptor, offset, length, SYNC_FILE_RANGE_WRITE) == 0 ? 0 : -1;
#else
    (void)descriptor;
    (void)offset;
    (void)length;
    return 0;
#endif
}
