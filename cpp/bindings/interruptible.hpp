#pragma once
// Long C++ work called from Python, with the GIL released and Ctrl-C honoured. The work runs on a helper
// thread while the calling thread polls for a pending signal every 50 ms; on one it raises the `cancel`
// flag the core polls, waits for the work to stop, and re-raises the signal's exception in Python.
// Part of the binding (it holds the GIL at times), not of the embeddable core.

#include <pybind11/pybind11.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace scalinglaw::bindings {

/// Runs work(cancel) on a helper thread with the GIL released and returns its result; a pending signal
/// (Ctrl-C) raises `cancel`, and its Python exception is re-raised once the work has stopped. An
/// exception thrown by the work is rethrown on the calling thread.
template <class Work>
auto run_interruptible(Work&& work) -> decltype(work(std::declval<const std::atomic<bool>&>())) {
    using Result = decltype(work(std::declval<const std::atomic<bool>&>()));
    std::atomic<bool> cancel{false};
    Result result{};
    std::exception_ptr error;
    bool done = false, interrupted = false;
    std::mutex mutex;
    std::condition_variable finished;
    {
        pybind11::gil_scoped_release release;
        std::thread runner([&] {
            try {
                result = work(cancel);
            } catch (...) {
                error = std::current_exception();
            }
            std::lock_guard<std::mutex> lock(mutex);
            done = true;
            finished.notify_one();
        });
        std::unique_lock<std::mutex> lock(mutex);
        while (!finished.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) {
            if (interrupted) continue;
            lock.unlock();
            {
                pybind11::gil_scoped_acquire acquire;
                if (PyErr_CheckSignals() != 0) interrupted = true;  // keeps the exception set
            }
            if (interrupted) cancel = true;
            lock.lock();
        }
        lock.unlock();
        runner.join();
    }
    if (interrupted) throw pybind11::error_already_set();
    if (error) std::rethrow_exception(error);
    return result;
}

/// Runs work(cancel) with the GIL released: jobs of fewer than 2^22 cells (a grid of them takes ~2 ms)
/// directly, with a null cancel flag; larger ones through run_interruptible, whose helper thread costs
/// ~0.1 ms.
template <class Work>
void run_released(std::size_t cells, Work&& work) {
    if (cells < (std::size_t{1} << 22)) {
        pybind11::gil_scoped_release release;
        work(nullptr);
        return;
    }
    run_interruptible([&](const std::atomic<bool>& cancel) {
        work(&cancel);
        return true;
    });
}

}  // namespace scalinglaw::bindings
