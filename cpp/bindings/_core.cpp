// The compiled module scalinglaw._core: a mechanical binding of the C++ core. Each function converts its
// arguments while holding the GIL, releases the GIL for the C++ work, then builds its result. Long calls
// run on a helper thread so that this thread can poll for Ctrl-C. std::invalid_argument arrives in
// Python as ValueError. Argument checking with Python-level names happens in the Python package.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "scalinglaw/scalinglaw.hpp"

namespace py = pybind11;
using namespace scalinglaw;

namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Runs work(cancel) on a helper thread with the GIL released; every 50 ms checks for a pending signal
// (Ctrl-C) and, if there is one, raises `cancel` and re-raises the signal's exception once work stops.
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
        py::gil_scoped_release release;
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
                py::gil_scoped_acquire acquire;
                if (PyErr_CheckSignals() != 0) interrupted = true;  // keeps the exception set
            }
            if (interrupted) cancel = true;
            lock.lock();
        }
        lock.unlock();
        runner.join();
    }
    if (interrupted) throw py::error_already_set();
    if (error) std::rethrow_exception(error);
    return result;
}

RunsView runs_view(const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss) {
    if (n.ndim() != 1 || d.ndim() != 1 || loss.ndim() != 1)
        throw std::invalid_argument("n, d and loss must be 1-D arrays");
    if (n.size() != d.size() || n.size() != loss.size())
        throw std::invalid_argument("n, d and loss must have the same length");
    return {n.data(), d.data(), loss.data(), static_cast<std::size_t>(n.size())};
}

std::vector<LogParams> starts_from(const DoubleArray& starts) {
    if (starts.ndim() != 2 || starts.shape(1) != 5)
        throw std::invalid_argument("starts must be a 2-D array with 5 columns (a, b, e, alpha, beta)");
    std::vector<LogParams> out(static_cast<std::size_t>(starts.shape(0)));
    const double* s = starts.data();
    for (std::size_t i = 0; i < out.size(); ++i, s += 5) out[i] = {s[0], s[1], s[2], s[3], s[4]};
    return out;
}

py::tuple as_tuple(const LogParams& q) { return py::make_tuple(q.a, q.b, q.e, q.alpha, q.beta); }

// Applies an allocation rule (budget, loss or size -> Allocation) to every entry of `values`; returns
// the fields as arrays of the same shape.
py::dict map_allocation(Allocation (*rule)(const Params&, double), const Params& p,
                        const DoubleArray& values) {
    std::vector<py::ssize_t> shape(values.shape(), values.shape() + values.ndim());
    py::array_t<double> flops(shape), n(shape), d(shape), loss(shape), ratio(shape);
    const double* in = values.data();
    double *f = flops.mutable_data(), *pn = n.mutable_data(), *pd = d.mutable_data(),
           *pl = loss.mutable_data(), *pr = ratio.mutable_data();
    {
        py::gil_scoped_release release;
        for (py::ssize_t i = 0; i < values.size(); ++i) {
            const Allocation a = rule(p, in[i]);
            f[i] = a.flops;
            pn[i] = a.n;
            pd[i] = a.d;
            pl[i] = a.loss;
            pr[i] = a.tokens_per_parameter;
        }
    }
    py::dict out;
    out["flops"] = flops;
    out["n"] = n;
    out["d"] = d;
    out["loss"] = loss;
    out["tokens_per_parameter"] = ratio;
    return out;
}

// Runs work(cancel) with the GIL released: jobs of fewer than 2^22 cells (a grid of them takes ~2 ms)
// directly, larger ones through run_interruptible, whose helper thread costs ~0.1 ms.
template <class Work>
void run_released(std::size_t cells, Work&& work) {
    if (cells < (std::size_t{1} << 22)) {
        py::gil_scoped_release release;
        work(nullptr);
        return;
    }
    run_interruptible([&](const std::atomic<bool>& cancel) {
        work(&cancel);
        return true;
    });
}

// Fills `out` (C-contiguous, writeable, float64 or float32, shape (len(rows), len(columns))) with
// grid(pointer, cancel) for the pointer type of its dtype; returns `out`.
template <class Grid>
py::array write_grid(const DoubleArray& rows, const DoubleArray& columns, py::array out,
                     Grid&& grid) {
    if (rows.ndim() != 1 || columns.ndim() != 1) throw std::invalid_argument("the axes must be 1-D");
    if (out.ndim() != 2 || out.shape(0) != rows.size() || out.shape(1) != columns.size())
        throw std::invalid_argument("out must have shape (len(rows axis), len(columns axis))");
    if (!(out.flags() & py::array::c_style)) throw std::invalid_argument("out must be C-contiguous");
    if (!out.writeable()) throw std::invalid_argument("out must be writeable");
    const auto cells = static_cast<std::size_t>(out.size());
    if (py::isinstance<py::array_t<double>>(out)) {
        double* data = static_cast<double*>(out.mutable_data());
        run_released(cells, [&](const std::atomic<bool>* cancel) { grid(data, cancel); });
    } else if (py::isinstance<py::array_t<float>>(out)) {
        float* data = static_cast<float*>(out.mutable_data());
        run_released(cells, [&](const std::atomic<bool>* cancel) { grid(data, cancel); });
    } else {
        throw std::invalid_argument("out must have dtype float64 or float32");
    }
    return out;
}

}  // namespace

PYBIND11_MODULE(_core, m, py::mod_gil_not_used()) {
    m.doc() = "Compiled core of scalinglaw (C++17). Use the functions of the scalinglaw package.";
    m.attr("__version__") = scalinglaw::version;

    m.def(
        "default_starts",
        [] {
            const std::vector<LogParams> starts = scalinglaw::default_starts();
            py::array_t<double> out({static_cast<py::ssize_t>(starts.size()), py::ssize_t{5}});
            auto view = out.mutable_unchecked<2>();
            for (py::ssize_t i = 0; i < view.shape(0); ++i) {
                const LogParams& q = starts[static_cast<std::size_t>(i)];
                const double row[] = {q.a, q.b, q.e, q.alpha, q.beta};
                for (py::ssize_t j = 0; j < 5; ++j) view(i, j) = row[j];
            }
            return out;
        },
        "Hoffmann et al.'s 4500 starts, columns (a, b, e, alpha, beta).");

    m.def(
        "objective",
        [](const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss, double a, double b,
           double e, double alpha, double beta, double huber_delta) {
            const RunsView runs = runs_view(n, d, loss);
            py::gil_scoped_release release;
            return scalinglaw::objective(runs, {a, b, e, alpha, beta}, huber_delta);
        },
        py::arg("n"), py::arg("d"), py::arg("loss"), py::arg("a"), py::arg("b"), py::arg("e"),
        py::arg("alpha"), py::arg("beta"), py::arg("huber_delta") = 1e-3,
        "Sum of Huber losses of the log-space residuals at (a, b, e, alpha, beta).");

    m.def(
        "fit_chinchilla",
        [](const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss,
           const DoubleArray& starts, double huber_delta, int max_iterations,
           double gradient_tolerance, double function_tolerance, double parameter_tolerance,
           double max_step, int threads) {
            const RunsView runs = runs_view(n, d, loss);
            const std::vector<LogParams> start_list = starts_from(starts);
            FitOptions options;
            options.huber_delta = huber_delta;
            options.max_iterations = max_iterations;
            options.gradient_tolerance = gradient_tolerance;
            options.function_tolerance = function_tolerance;
            options.parameter_tolerance = parameter_tolerance;
            options.max_step = max_step;
            options.threads = threads;
            const FitResult result = run_interruptible([&](const std::atomic<bool>& cancel) {
                FitOptions with_cancel = options;
                with_cancel.cancel = &cancel;
                return fit_chinchilla(runs, start_list, with_cancel);
            });

            const auto count = static_cast<py::ssize_t>(result.starts.size());
            py::array_t<double> params({count, py::ssize_t{5}});
            py::array_t<double> objective(count);
            py::array_t<int> status(count), iterations(count);
            auto p = params.mutable_unchecked<2>();
            auto o = objective.mutable_unchecked<1>();
            auto s = status.mutable_unchecked<1>();
            auto it = iterations.mutable_unchecked<1>();
            for (py::ssize_t i = 0; i < count; ++i) {
                const StartOutcome& outcome = result.starts[static_cast<std::size_t>(i)];
                const double row[] = {outcome.params.a, outcome.params.b, outcome.params.e,
                                      outcome.params.alpha, outcome.params.beta};
                for (py::ssize_t j = 0; j < 5; ++j) p(i, j) = row[j];
                o(i) = outcome.objective;
                s(i) = static_cast<int>(outcome.status);
                it(i) = outcome.iterations;
            }
            py::dict out;
            out["log_params"] = as_tuple(result.log_params);
            out["objective"] = result.objective;
            out["status"] = to_string(result.status);
            out["message"] = result.message;
            out["iterations"] = result.iterations;
            out["best_start"] = result.best_start;
            out["starts_at_best"] = result.starts_at_best;
            out["hessian_condition"] = result.hessian_condition;
            out["largest_share"] = py::make_tuple(result.largest_share[0], result.largest_share[1],
                                                  result.largest_share[2]);
            out["start_params"] = params;
            out["start_objective"] = objective;
            out["start_status"] = status;
            out["start_iterations"] = iterations;
            return out;
        },
        py::arg("n"), py::arg("d"), py::arg("loss"), py::arg("starts"), py::arg("huber_delta"),
        py::arg("max_iterations"), py::arg("gradient_tolerance"), py::arg("function_tolerance"),
        py::arg("parameter_tolerance"), py::arg("max_step"), py::arg("threads"),
        "Multi-start Levenberg-Marquardt fit; returns a dict of the best result and per-start arrays.");

    py::class_<Params>(m, "Params", "L(N, D) = E + A / N^alpha + B / D^beta.")
        .def(py::init<double, double, double, double, double>(), py::arg("E"), py::arg("A"),
             py::arg("B"), py::arg("alpha"), py::arg("beta"))
        .def_readonly("E", &Params::E)
        .def_readonly("A", &Params::A)
        .def_readonly("B", &Params::B)
        .def_readonly("alpha", &Params::alpha)
        .def_readonly("beta", &Params::beta);

    m.def(
        "frontier_coefficients",
        [](const Params& p) {
            const FrontierCoefficients f = frontier_coefficients(p);
            return py::make_tuple(f.a, f.b, f.G);
        },
        py::arg("params"), "(a, b, G) of N_opt = G (C/6)^a, D_opt = (C/6)^b / G.");
    m.def(
        "compute_optimal",
        [](const Params& p, const DoubleArray& flops) { return map_allocation(compute_optimal, p, flops); },
        py::arg("params"), py::arg("flops"), "Compute-optimal N, D, loss for each budget.");
    m.def(
        "budget_for_loss",
        [](const Params& p, const DoubleArray& loss) { return map_allocation(budget_for_loss, p, loss); },
        py::arg("params"), py::arg("loss"), "Smallest budget reaching each target loss.");
    m.def(
        "optimal_for_size",
        [](const Params& p, const DoubleArray& n) { return map_allocation(optimal_for_size, p, n); },
        py::arg("params"), py::arg("n"), "Tokens (and budget) for which each size is compute-optimal.");

    m.def(
        "predict",
        [](const Params& p, const DoubleArray& n, const DoubleArray& d, int threads) {
            if (n.ndim() != d.ndim() || !std::equal(n.shape(), n.shape() + n.ndim(), d.shape()))
                throw std::invalid_argument("n and d must have the same shape");
            py::array_t<double> out(std::vector<py::ssize_t>(n.shape(), n.shape() + n.ndim()));
            const double *pn = n.data(), *pd = d.data();
            double* po = out.mutable_data();
            const auto count = static_cast<std::size_t>(n.size());
            run_released(count, [&](const std::atomic<bool>* cancel) {
                scalinglaw::predict(p, pn, pd, count, po, threads, cancel);
            });
            return out;
        },
        py::arg("params"), py::arg("n"), py::arg("d"), py::arg("threads") = 0,
        "L(n, d) elementwise over two arrays of one shape.");
    m.def(
        "loss_grid",
        [](const Params& p, const DoubleArray& n_axis, const DoubleArray& c_axis, py::array out,
           int threads) {
            const auto rows = static_cast<std::size_t>(n_axis.size());
            const auto columns = static_cast<std::size_t>(c_axis.size());
            return write_grid(n_axis, c_axis, std::move(out),
                              [&](auto* data, const std::atomic<bool>* cancel) {
                                  scalinglaw::loss_grid(p, n_axis.data(), rows, c_axis.data(),
                                                        columns, data, threads, cancel);
                              });
        },
        py::arg("params"), py::arg("n_axis"), py::arg("c_axis"), py::arg("out"),
        py::arg("threads") = 0,
        "Fills out[i, j] = L(n_axis[i], c_axis[j] / (6 n_axis[i])); returns out.");
    m.def(
        "loss_grid_nd",
        [](const Params& p, const DoubleArray& n_axis, const DoubleArray& d_axis, py::array out,
           int threads) {
            const auto rows = static_cast<std::size_t>(n_axis.size());
            const auto columns = static_cast<std::size_t>(d_axis.size());
            return write_grid(n_axis, d_axis, std::move(out),
                              [&](auto* data, const std::atomic<bool>* cancel) {
                                  scalinglaw::loss_grid_nd(p, n_axis.data(), rows, d_axis.data(),
                                                           columns, data, threads, cancel);
                              });
        },
        py::arg("params"), py::arg("n_axis"), py::arg("d_axis"), py::arg("out"),
        py::arg("threads") = 0,
        "Fills out[i, j] = L(n_axis[i], d_axis[j]); returns out.");

    py::list statuses;
    for (FitStatus s : {FitStatus::converged, FitStatus::max_iterations, FitStatus::numerical_failure})
        statuses.append(to_string(s));
    m.attr("FIT_STATUSES") = py::tuple(statuses);
}
