// The compiled module scalinglaw._core: a mechanical binding of the C++ core. C++ structs become classes
// with read-only properties, their vectors numpy arrays; statuses are enums. Each function converts its
// arguments while holding the GIL, releases it for the C++ work (long calls poll for Ctrl-C:
// interruptible.hpp), then builds its result. std::invalid_argument arrives as ValueError. Argument
// checking with Python-level names happens in the Python package.
//
// Names are those of Python and JSON, which this file alone maps to the C++ spellings the embedding API
// keeps: the law's symbols N, D, C for n, d, flops; delta for huber_delta; term_shares for largest_share.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "interruptible.hpp"
#include "scalinglaw/scalinglaw.hpp"

namespace py = pybind11;
using namespace scalinglaw;
using bindings::run_interruptible;
using bindings::run_released;

namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IndexArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<int, py::array::c_style | py::array::forcecast>;

constexpr std::array<double LogParams::*, 5> kLogParams{&LogParams::a, &LogParams::b, &LogParams::e,
                                                        &LogParams::alpha, &LogParams::beta};
constexpr std::array<double Params::*, 5> kParams{&Params::E, &Params::A, &Params::B, &Params::alpha,
                                                  &Params::beta};
constexpr std::array<double FrontierCoefficients::*, 3> kFrontier{
    &FrontierCoefficients::a, &FrontierCoefficients::b, &FrontierCoefficients::G};
constexpr std::array<double Allocation::*, 5> kAllocation{
    &Allocation::flops, &Allocation::n, &Allocation::d, &Allocation::loss, &Allocation::tokens_per_parameter};

// A new array of `count` values field(i).
template <class T, class Field>
py::array_t<T> column(std::size_t count, Field&& field) {
    py::array_t<T> out(static_cast<py::ssize_t>(count));
    T* data = out.mutable_data();
    for (std::size_t i = 0; i < count; ++i) data[i] = static_cast<T>(field(i));
    return out;
}

template <class T, class U = T>
py::array_t<T> array_of(const std::vector<U>& values) {
    return column<T>(values.size(), [&](std::size_t i) { return values[i]; });
}

// Structs as rows: a (count, K) array whose row i holds the fields of item(i), in the order given.
template <class S, std::size_t K, class Item>
py::array_t<double> table(std::size_t count, const std::array<double S::*, K>& fields, Item&& item) {
    py::array_t<double> out({static_cast<py::ssize_t>(count), static_cast<py::ssize_t>(K)});
    double* data = out.mutable_data();
    for (std::size_t i = 0; i < count; ++i) {
        const S& s = item(i);
        for (double S::* field : fields) *data++ = s.*field;
    }
    return out;
}

template <class S, std::size_t K>
py::array_t<double> table(const std::vector<S>& rows, const std::array<double S::*, K>& fields) {
    return table(rows.size(), fields, [&](std::size_t i) -> const S& { return rows[i]; });
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

template <class T>
std::vector<T> as_vector(const py::array_t<T, py::array::c_style | py::array::forcecast>& values,
                         const char* name) {
    if (values.ndim() != 1) throw std::invalid_argument(std::string(name) + " must be a 1-D array");
    return {values.data(), values.data() + values.size()};
}

// FitResult::starts, one array per field of StartOutcome over the starts.
struct StartOutcomes {
    py::array_t<double> start, params, objective;
    py::array_t<int> status, iterations;
};

StartOutcomes start_outcomes(const std::vector<StartOutcome>& s) {
    return {table(s.size(), kLogParams, [&](std::size_t i) -> const LogParams& { return s[i].start; }),
            table(s.size(), kLogParams, [&](std::size_t i) -> const LogParams& { return s[i].params; }),
            column<double>(s.size(), [&](std::size_t i) { return s[i].objective; }),
            column<int>(s.size(), [&](std::size_t i) { return static_cast<int>(s[i].status); }),
            column<int>(s.size(), [&](std::size_t i) { return s[i].iterations; })};
}

// Allocations at many requests: one array per field of Allocation, each of the request's shape.
struct Allocations {
    py::array_t<double> flops, n, d, loss, tokens_per_parameter;
};

// Applies an allocation rule (budget, loss or size -> Allocation) to every entry of `values`.
Allocations map_allocation(Allocation (*rule)(const Params&, double), const Params& p,
                           const DoubleArray& values) {
    const std::vector<py::ssize_t> shape(values.shape(), values.shape() + values.ndim());
    Allocations out{py::array_t<double>(shape), py::array_t<double>(shape), py::array_t<double>(shape),
                    py::array_t<double>(shape), py::array_t<double>(shape)};
    const double* in = values.data();
    std::array<double*, 5> columns{out.flops.mutable_data(), out.n.mutable_data(), out.d.mutable_data(),
                                   out.loss.mutable_data(), out.tokens_per_parameter.mutable_data()};
    {
        py::gil_scoped_release release;
        for (py::ssize_t i = 0; i < values.size(); ++i) {
            const Allocation a = rule(p, in[i]);
            for (std::size_t k = 0; k < columns.size(); ++k) columns[k][i] = a.*kAllocation[k];
        }
    }
    return out;
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

void bind_types(py::module_& m) {
    py::enum_<FitStatus>(m, "FitStatus")
        .value("converged", FitStatus::converged)
        .value("max_iterations", FitStatus::max_iterations)
        .value("numerical_failure", FitStatus::numerical_failure);
    py::enum_<ParabolaStatus>(m, "ParabolaStatus")
        .value("used", ParabolaStatus::used)
        .value("too_few_sizes", ParabolaStatus::too_few_sizes)
        .value("opens_downward", ParabolaStatus::opens_downward);

    py::class_<Params>(m, "Params", "L(N, D) = E + A / N^alpha + B / D^beta.")
        .def(py::init<double, double, double, double, double>(), py::arg("E"), py::arg("A"), py::arg("B"),
             py::arg("alpha"), py::arg("beta"))
        .def_readonly("E", &Params::E)
        .def_readonly("A", &Params::A)
        .def_readonly("B", &Params::B)
        .def_readonly("alpha", &Params::alpha)
        .def_readonly("beta", &Params::beta);
    py::class_<LogParams>(m, "LogParams", "The law in log form: A = exp(a), B = exp(b), E = exp(e).")
        .def(py::init<double, double, double, double, double>(), py::arg("a"), py::arg("b"), py::arg("e"),
             py::arg("alpha"), py::arg("beta"))
        .def_readonly("a", &LogParams::a)
        .def_readonly("b", &LogParams::b)
        .def_readonly("e", &LogParams::e)
        .def_readonly("alpha", &LogParams::alpha)
        .def_readonly("beta", &LogParams::beta);

    const FitOptions defaults;  // the C++ defaults are the only ones
    py::class_<FitOptions>(m, "FitOptions", "Solver options; every field is documented in fit.hpp.")
        .def(
            py::init([](double delta, int max_iterations, double gradient_tolerance,
                        double function_tolerance, double parameter_tolerance, double max_step, int threads) {
                FitOptions o;
                o.huber_delta = delta;
                o.max_iterations = max_iterations;
                o.gradient_tolerance = gradient_tolerance;
                o.function_tolerance = function_tolerance;
                o.parameter_tolerance = parameter_tolerance;
                o.max_step = max_step;
                o.threads = threads;
                return o;
            }),
            py::kw_only(), py::arg("delta") = defaults.huber_delta,
            py::arg("max_iterations") = defaults.max_iterations,
            py::arg("gradient_tolerance") = defaults.gradient_tolerance,
            py::arg("function_tolerance") = defaults.function_tolerance,
            py::arg("parameter_tolerance") = defaults.parameter_tolerance,
            py::arg("max_step") = defaults.max_step, py::arg("threads") = defaults.threads)
        .def_readonly("delta", &FitOptions::huber_delta)
        .def_readonly("max_iterations", &FitOptions::max_iterations)
        .def_readonly("gradient_tolerance", &FitOptions::gradient_tolerance)
        .def_readonly("function_tolerance", &FitOptions::function_tolerance)
        .def_readonly("parameter_tolerance", &FitOptions::parameter_tolerance)
        .def_readonly("max_step", &FitOptions::max_step)
        .def_readonly("threads", &FitOptions::threads)
        .def("__repr__", [](const FitOptions& o) {
            return py::str(
                       "FitOptions(delta={!r}, max_iterations={!r}, gradient_tolerance={!r}, "
                       "function_tolerance={!r}, parameter_tolerance={!r}, max_step={!r}, threads={!r})")
                .format(o.huber_delta, o.max_iterations, o.gradient_tolerance, o.function_tolerance,
                        o.parameter_tolerance, o.max_step, o.threads);
        });

    py::class_<StartOutcomes>(m, "StartOutcomes", "Each field of StartOutcome as an array over the starts.")
        .def_readonly("start", &StartOutcomes::start)
        .def_readonly("params", &StartOutcomes::params)
        .def_readonly("objective", &StartOutcomes::objective)
        .def_readonly("status", &StartOutcomes::status)
        .def_readonly("iterations", &StartOutcomes::iterations);
    py::class_<FitResult>(m, "FitResult", "The best start's optimum and what became of every start.")
        .def_readonly("params", &FitResult::params)
        .def_readonly("log_params", &FitResult::log_params)
        .def_readonly("objective", &FitResult::objective)
        .def_readonly("status", &FitResult::status)
        .def_readonly("message", &FitResult::message)
        .def_readonly("iterations", &FitResult::iterations)
        .def_readonly("best_start", &FitResult::best_start)
        .def_readonly("starts_at_best", &FitResult::starts_at_best)
        .def_readonly("hessian_condition", &FitResult::hessian_condition)
        .def_property_readonly("term_shares",
                               [](const FitResult& r) {
                                   const double* s = r.largest_share;
                                   return py::make_tuple(s[0], s[1], s[2]);
                               })
        .def_property_readonly("starts", [](const FitResult& r) { return start_outcomes(r.starts); });

    py::class_<FrontierCoefficients>(m, "FrontierCoefficients", "N_opt = G (C/6)^a, D_opt = (C/6)^b / G.")
        .def_readonly("a", &FrontierCoefficients::a)
        .def_readonly("b", &FrontierCoefficients::b)
        .def_readonly("G", &FrontierCoefficients::G);
    py::class_<Allocations>(m, "Allocations", "Each field of Allocation, one value per request.")
        .def_readonly("C", &Allocations::flops)
        .def_readonly("N", &Allocations::n)
        .def_readonly("D", &Allocations::d)
        .def_readonly("loss", &Allocations::loss)
        .def_readonly("tokens_per_parameter", &Allocations::tokens_per_parameter);

    using BR = BootstrapResult;
    py::class_<BR>(m, "BootstrapResult", "Per-resample results; tables have one row per resample.")
        .def_readonly("resamples", &BR::resamples)
        .def_readonly("budgets", &BR::budgets)
        .def_property_readonly("log_params", [](const BR& r) { return table(r.log_params, kLogParams); })
        .def_property_readonly("params", [](const BR& r) { return table(r.params, kParams); })
        .def_property_readonly("objective", [](const BR& r) { return array_of<double>(r.objective); })
        .def_property_readonly("status", [](const BR& r) { return array_of<int>(r.status); })
        .def_property_readonly("iterations", [](const BR& r) { return array_of<int>(r.iterations); })
        .def_property_readonly("best_start", [](const BR& r) { return array_of<std::int64_t>(r.best_start); })
        .def_property_readonly("starts_at_best",
                               [](const BR& r) { return array_of<std::int64_t>(r.starts_at_best); })
        .def_property_readonly("frontier", [](const BR& r) { return table(r.frontier, kFrontier); })
        .def_property_readonly("optimal",
                               [](const BR& r) {
                                   const auto shape = std::vector<py::ssize_t>{
                                       static_cast<py::ssize_t>(r.resamples),
                                       static_cast<py::ssize_t>(r.budgets), py::ssize_t{5}};
                                   return table(r.optimal, kAllocation).reshape(shape);
                               })
        .def_property_readonly("approach2_a", [](const BR& r) { return array_of<double>(r.approach2_a); })
        .def_property_readonly("approach2_b", [](const BR& r) { return array_of<double>(r.approach2_b); })
        .def_property_readonly("approach2_used",
                               [](const BR& r) { return array_of<std::int64_t>(r.approach2_used); });

    using BP = BudgetParabola;
    py::class_<BP>(m, "BudgetParabola", "One budget's IsoFLOP profile; see isoflop.hpp.")
        .def_readonly("C", &BP::flops)
        .def_readonly("runs", &BP::runs)
        .def_readonly("sizes", &BP::sizes)
        .def_readonly("smallest_N", &BP::smallest_n)
        .def_readonly("largest_N", &BP::largest_n)
        .def_readonly("center", &BP::center)
        .def_readonly("c0", &BP::c0)
        .def_readonly("c1", &BP::c1)
        .def_readonly("c2", &BP::c2)
        .def_readonly("N_opt", &BP::n_opt)
        .def_readonly("D_opt", &BP::d_opt)
        .def_readonly("loss_opt", &BP::loss_opt)
        .def_readonly("inside", &BP::inside)
        .def_readonly("status", &BP::status)
        .def_readonly("reason", &BP::reason);
    py::class_<Approach2Result>(m, "Approach2Result", "Approach 2: the parabolas and the exponents.")
        .def_property_readonly("parabolas",
                               [](const Approach2Result& r) {
                                   py::list out;
                                   for (const BP& p : r.parabolas) out.append(py::cast(p));
                                   return out;
                               })
        .def_readonly("used", &Approach2Result::used)
        .def_readonly("a", &Approach2Result::a)
        .def_readonly("n_coefficient", &Approach2Result::n_coefficient)
        .def_readonly("b", &Approach2Result::b)
        .def_readonly("d_coefficient", &Approach2Result::d_coefficient)
        .def_readonly("message", &Approach2Result::message);
}

void bind_functions(py::module_& m) {
    m.def(
        "default_starts", [] { return table(scalinglaw::default_starts(), kLogParams); },
        "Hoffmann et al.'s 4500 starts, columns (a, b, e, alpha, beta).");
    m.def(
        "objective",
        [](const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss, const LogParams& q,
           double delta) {
            const RunsView runs = runs_view(n, d, loss);
            py::gil_scoped_release release;
            return scalinglaw::objective(runs, q, delta);
        },
        py::arg("N"), py::arg("D"), py::arg("loss"), py::arg("q"),
        py::arg("delta") = FitOptions().huber_delta, "Sum of Huber losses of the log-space residuals at q.");
    m.def(
        "fit_chinchilla",
        [](const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss, const DoubleArray& starts,
           const FitOptions& options) {
            const RunsView runs = runs_view(n, d, loss);
            const std::vector<LogParams> start_list = starts_from(starts);
            return run_interruptible([&](const std::atomic<bool>& cancel) {
                FitOptions with_cancel = options;
                with_cancel.cancel = &cancel;
                return fit_chinchilla(runs, start_list, with_cancel);
            });
        },
        py::arg("N"), py::arg("D"), py::arg("loss"), py::arg("starts"), py::arg("options") = FitOptions(),
        "Multi-start Levenberg-Marquardt fit from the starts (rows a, b, e, alpha, beta).");

    m.def("frontier_coefficients", &frontier_coefficients, py::arg("params"), "The frontier's a, b, G.");
    m.def(
        "compute_optimal",
        [](const Params& p, const DoubleArray& flops) { return map_allocation(compute_optimal, p, flops); },
        py::arg("params"), py::arg("C"), "Compute-optimal N, D, loss for each budget.");
    m.def(
        "budget_for_loss",
        [](const Params& p, const DoubleArray& loss) { return map_allocation(budget_for_loss, p, loss); },
        py::arg("params"), py::arg("loss"), "Smallest budget reaching each target loss.");
    m.def(
        "optimal_for_size",
        [](const Params& p, const DoubleArray& n) { return map_allocation(optimal_for_size, p, n); },
        py::arg("params"), py::arg("N"), "Tokens (and budget) for which each size is compute-optimal.");

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
        py::arg("params"), py::arg("N"), py::arg("D"), py::arg("threads") = 0,
        "L(N, D) elementwise over two arrays of one shape.");
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
        py::arg("params"), py::arg("N_axis"), py::arg("C_axis"), py::arg("out"), py::arg("threads") = 0,
        "Fills out[i, j] = L(N_axis[i], C_axis[j] / (6 N_axis[i])); returns out.");
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
        py::arg("params"), py::arg("N_axis"), py::arg("D_axis"), py::arg("out"), py::arg("threads") = 0,
        "Fills out[i, j] = L(N_axis[i], D_axis[j]); returns out.");

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
        [](const LogParams& optimum) { return table(scalinglaw::bootstrap_starts(optimum), kLogParams); },
        py::arg("optimum"), "The optimum and the documented extra starts, columns (a, b, e, alpha, beta).");
    m.def(
        "bootstrap",
        [](const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss, const IndexArray& indices,
           const DoubleArray& starts, const DoubleArray& budgets, const IntArray& group,
           const DoubleArray& group_budgets, const FitOptions& fit) {
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
            BootstrapOptions options{fit, as_vector(budgets, "budgets"), as_vector(group, "group"),
                                     as_vector(group_budgets, "group_budgets")};
            return run_interruptible([&](const std::atomic<bool>& cancel) {
                options.fit.cancel = &cancel;
                return scalinglaw::bootstrap(runs, rows, start_list, options);
            });
        },
        py::arg("N"), py::arg("D"), py::arg("loss"), py::arg("indices"), py::arg("starts"),
        py::arg("budgets"), py::arg("group"), py::arg("group_budgets"), py::arg("fit") = FitOptions(),
        "Refits every resample (rows of indices) from the starts (BootstrapOptions as arguments).");
    m.def(
        "approach2",
        [](const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss, const IntArray& group,
           const DoubleArray& budgets) {
            const RunsView runs = runs_view(n, d, loss);
            const std::vector<int> groups = as_vector(group, "group");
            const std::vector<double> budget_list = as_vector(budgets, "budgets");
            py::gil_scoped_release release;
            return scalinglaw::approach2(runs, groups, budget_list);
        },
        py::arg("N"), py::arg("D"), py::arg("loss"), py::arg("group"), py::arg("budgets"),
        "Approach 2: each budget's parabola of loss in ln N, and the exponents of N_opt, D_opt in C.");
}

}  // namespace

PYBIND11_MODULE(_core, m, py::mod_gil_not_used()) {
    m.doc() = "Compiled core of scalinglaw (C++17). Use the functions of the scalinglaw package.";
    m.attr("__version__") = scalinglaw::version;
    bind_types(m);
    bind_functions(m);
}
