#pragma once
// Long C++ work called from Python, with the GIL released and Ctrl-C honoured. The work runs on a helper
// thread while the calling thread polls for a pending signal every 50 ms; on one it raises the `cancel`
// flag the core polls, waits for the work to stop, and re-raises the signal's exception in Python. At the
// same polls it can hand a Python callable the count of items (starts, resamples) the core has finished.
// Part of the binding (it holds the GIL at times), not of the embeddable core.

#include <pybind11/pybind11.h>

#include "scalinglaw/fit.hpp"

#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace scalinglaw::bindings {

/// Whether the interpreter is shutting down: a thread that takes the GIL then is ended on the spot.
inline bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing() != 0;
#else
    return _Py_IsFinalizing() != 0;
#endif
}

/// A Python callable progress(done), None for no report, fed by the counter the core increments
/// (FitOptions::progress). The waiting thread calls it with the GIL held; an exception it raises stops the
/// work as Ctrl-C does.
struct Progress {
    pybind11::object callback;
    std::atomic<std::size_t> done{0};
    explicit Progress(pybind11::object report) : callback(std::move(report)) {}
    /// The counter for FitOptions::progress: null without a callback.
    std::atomic<std::size_t>* counter() { return callback.is_none() ? nullptr : &done; }
    /// `options` watching `cancel` and counting into this progress.
    scalinglaw::FitOptions controlling(scalinglaw::FitOptions options, const std::atomic<bool>& cancel) {
        options.cancel = &cancel;
        options.progress = counter();
        return options;
    }
};

/// Runs work(cancel) on a helper thread with the GIL released and returns its result; a pending signal
/// (Ctrl-C) raises `cancel`, and its Python exception is re-raised once the work has stopped. An
/// exception thrown by the work is rethrown on the calling thread. When no thread can be started, the
/// work runs on the calling thread (without Ctrl-C). When the interpreter begins to shut down under a
/// Python thread waiting here, the work is cancelled and joined before the thread is ended: a joinable
/// std::thread destroyed by that thread's unwinding would abort the whole process.
template <class Work>
auto run_interruptible(Work&& work, Progress* progress = nullptr)
    -> decltype(work(std::declval<const std::atomic<bool>&>())) {
    using Result = decltype(work(std::declval<const std::atomic<bool>&>()));
    std::atomic<bool> cancel{false};
    Result result{};
    std::exception_ptr error;
    bool done = false, interrupted = false;
    std::mutex mutex;
    std::condition_variable finished;
    auto body = [&] {
        try {
            result = work(cancel);
        } catch (...) {
            error = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(mutex);
        done = true;
        finished.notify_one();
    };
    // The GIL is given back by hand, not by gil_scoped_release: taking it while the interpreter shuts
    // down ends this thread by unwinding it, which from inside a destructor would abort the process.
    PyThreadState* state = PyEval_SaveThread();
    try {
        std::thread runner;
        try {
            runner = std::thread(body);
        } catch (const std::system_error&) {  // no thread to spare: the work runs here
            body();
        }
        struct Joiner {  // on every way out, the unwinding of a thread ended at shutdown included
            std::thread& thread;
            std::atomic<bool>& cancel;
            ~Joiner() {
                if (!thread.joinable()) return;
                cancel = true;
                thread.join();
            }
        } joiner{runner, cancel};
        std::unique_lock<std::mutex> lock(mutex);
        while (!finished.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) {
            if (interrupted) continue;
            if (interpreter_finalizing()) {
                cancel = true;  // nobody is left to read the result
                continue;
            }
            lock.unlock();
            {
                pybind11::gil_scoped_acquire acquire;
                if (PyErr_CheckSignals() != 0) {
                    interrupted = true;  // keeps the exception set
                } else if (progress != nullptr && progress->counter() != nullptr) {
                    try {
                        progress->callback(progress->done.load(std::memory_order_relaxed));
                    } catch (pybind11::error_already_set& e) {
                        e.restore();  // raised once the work has stopped, as a signal's exception
                        interrupted = true;
                    }
                }
            }
            if (interrupted) cancel = true;
            lock.lock();
        }
    }
#if defined(__GLIBCXX__)
    catch (abi::__forced_unwind&) {  // this thread is being ended: it must not take the GIL again
        throw;
    }
#endif
    catch (...) {
        PyEval_RestoreThread(state);
        throw;
    }
    PyEval_RestoreThread(state);
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
        PyThreadState* state = PyEval_SaveThread();  // by hand, as in run_interruptible
        try {
            work(nullptr);
        } catch (...) {
            PyEval_RestoreThread(state);
            throw;
        }
        PyEval_RestoreThread(state);
        return;
    }
    run_interruptible([&](const std::atomic<bool>& cancel) {
        work(&cancel);
        return true;
    });
}

}  // namespace scalinglaw::bindings
