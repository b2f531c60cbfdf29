// A pool of worker threads that run one parallel loop at a time, for loops far shorter than the
// time an idle thread takes to wake up through the operating system (tens to hundreds of
// microseconds on a virtual machine). Between loops the workers spin for a while before they
// sleep, so a layer that follows another finds them awake.
#define _GNU_SOURCE
#include "CPointwiseKernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

enum {
    /// The most threads a loop can use: the caller plus this many workers minus one.
    PW_POOL_MAX_THREADS = 256,
    /// Polls of a worker (about 70 µs on a 3 GHz x86-64 core) for a new loop before it sleeps.
    PW_POOL_SPIN = 4096,
};

static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;   // one loop at a time
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;  // guards the sleeping workers
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
// The current loop: a sequence number bumped once per loop (high 32 bits) and the loop's thread
// count (low 32 bits), in one word, so a worker that wakes late — even one loop late — reads a
// count that belongs to the sequence number it saw, and runs each loop at most once.
static _Atomic uint64_t state;
static _Atomic int32_t pending;      // workers of the current loop still running
static int32_t created;              // worker threads started (indices 1…created)
// Written before `state` is published, and not rewritten until every worker of the loop is done.
static pw_task_fn job;
static void *job_context;
static _Thread_local bool inside_loop;

static inline void pause_briefly(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static void *worker_main(void *argument) {
    const int32_t index = (int32_t)(intptr_t)argument;
    inside_loop = true;
    pw_flush_subnormals(1);  // every share runs with subnormals flushed (see Parallel.forEach)
    uint64_t seen = 0;
    for (;;) {
        uint64_t now = atomic_load_explicit(&state, memory_order_acquire);
        for (int spin = 0; now == seen && spin < PW_POOL_SPIN; spin++) {
            pause_briefly();
            now = atomic_load_explicit(&state, memory_order_acquire);
        }
        if (now == seen) {
            pthread_mutex_lock(&wake_lock);
            while ((now = atomic_load_explicit(&state, memory_order_acquire)) == seen) {
                pthread_cond_wait(&wake, &wake_lock);
            }
            pthread_mutex_unlock(&wake_lock);
        }
        seen = now;
        if (index >= (int32_t)(now & 0xffffffffu)) continue;
        job(job_context, index);
        if (atomic_fetch_sub_explicit(&pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&wake_lock);
            pthread_cond_signal(&done);
            pthread_mutex_unlock(&wake_lock);
        }
    }
    return NULL;
}

static void run_serially(int32_t count, pw_task_fn fn, void *context) {
    for (int32_t t = 0; t < count; t++) fn(context, t);
}

void pw_parallel_run(int32_t count, pw_task_fn fn, void *context) {
    if (count <= 1 || inside_loop || count > PW_POOL_MAX_THREADS) return run_serially(count, fn, context);
    // Another thread's loop is running: this one goes serially rather than wait for it.
    if (pthread_mutex_trylock(&run_lock) != 0) return run_serially(count, fn, context);
    while (created < count - 1) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attributes, worker_main, (void *)(intptr_t)(created + 1));
        pthread_attr_destroy(&attributes);
        if (failed) break;
        created++;
    }
    if (created < count - 1) {  // no threads to be had: still correct, one after another
        pthread_mutex_unlock(&run_lock);
        return run_serially(count, fn, context);
    }
    job = fn;
    job_context = context;
    atomic_store_explicit(&pending, count - 1, memory_order_relaxed);
    const uint64_t sequence = (atomic_load_explicit(&state, memory_order_relaxed) >> 32) + 1;
    pthread_mutex_lock(&wake_lock);
    atomic_store_explicit(&state, (sequence << 32) | (uint32_t)count, memory_order_release);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&wake_lock);

    inside_loop = true;
    fn(context, 0);
    inside_loop = false;

    for (int spin = 0; atomic_load_explicit(&pending, memory_order_acquire) > 0 && spin < PW_POOL_SPIN; spin++) {
        pause_briefly();
    }
    if (atomic_load_explicit(&pending, memory_order_acquire) > 0) {
        pthread_mutex_lock(&wake_lock);
        while (atomic_load_explicit(&pending, memory_order_acquire) > 0) pthread_cond_wait(&done, &wake_lock);
        pthread_mutex_unlock(&wake_lock);
    }
    pthread_mutex_unlock(&run_lock);
}
