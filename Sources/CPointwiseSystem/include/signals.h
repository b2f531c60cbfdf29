// Removing temporary files when the process is interrupted.
//
// Writers register the hidden temporary file they are filling; on SIGINT, SIGTERM or SIGHUP the
// handler unlinks every registered file (unlink is async-signal-safe), restores the default action
// and re-raises the signal, so the process still dies of it (exit status 130 for Ctrl-C) and
// leaves neither a partial output nor a stray temporary behind. Destinations are only ever
// replaced by rename, so they stay intact.
#ifndef C_POINTWISE_SIGNALS_H
#define C_POINTWISE_SIGNALS_H

#include <stdint.h>

/// Installs the handlers (once; later calls do nothing) and unblocks the handled signals on the
/// calling thread. Signals the process was started ignoring stay ignored. Returns 0, or -1 if a
/// system call failed.
int32_t pw_cleanup_install(void);

/// Registers `path` for removal on interruption. Returns a slot to unregister with, or -1 when
/// the path is too long or all slots are taken (the file is then simply not cleaned up).
int32_t pw_cleanup_register(const char *path);

/// Forgets the slot (after the file was renamed into place or removed).
void pw_cleanup_unregister(int32_t slot);

/// Unlinks every registered file now, as the handler does. Returns how many it removed.
int32_t pw_cleanup_run(void);

#endif
