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
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "scalinglaw/scalinglaw.hpp"

namespace py = pybind11;
using namespace scalinglaw;

namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IndexArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<int, py::array::c_style | py::array::forcecast>;

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

FitOptions fit_options(double huber_delta, int max_iterations, double gradient_tolerance,
                       double function_tolerance, double parameter_tolerance, double max_step, int threads) {
    FitOptions options;
    options.huber_delta = huber_delta;
    options.max_iterations = max_iterations;
    options.gradient_tolerance = gradient_tolerance;
    options.function_tolerance = function_tolerance;
    options.parameter_tolerance = parameter_tolerance;
    options.max_step = max_step;
    options.threads = threads;
    return options;
}

py::array_t<double> log_params_array(const std::vector<LogParams>& rows) {
    py::array_t<double> out({static_cast<py::ssize_t>(rows.size()), py::ssize_t{5}});
    auto view = out.mutable_unchecked<2>();
    for (py::ssize_t i = 0; i < view.shape(0); ++i) {
        const LogParams& q = rows[static_cast<std::size_t>(i)];
        const double row[] = {q.a, q.b, q.e, q.alpha, q.beta};
        for (py::ssize_t j = 0; j < 5; ++j) view(i, j) = row[j];
    }
    return out;
}

// A numpy array of `count` values field(i) for i < count.
template <class T, class Field>
py::array_t<T> column(std::size_t count, Field&& field) {
    py::array_t<T> out(static_cast<py::ssize_t>(count));
    T* data = out.mutable_data();
    for (std::size_t i = 0; i < count; ++i) data[i] = static_cast<T>(field(i));
    return out;
}

std::vector<double> as_vector(const DoubleArray& values, const char* name) {
    if (values.ndim() != 1) throw std::invalid_argument(std::string(name) + " must be a 1-D array");
    return {values.data(), values.data() + values.size()};
}

std::vector<int> groups_from(const IntArray& group) {
    if (group.ndim() != 1) throw std::invalid_argument("group must be a 1-D array");
    return {group.data(), group.data() + group.size()};
}

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
py::array write_grid(const DoubleArray& rows, const DoubleArray& columns, py::array out, Grid&& grid) {
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
        "default_starts", [] { return log_params_array(scalinglaw::default_starts()); },
        "Hoffmann et al.'s 4500 starts, columns (a, b, e, alpha, beta).");

    m.def(
        "objective",
        [](const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss, double a, double b, double e,
           double alpha, double beta, double huber_delta) {
            const RunsView runs = runs_view(n, d, loss);
            py::gil_scoped_release release;
            return scalinglaw::objective(runs, {a, b, e, alpha, beta}, huber_delta);
        },
        py::arg("n"), py::arg("d"), py::arg("loss"), py::arg("a"), py::arg("b"), py::arg("e"),
        py::arg("alpha"), py::arg("beta"), py::arg("huber_delta") = 1e-3,
        "Sum of Huber losses of the log-space residuals at (a, b, e, alpha, beta).");

    m.def(
        "fit_chinchilla",
        [](const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss, const DoubleArray& starts,
           double huber_delta, int max_iterations, double gradient_tolerance, double function_tolerance,
           double parameter_tolerance, double max_step, int threads) {
            const RunsView runs = runs_view(n, d, loss);
            const std::vector<LogParams> start_list = starts_from(starts);
            const FitOptions options =
                fit_options(huber_delta, max_iterations, gradient_tolerance, function_tolerance,
                            parameter_tolerance, max_step, threads);
            const FitResult result = run_interruptible([&](const std::atomic<bool>& cancel) {
                FitOptions with_cancel = options;
                with_cancel.cancel = &cancel;
                return fit_chinchilla(runs, start_list, with_cancel);
            });

            const std::vector<StartOutcome>& starts_out = result.starts;
            std::vector<LogParams> ends(starts_out.size());
            for (std::size_t i = 0; i < ends.size(); ++i) ends[i] = starts_out[i].params;
            const std::size_t count = starts_out.size();
            py::dict out;
            out["log_params"] = as_tuple(result.log_params);
            out["objective"] = result.objective;
            out["status"] = to_string(result.status);
            out["message"] = result.message;
            out["iterations"] = result.iterations;
            out["best_start"] = result.best_start;
            out["starts_at_best"] = result.starts_at_best;
            out["hessian_condition"] = result.hessian_condition;
            out["largest_share"] =
                py::make_tuple(result.largest_share[0], result.largest_share[1], result.largest_share[2]);
            out["start_params"] = log_params_array(ends);
            out["start_objective"] =
                column<double>(count, [&](std::size_t i) { return starts_out[i].objective; });
            out["start_status"] =
                column<int>(count, [&](std::size_t i) { return static_cast<int>(starts_out[i].status); });
            out["start_iterations"] =
                column<int>(count, [&](std::size_t i) { return starts_out[i].iterations; });
            return out;
        },
        py::arg("n"), py::arg("d"), py::arg("loss"), py::arg("starts"), py::arg("huber_delta"),
        py::arg("max_iterations"), py::arg("gradient_tolerance"), py::arg("function_tolerance"),
        py::arg("parameter_tolerance"), py::arg("max_step"), py::arg("threads"),
        "Multi-start Levenberg-Marquardt fit; returns a dict of the best result and per-start arrays.");

    py::class_<Params>(m, "Params", "L(N, D) = E + A / N^alpha + B / D^beta.")
        .def(py::init<double, double, double, double, double>(), py::arg("E"), py::arg("A"), py::arg("B"),
             py::arg("alpha"), py::arg("beta"))
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
                                  scalinglaw::loss_grid(p, n_axis.data(), rows, c_axis.data(), columns, data,
                                                        threads, cancel);
                              });
        },
        py::arg("params"), py::arg("n_axis"), py::arg("c_axis"), py::arg("out"), py::arg("threads") = 0,
        "Fills out[i, j] = L(n_axis[i], c_axis[j] / (6 n_axis[i])); returns out.");
    m.def(
        "loss_grid_nd",
        [](const Params& p, const DoubleArray& n_axis, const DoubleArray& d_axis, py::array out,
           int threads) {
            const auto rows = static_cast<std::size_t>(n_axis.size());
            const auto columns = static_cast<std::size_t>(d_axis.size());
            return write_grid(n_axis, d_axis, std::move(out),
                              [&](auto* data, const std::atomic<bool>* cancel) {
                                  scalinglaw::loss_grid_nd(p, n_axis.data(), rows, d_axis.data(), columns,
                                                           data, threads, cancel);
                              });
        },
        py::arg("params"), py::arg("n_axis"), py::arg("d_axis"), py::arg("out"), py::arg("threads") = 0,
        "Fills out[i, j] = L(n_axis[i], d_axis[j]); returns out.");

    m.def(
        "bootstrap_indices",
        [](std::size_t n_runs, std::size_t n_resamples, std::uint64_t seed) {
            std::vector<std::size_t> indices;
            {
                py::gil_scoped_release release;
                indices = scalinglaw::bootstrap_indices(n_runs, n_resamples, seed);
            }
            IndexArray out({static_cast<py::ssize_t>(n_resamples), static_cast<py::ssize_t>(n_runs)});
            std::copy(indices.begin(), indices.end(), out.mutable_data());
            return out;
        },
        py::arg("n_runs"), py::arg("n_resamples"), py::arg("seed"),
        "(n_resamples, n_runs) run indices drawn with replacement; the same for a seed everywhere.");
    m.def(
        "bootstrap_starts",
        [](double a, double b, double e, double alpha, double beta) {
            return log_params_array(scalinglaw::bootstrap_starts({a, b, e, alpha, beta}));
        },
        py::arg("a"), py::arg("b"), py::arg("e"), py::arg("alpha"), py::arg("beta"),
        "The full-data optimum and the documented extra starts, columns (a, b, e, alpha, beta).");
    m.def(
        "bootstrap",
        [](const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss, const IndexArray& indices,
           const DoubleArray& starts, const DoubleArray& budgets, const IntArray& group,
           const DoubleArray& group_budgets, double huber_delta, int max_iterations,
           double gradient_tolerance, double function_tolerance, double parameter_tolerance, double max_step,
           int threads) {
            const RunsView runs = runs_view(n, d, loss);
            if (indices.ndim() != 2 || indices.shape(1) != n.size())
                throw std::invalid_argument("indices must be a 2-D array with one column per run");
            std::vector<std::size_t> rows(static_cast<std::size_t>(indices.size()));
            const std::int64_t* in = indices.data();
            for (std::size_t k = 0; k < rows.size(); ++k) {
                if (in[k] < 0)
                    throw std::invalid_argument("indices must be >= 0, got " + std::to_string(in[k]));
                rows[k] = static_cast<std::size_t>(in[k]);
            }
            const std::vector<LogParams> start_list = starts_from(starts);
            BootstrapOptions options;
            options.fit = fit_options(huber_delta, max_iterations, gradient_tolerance, function_tolerance,
                                      parameter_tolerance, max_step, threads);
            options.budgets = as_vector(budgets, "budgets");
            options.group = groups_from(group);
            options.group_budgets = as_vector(group_budgets, "group_budgets");
            const BootstrapResult r = run_interruptible([&](const std::atomic<bool>& cancel) {
                BootstrapOptions with_cancel = options;
                with_cancel.fit.cancel = &cancel;
                return scalinglaw::bootstrap(runs, rows, start_list, with_cancel);
            });

            const std::size_t count = r.resamples, width = r.budgets;
            py::array_t<double> frontier({static_cast<py::ssize_t>(count), py::ssize_t{3}});
            auto f = frontier.mutable_unchecked<2>();
            for (std::size_t i = 0; i < count; ++i) {
                const auto row = static_cast<py::ssize_t>(i);
                f(row, 0) = r.frontier[i].a;
                f(row, 1) = r.frontier[i].b;
                f(row, 2) = r.frontier[i].G;
            }
            const std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(count),
                                                 static_cast<py::ssize_t>(width)};
            py::array_t<double> n_opt(shape), d_opt(shape), loss_opt(shape), ratio(shape);
            for (std::size_t k = 0; k < r.optimal.size(); ++k) {
                n_opt.mutable_data()[k] = r.optimal[k].n;
                d_opt.mutable_data()[k] = r.optimal[k].d;
                loss_opt.mutable_data()[k] = r.optimal[k].loss;
                ratio.mutable_data()[k] = r.optimal[k].tokens_per_parameter;
            }
            py::dict out;
            out["log_params"] = log_params_array(r.log_params);
            out["objective"] = column<double>(count, [&](std::size_t i) { return r.objective[i]; });
            out["status"] = column<int>(count, [&](std::size_t i) { return static_cast<int>(r.status[i]); });
            out["iterations"] = column<int>(count, [&](std::size_t i) { return r.iterations[i]; });
            out["best_start"] = column<std::int64_t>(count, [&](std::size_t i) { return r.best_start[i]; });
            out["starts_at_best"] =
                column<std::int64_t>(count, [&](std::size_t i) { return r.starts_at_best[i]; });
            out["frontier"] = frontier;
            out["n_opt"] = n_opt;
            out["d_opt"] = d_opt;
            out["loss_opt"] = loss_opt;
            out["tokens_per_parameter"] = ratio;
            if (!options.group.empty()) {
                out["approach2_a"] = column<double>(count, [&](std::size_t i) { return r.approach2_a[i]; });
                out["approach2_b"] = column<double>(count, [&](std::size_t i) { return r.approach2_b[i]; });
                out["approach2_used"] =
                    column<std::int64_t>(count, [&](std::size_t i) { return r.approach2_used[i]; });
            }
            return out;
        },
        py::arg("n"), py::arg("d"), py::arg("loss"), py::arg("indices"), py::arg("starts"),
        py::arg("budgets"), py::arg("group"), py::arg("group_budgets"), py::arg("huber_delta"),
        py::arg("max_iterations"), py::arg("gradient_tolerance"), py::arg("function_tolerance"),
        py::arg("parameter_tolerance"), py::arg("max_step"), py::arg("threads"),
        "Refits every resample (rows of indices) from the starts; a dict of per-resample arrays.");
    m.def(
        "approach2",
        [](const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss, const IntArray& group,
           const DoubleArray& budgets) {
            const RunsView runs = runs_view(n, d, loss);
            const std::vector<int> groups = groups_from(group);
            const std::vector<double> budget_list = as_vector(budgets, "budgets");
            Approach2Result r;
            {
                py::gil_scoped_release release;
                r = scalinglaw::approach2(runs, groups, budget_list);
            }
            const std::vector<BudgetParabola>& p = r.parabolas;
            const std::size_t count = p.size();
            py::dict out;
            out["flops"] = column<double>(count, [&](std::size_t i) { return p[i].flops; });
            out["runs"] = column<std::int64_t>(count, [&](std::size_t i) { return p[i].runs; });
            out["sizes"] = column<std::int64_t>(count, [&](std::size_t i) { return p[i].sizes; });
            out["smallest_n"] = column<double>(count, [&](std::size_t i) { return p[i].smallest_n; });
            out["largest_n"] = column<double>(count, [&](std::size_t i) { return p[i].largest_n; });
            out["center"] = column<double>(count, [&](std::size_t i) { return p[i].center; });
            out["c0"] = column<double>(count, [&](std::size_t i) { return p[i].c0; });
            out["c1"] = column<double>(count, [&](std::size_t i) { return p[i].c1; });
            out["c2"] = column<double>(count, [&](std::size_t i) { return p[i].c2; });
            out["n_opt"] = column<double>(count, [&](std::size_t i) { return p[i].n_opt; });
            out["d_opt"] = column<double>(count, [&](std::size_t i) { return p[i].d_opt; });
            out["loss_opt"] = column<double>(count, [&](std::size_t i) { return p[i].loss_opt; });
            out["inside"] = column<bool>(count, [&](std::size_t i) { return p[i].inside; });
            py::list status, reason;
            for (const BudgetParabola& parabola : p) {
                status.append(to_string(parabola.status));
                reason.append(parabola.reason);
            }
            out["status"] = status;
            out["reason"] = reason;
            out["used"] = r.used;
            out["a"] = r.a;
            out["n_coefficient"] = r.n_coefficient;
            out["b"] = r.b;
            out["d_coefficient"] = r.d_coefficient;
            out["message"] = r.message;
            return out;
        },
        py::arg("n"), py::arg("d"), py::arg("loss"), py::arg("group"), py::arg("budgets"),
        "Approach 2: each budget's parabola of loss in ln N, and the exponents of N_opt, D_opt in C.");

    py::list statuses;
    for (FitStatus s : {FitStatus::converged, FitStatus::max_iterations, FitStatus::numerical_failure})
        statuses.append(to_string(s));
    m.attr("FIT_STATUSES") = py::tuple(statuses);
}
