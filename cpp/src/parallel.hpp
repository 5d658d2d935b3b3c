#pragma once
// Private parallel loop on std::thread. Workers (the calling thread among them) take the next index from
// a shared atomic counter and write only their own outputs, so results never depend on the thread count.
// An exception escaping a std::thread would terminate the process: each worker catches it, the loop stops
// handing out work, and the first exception is rethrown in the caller. A raised cancel flag does the same
// with scalinglaw::cancelled. When the system cannot start a thread (a process or memory limit), the
// threads already started and the caller do all the work; with one thread, the caller does it alone.
// On Linux each started thread is kept off the caller's CPU (place_away_from_caller): some kernels
// (virtual machines that pack tasks onto few vCPUs) start a new thread beside its parent and move it to
// an idle vCPU only at the next balancing tick, 2-3 ms later, which is the whole of a small fit.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

#include "scalinglaw/fit.hpp"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace scalinglaw::detail {

/// Restricts `thread` to the CPUs the caller may use less the one it runs on now, when there are such
/// CPUs (Linux; elsewhere, or when any call fails, it is left where the system put it). Only placement
/// changes: which thread runs which item is decided by the shared counter as before.
inline void place_away_from_caller([[maybe_unused]] std::thread& thread) {
#if defined(__linux__)
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    const int here = sched_getcpu();
    if (here < 0 || here >= CPU_SETSIZE || sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
    CPU_CLR(here, &allowed);
    if (CPU_COUNT(&allowed) == 0) return;
    pthread_setaffinity_np(thread.native_handle(), sizeof allowed, &allowed);
#endif
}

/// Threads to use for `work` independent items when the caller asked for `requested` (0 = all cores):
/// never more than the cores, since each thread may carry its own workspace and more threads than cores
/// add memory, not speed (the results do not depend on the count).
inline std::size_t resolve_threads(int requested, std::size_t work) {
    const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t threads = requested > 0 ? std::min(static_cast<std::size_t>(requested), cores) : cores;
    return std::max<std::size_t>(1, std::min(threads, work));
}

/// Calls body(i, worker) once for every i in [0, count); worker in [0, resolve_threads(threads, count))
/// names the thread running it, so that per-worker scratch space needs no locking. `progress`, when
/// given, is incremented after each item (for a progress bar; nothing reads it here).
template <class Body>
void parallel_for(std::size_t count, int threads, Body&& body, const std::atomic<bool>* cancel = nullptr,
                  std::atomic<std::size_t>* progress = nullptr) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::exception_ptr error;
    std::mutex error_mutex;

    auto worker = [&](std::size_t worker_id) {
        try {
            for (;;) {
                if (stop.load(std::memory_order_relaxed)) return;
                if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) throw cancelled();
                const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
                if (i >= count) return;
                body(i, worker_id);
                if (progress != nullptr) progress->fetch_add(1, std::memory_order_relaxed);
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
            stop = true;
        }
    };

    const std::size_t extra = resolve_threads(threads, count) - 1;
    std::vector<std::thread> pool;
    if (extra > 0) {
        try {
            pool.reserve(extra);
            for (std::size_t t = 0; t < extra; ++t) {
                pool.emplace_back(worker, t + 1);
                place_away_from_caller(pool.back());
            }
        } catch (const std::system_error&) {  // no thread could start (EAGAIN: a process or memory limit)
        } catch (const std::bad_alloc&) {     // nor its bookkeeping be allocated
        }  // either way the threads started so far and this one do the work: same items, same results
    }
    worker(0);
    for (auto& thread : pool) thread.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace scalinglaw::detail
