#include "signals.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

// A fixed table, so the handler never allocates or locks: a slot's path is written while the slot
// is claimed (state 1) and published with a release store (state 2); the handler only reads
// published slots.
enum { slot_count = 64, path_capacity = 4096 };
enum { slot_free = 0, slot_claimed = 1, slot_published = 2 };

static _Atomic int32_t slot_state[slot_count];
static char slot_path[slot_count][path_capacity];
static atomic_flag installed = ATOMIC_FLAG_INIT;
static const int handled_signals[] = {SIGINT, SIGTERM, SIGHUP};

int32_t pw_cleanup_run(void) {
    int32_t removed = 0;
    for (int i = 0; i < slot_count; i++) {
        if (atomic_load_explicit(&slot_state[i], memory_order_acquire) == slot_published
            && unlink(slot_path[i]) == 0) {
            removed++;
        }
    }
    return removed;
}

static void handle(int signal_number) {
    pw_cleanup_run();
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(signal_number, &fallback, NULL);
    raise(signal_number);
}

int32_t pw_cleanup_install(void) {
    if (atomic_flag_test_and_set(&installed)) return 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handle;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < sizeof handled_signals / sizeof handled_signals[0]; i++) {
        sigaddset(&action.sa_mask, handled_signals[i]);
    }
    for (size_t i = 0; i < sizeof handled_signals / sizeof handled_signals[0]; i++) {
        // Leave a signal alone if the process was started ignoring it (nohup, background jobs).
        struct sigaction previous;
        if (sigaction(handled_signals[i], NULL, &previous) != 0) return -1;
        if (previous.sa_handler == SIG_IGN) continue;
        if (sigaction(handled_signals[i], &action, NULL) != 0) return -1;
    }
    // A blocked mask is inherited by accident (from whichever thread spawned the process), and
    // would keep the handlers from ever running: unblock the handled signals on this thread,
    // and so on the threads it starts later.
    return pthread_sigmask(SIG_UNBLOCK, &action.sa_mask, NULL) == 0 ? 0 : -1;
}

int32_t pw_cleanup_register(const char *path) {
    size_t length = strlen(path);
    if (length >= path_capacity) return -1;
    for (int i = 0; i < slot_count; i++) {
        int32_t expected = slot_free;
        if (atomic_compare_exchange_strong_explicit(&slot_state[i], &expected, slot_claimed,
                                                    memory_order_acquire, memory_order_relaxed)) {
            memcpy(slot_path[i], path, length + 1);
            atomic_store_explicit(&slot_state[i], slot_published, memory_order_release);
            return i;
        }
    }
    return -1;
}

void pw_cleanup_unregister(int32_t slot) {
    if (slot < 0 || slot >= slot_count) return;
    atomic_store_explicit(&slot_state[slot], slot_free, memory_order_release);
}
