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
#include <utility>
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "arrays.hpp"
#include "interruptible.hpp"
#include "scalinglaw/scalinglaw.hpp"

namespace py = pybind11;
using namespace scalinglaw;
using namespace scalinglaw::bindings;

namespace {

// FitOptions from its fields (all but `cancel`, which the binding sets), and back, in that order.
FitOptions make_options(double delta, int max_iterations, double gradient_tolerance,
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
}

py::tuple options_tuple(const FitOptions& o) {
    return py::make_tuple(o.huber_delta, o.max_iterations, o.gradient_tolerance, o.function_tolerance,
                          o.parameter_tolerance, o.max_step, o.threads);
}

// Run indices (>= 0) from an int64 array, named in the message.
std::vector<std::size_t> index_vector(const IndexArray& values, const char* name) {
    std::vector<std::size_t> out(static_cast<std::size_t>(values.size()));
    const std::int64_t* in = values.data();
    for (std::size_t k = 0; k < out.size(); ++k) {
        if (in[k] < 0)
            throw std::invalid_argument(std::string(name) + " must be >= 0, got " + std::to_string(in[k]));
        out[k] = static_cast<std::size_t>(in[k]);
    }
    return out;
}

Resampling make_resampling(std::size_t resamples, std::uint64_t seed, const IndexArray& groups) {
    if (groups.ndim() != 1) throw std::invalid_argument("groups must be a 1-D array");
    return {resamples, seed, index_vector(groups, "groups")};
}

// A bootstrap's resamples: drawn (a Resampling), or the caller's (R, n_runs) table of run indices.
struct Resamples {
    const Resampling* drawn = nullptr;
    std::vector<std::size_t> table;
};

Resamples resamples_from(const py::object& given, py::ssize_t runs) {
    if (py::isinstance<Resampling>(given)) return {&given.cast<const Resampling&>(), {}};
    const auto indices = given.cast<IndexArray>();
    if (indices.ndim() != 2 || indices.shape(1) != runs)
        throw std::invalid_argument("indices must be a 2-D array with one column per run");
    return {nullptr, index_vector(indices, "indices")};
}

// FitResult::starts, one array per field of StartOutcome over the starts.
struct StartOutcomes {
    py::array_t<double> start, params, objective;
    py::array_t<int> status, iterations;
};

StartOutcomes start_outcomes(const std::vector<StartOutcome>& s) {
    return {table<LogParams>(s.size(), [&](std::size_t i) -> const LogParams& { return s[i].start; }),
            table<LogParams>(s.size(), [&](std::size_t i) -> const LogParams& { return s[i].params; }),
            column<double>(s.size(), [&](std::size_t i) { return s[i].objective; }),
            column<int>(s.size(), [&](std::size_t i) { return static_cast<int>(s[i].status); }),
            column<int>(s.size(), [&](std::size_t i) { return s[i].iterations; })};
}

// Allocations at many requests: one array per field of Allocation, each of the request's shape.
struct Allocations {
    py::array_t<double> flops, n, d, loss, tokens_per_parameter;
};

// Applies an allocation rule (budget, loss or size -> Allocation) to every entry of `values`. `cost`: what
// one entry costs in grid cells, so that long requests are released and interruptible by Ctrl-C.
template <class Rule>
Allocations allocate_each(const DoubleArray& values, std::size_t cost, Rule&& rule) {
    const std::vector<py::ssize_t> shape(values.shape(), values.shape() + values.ndim());
    Allocations out{py::array_t<double>(shape), py::array_t<double>(shape), py::array_t<double>(shape),
                    py::array_t<double>(shape), py::array_t<double>(shape)};
    const double* in = values.data();
    constexpr auto fields = bindings::columns(static_cast<const Allocation*>(nullptr));
    std::array<double*, 5> columns{out.flops.mutable_data(), out.n.mutable_data(), out.d.mutable_data(),
                                   out.loss.mutable_data(), out.tokens_per_parameter.mutable_data()};
    const auto count = static_cast<std::size_t>(values.size());
    const std::size_t poll = std::max<std::size_t>(1, 65536 / cost);  // entries between polls
    bindings::run_released(cost * count, [&](const std::atomic<bool>* cancel) {
        for (std::size_t i = 0; i < count; ++i) {
            if (cancel && i % poll == 0 && cancel->load(std::memory_order_relaxed)) throw cancelled();
            const Allocation a = rule(in[i]);
            for (std::size_t k = 0; k < columns.size(); ++k) columns[k][i] = a.*fields[k];
        }
    });
    return out;
}

// The Chinchilla law's closed-form rules: an allocation costs about as much as 16 grid cells.
Allocations map_allocation(Allocation (*rule)(const Params&, double), const Params& p,
                           const DoubleArray& values) {
    return allocate_each(values, 16, [&](double value) { return rule(p, value); });
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

    py::class_<Params> params(m, "Params", "L(N, D) = E + A / N^alpha + B / D^beta.");
    params.def(py::init<double, double, double, double, double>(), py::arg("E"), py::arg("A"), py::arg("B"),
               py::arg("alpha"), py::arg("beta"));
    readonly(params, "E", &Params::E, "A", &Params::A, "B", &Params::B, "alpha", &Params::alpha, "beta",
             &Params::beta);
    py::class_<LogParams> log_params(m, "LogParams", "The law in log form: A = e^a, B = e^b, E = e^e.");
    log_params.def(py::init<double, double, double, double, double>(), py::arg("a"), py::arg("b"),
                   py::arg("e"), py::arg("alpha"), py::arg("beta"));
    readonly(log_params, "a", &LogParams::a, "b", &LogParams::b, "e", &LogParams::e, "alpha",
             &LogParams::alpha, "beta", &LogParams::beta);

    using FO = FitOptions;
    const FO defaults;  // the C++ defaults are the only ones
    py::class_<FO> options(m, "FitOptions", "Solver options; every field is documented in fit.hpp.");
    options.def(py::init(&make_options), py::kw_only(), py::arg("delta") = defaults.huber_delta,
                py::arg("max_iterations") = defaults.max_iterations,
                py::arg("gradient_tolerance") = defaults.gradient_tolerance,
                py::arg("function_tolerance") = defaults.function_tolerance,
                py::arg("parameter_tolerance") = defaults.parameter_tolerance,
                py::arg("max_step") = defaults.max_step, py::arg("threads") = defaults.threads);
    readonly(options, "delta", &FO::huber_delta, "max_iterations", &FO::max_iterations, "gradient_tolerance",
             &FO::gradient_tolerance, "function_tolerance", &FO::function_tolerance, "parameter_tolerance",
             &FO::parameter_tolerance, "max_step", &FO::max_step, "threads", &FO::threads);
    // A value: equal when every field is, copied and pickled whole (a FitResult in Python holds one).
    options.def("__eq__", [](const FO& a, const FO& b) { return options_tuple(a).equal(options_tuple(b)); });
    options.def("__repr__", [](const FO& o) {
        return py::str(
                   "FitOptions(delta={!r}, max_iterations={!r}, gradient_tolerance={!r}, "
                   "function_tolerance={!r}, parameter_tolerance={!r}, max_step={!r}, threads={!r})")
            .format(*options_tuple(o));
    });
    options.def(py::pickle(&options_tuple, [](const py::tuple& t) {
        return make_options(t[0].cast<double>(), t[1].cast<int>(), t[2].cast<double>(), t[3].cast<double>(),
                            t[4].cast<double>(), t[5].cast<double>(), t[6].cast<int>());
    }));

    using SO = StartOutcomes;
    py::class_<SO> outcomes(m, "StartOutcomes", "Each field of StartOutcome as an array over the starts.");
    readonly(outcomes, "start", &SO::start, "params", &SO::params, "objective", &SO::objective, "status",
             &SO::status, "iterations", &SO::iterations);
    using FR = FitResult;
    py::class_<FR> fit(m, "FitResult", "The best start's optimum and what became of every start.");
    readonly(fit, "params", &FR::params, "log_params", &FR::log_params, "objective", &FR::objective, "status",
             &FR::status, "message", &FR::message, "iterations", &FR::iterations, "best_start",
             &FR::best_start, "starts_at_best", &FR::starts_at_best, "hessian_condition",
             &FR::hessian_condition);
    fit.def_property_readonly("term_shares", [](const FR& r) {
        return py::make_tuple(r.largest_share[0], r.largest_share[1], r.largest_share[2]);
    });
    fit.def_property_readonly("starts", [](const FR& r) { return start_outcomes(r.starts); });

    using FC = FrontierCoefficients;
    py::class_<FC> frontier(m, "FrontierCoefficients", "N_opt = G (C/6)^a, D_opt = (C/6)^b / G.");
    readonly(frontier, "a", &FC::a, "b", &FC::b, "G", &FC::G);
    py::class_<Allocations> allocations(m, "Allocations", "Each field of Allocation, one per request.");
    readonly(allocations, "C", &Allocations::flops, "N", &Allocations::n, "D", &Allocations::d, "loss",
             &Allocations::loss, "tokens_per_parameter", &Allocations::tokens_per_parameter);

    using BR = BootstrapResult;
    py::class_<BR> bootstrap(m, "BootstrapResult", "Per-resample results; tables have a row per resample.");
    readonly(bootstrap, "resamples", &BR::resamples, "budgets", &BR::budgets, "log_params", &BR::log_params,
             "params", &BR::params, "objective", &BR::objective, "status", &BR::status, "iterations",
             &BR::iterations, "best_start", &BR::best_start, "starts_at_best", &BR::starts_at_best,
             "frontier", &BR::frontier, "approach2_a", &BR::approach2_a, "approach2_b", &BR::approach2_b,
             "approach2_used", &BR::approach2_used);
    bootstrap.def_property_readonly("optimal", [](const BR& r) {  // resample, budget, Allocation's field
        const auto rows = static_cast<py::ssize_t>(r.resamples), width = static_cast<py::ssize_t>(r.budgets);
        return as_array(r.optimal).reshape(std::vector<py::ssize_t>{rows, width, 5});
    });

    py::class_<Resampling> resampling(m, "Resampling",
                                      "How a bootstrap draws its resamples; see bootstrap.hpp.");
    resampling.def(py::init(&make_resampling), py::arg("resamples"), py::arg("seed"),
                   py::arg("groups") = IndexArray(0));
    readonly(resampling, "resamples", &Resampling::resamples, "seed", &Resampling::seed, "groups",
             &Resampling::groups);

    using BP = BudgetParabola;
    py::class_<BP> parabola(m, "BudgetParabola", "One budget's IsoFLOP profile; see isoflop.hpp.");
    readonly(parabola, "C", &BP::flops, "runs", &BP::runs, "sizes", &BP::sizes, "smallest_N", &BP::smallest_n,
             "largest_N", &BP::largest_n, "center", &BP::center, "c0", &BP::c0, "c1", &BP::c1, "c2", &BP::c2,
             "N_opt", &BP::n_opt, "D_opt", &BP::d_opt, "loss_opt", &BP::loss_opt, "inside", &BP::inside,
             "status", &BP::status, "reason", &BP::reason);
    using AR = Approach2Result;
    py::class_<AR> approach2(m, "Approach2Result", "Approach 2: the parabolas and the exponents.");
    readonly(approach2, "used", &AR::used, "a", &AR::a, "n_coefficient", &AR::n_coefficient, "b", &AR::b,
             "d_coefficient", &AR::d_coefficient, "message", &AR::message);
    approach2.def_property_readonly("parabolas", [](const AR& r) {
        py::list out;
        for (const BP& p : r.parabolas) out.append(py::cast(p));
        return out;
    });
}

void bind_functions(py::module_& m) {
    m.def(
        "default_starts", [] { return as_array(scalinglaw::default_starts()); },
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
           const FitOptions& options, const py::object& progress) {
            const RunsView runs = runs_view(n, d, loss);
            const std::vector<LogParams> start_list = starts_from(starts);
            Progress report(progress);
            return run_interruptible(
                [&](const std::atomic<bool>& cancel) {
                    return fit_chinchilla(runs, start_list, report.controlling(options, cancel));
                },
                &report);
        },
        py::arg("N"), py::arg("D"), py::arg("loss"), py::arg("starts"), py::arg("options") = FitOptions(),
        py::arg("progress") = py::none(),
        "Multi-start Levenberg-Marquardt fit from the starts (rows a, b, e, alpha, beta); progress(done) is "
        "called with the starts finished.");

    m.def(
        "frontier_coefficients", [](const Params& p) { return frontier_coefficients(p); }, py::arg("params"),
        "The frontier's a, b, G.");
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
                throw std::invalid_argument("N and D must have the same shape");
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
        "resample_indices",
        [](std::size_t n_runs, const Resampling& resampling, std::size_t resample) {
            return as_array(scalinglaw::resample_indices(n_runs, resampling, resample));
        },
        py::arg("n_runs"), py::arg("resampling"), py::arg("resample"),
        "The run indices of one resample of a Resampling, regenerated.");
    m.def(
        "bootstrap_starts",
        [](const LogParams& optimum) { return as_array(scalinglaw::bootstrap_starts(optimum)); },
        py::arg("optimum"), "The optimum and the documented extra starts, columns (a, b, e, alpha, beta).");
    m.def(
        "bootstrap",
        [](const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss, const py::object& resamples,
           const DoubleArray& starts, const DoubleArray& budgets, const IntArray& group,
           const DoubleArray& group_budgets, const FitOptions& fit, const py::object& progress) {
            const RunsView runs = runs_view(n, d, loss);
            const Resamples given = resamples_from(resamples, n.size());
            const std::vector<LogParams> start_list = starts_from(starts);
            BootstrapOptions options{fit, as_vector(budgets, "budgets"), as_vector(group, "group"),
                                     as_vector(group_budgets, "group_budgets")};
            Progress report(progress);
            return run_interruptible(
                [&](const std::atomic<bool>& cancel) {
                    options.fit = report.controlling(options.fit, cancel);
                    return given.drawn ? scalinglaw::bootstrap(runs, *given.drawn, start_list, options)
                                       : scalinglaw::bootstrap(runs, given.table, start_list, options);
                },
                &report);
        },
        py::arg("N"), py::arg("D"), py::arg("loss"), py::arg("resamples"), py::arg("starts"),
        py::arg("budgets"), py::arg("group"), py::arg("group_budgets"), py::arg("fit") = FitOptions(),
        py::arg("progress") = py::none(),
        "Refits every resample (a Resampling, or the rows of an index table) from the starts "
        "(BootstrapOptions as arguments); progress(done) is called with the resamples finished.");
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

// ---- The law family (laws.hpp): any law, with fixed and tied parameters, weights and unique tokens -----

// Runs with the optional columns (None when absent), the arrays kept alive with the view.
struct LawRuns {
    DoubleArray n, d, loss, unique_tokens, weight;
    RunsView view;
};

LawRuns law_runs(const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss,
                 const py::object& unique_tokens, const py::object& weights) {
    LawRuns r{n, d, loss, DoubleArray(), DoubleArray(), runs_view(n, d, loss)};
    const auto optional = [&](const py::object& values, DoubleArray& keep,
                              const char* name) -> const double* {
        if (values.is_none()) return nullptr;
        keep = values.cast<DoubleArray>();
        if (keep.ndim() != 1 || keep.size() != n.size())
            throw std::invalid_argument(std::string(name) + " must be a 1-D array with one value per run");
        return keep.data();
    };
    r.view.unique_tokens = optional(unique_tokens, r.unique_tokens, "unique_tokens");
    r.view.weight = optional(weights, r.weight, "weights");
    return r;
}

// The law's parameters (natural form) from a 1-D array of the law's size.
std::vector<double> law_params(LawKind kind, const DoubleArray& params) {
    const std::size_t size = law_info(kind).parameters.size();
    if (params.ndim() != 1 || static_cast<std::size_t>(params.size()) != size)
        throw std::invalid_argument("params must be a 1-D array of the law's " + std::to_string(size) +
                                    " parameters");
    return {params.data(), params.data() + size};
}

// Rows of a (k, P) array as vectors; P = the law's parameters.
std::vector<std::vector<double>> law_rows(LawKind kind, const DoubleArray& rows, const char* name) {
    const auto size = static_cast<py::ssize_t>(law_info(kind).parameters.size());
    if (rows.ndim() != 2 || rows.shape(1) != size)
        throw std::invalid_argument(std::string(name) +
                                    " must be a 2-D array with one column per coordinate (" +
                                    std::to_string(size) + ")");
    std::vector<std::vector<double>> out(static_cast<std::size_t>(rows.shape(0)));
    const double* s = rows.data();
    for (auto& row : out) {
        row.assign(s, s + size);
        s += size;
    }
    return out;
}

// Vectors of one length as a (k, P) array.
py::array_t<double> rows_array(std::size_t count, std::size_t width,
                               const std::function<const std::vector<double>&(std::size_t)>& row) {
    py::array_t<double> out({static_cast<py::ssize_t>(count), static_cast<py::ssize_t>(width)});
    double* data = out.mutable_data();
    for (std::size_t i = 0; i < count; ++i) data = std::copy(row(i).begin(), row(i).end(), data);
    return out;
}

py::tuple string_tuple(const std::vector<std::string>& values) {
    py::tuple out(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) out[i] = py::str(values[i]);
    return out;
}

ParameterMap make_map(const py::dict& fixed, const py::list& tied) {
    ParameterMap map;
    for (const auto& item : fixed) map.fixed[item.first.cast<std::string>()] = item.second.cast<double>();
    for (const auto& pair : tied) {
        const auto t = pair.cast<py::tuple>();
        if (t.size() != 2) throw std::invalid_argument("tied must hold pairs of parameter names");
        map.tied.emplace_back(t[0].cast<std::string>(), t[1].cast<std::string>());
    }
    return map;
}

// LawFitResult::starts, one array per field of LawStartOutcome over the starts.
struct LawStartOutcomes {
    py::array_t<double> start, coordinates, objective;
    py::array_t<int> status, iterations;
};

// An allocation rule of any law (a numeric one costs a few hundred evaluations of the law, about 256 grid
// cells) applied to every entry of `values`.
template <class Rule>
Allocations law_allocations(const DoubleArray& values, Rule&& rule) {
    return allocate_each(values, 256, std::forward<Rule>(rule));
}

void bind_laws(py::module_& m) {
    py::enum_<LawKind>(m, "LawKind")
        .value("chinchilla", LawKind::chinchilla)
        .value("kaplan", LawKind::kaplan)
        .value("data_constrained", LawKind::data_constrained);
    py::enum_<ParameterRole>(m, "ParameterRole")
        .value("free", ParameterRole::free)
        .value("fixed", ParameterRole::fixed)
        .value("tied", ParameterRole::tied);

    py::class_<LawInfo> info(m, "LawInfo", "What a law is: its name, formula, parameters, coordinates.");
    readonly(info, "kind", &LawInfo::kind, "name", &LawInfo::name, "formula", &LawInfo::formula, "log_scale",
             &LawInfo::log_scale, "may_be_infinite", &LawInfo::may_be_infinite, "needs_unique_tokens",
             &LawInfo::needs_unique_tokens);
    info.def_property_readonly("parameters", [](const LawInfo& i) { return string_tuple(i.parameters); });
    info.def_property_readonly("coordinates", [](const LawInfo& i) { return string_tuple(i.coordinates); });

    py::class_<ParameterMap> map(m, "ParameterMap", "Fixed parameters (name -> value) and tied pairs.");
    map.def(py::init(&make_map), py::arg("fixed") = py::dict(), py::arg("tied") = py::list());
    map.def_property_readonly("fixed", [](const ParameterMap& p) {
        py::list out;
        for (const auto& [name, value] : p.fixed) out.append(py::make_tuple(name, value));
        return out;
    });
    map.def_property_readonly("tied", [](const ParameterMap& p) {
        py::list out;
        for (const auto& [a, b] : p.tied) out.append(py::make_tuple(a, b));
        return out;
    });

    using LSO = LawStartOutcomes;
    py::class_<LSO> outcomes(m, "LawStartOutcomes",
                             "Each field of LawStartOutcome as an array over the starts.");
    readonly(outcomes, "start", &LSO::start, "coordinates", &LSO::coordinates, "objective", &LSO::objective,
             "status", &LSO::status, "iterations", &LSO::iterations);
    using LFR = LawFitResult;
    py::class_<LFR> fit(m, "LawFitResult",
                        "The best start's optimum of any law and what became of every start.");
    readonly(fit, "law", &LFR::law, "params", &LFR::params, "coordinates", &LFR::coordinates, "roles",
             &LFR::roles, "tied_to", &LFR::tied_to, "objective", &LFR::objective, "status", &LFR::status,
             "message", &LFR::message, "iterations", &LFR::iterations, "best_start", &LFR::best_start,
             "starts_at_best", &LFR::starts_at_best, "hessian_condition", &LFR::hessian_condition);
    fit.def_property_readonly("starts", [](const LFR& r) {
        const auto& s = r.starts;
        const std::size_t width = r.params.size();
        return LSO{rows_array(s.size(), width,
                              [&](std::size_t i) -> const std::vector<double>& { return s[i].start; }),
                   rows_array(s.size(), width,
                              [&](std::size_t i) -> const std::vector<double>& { return s[i].coordinates; }),
                   column<double>(s.size(), [&](std::size_t i) { return s[i].objective; }),
                   column<int>(s.size(), [&](std::size_t i) { return static_cast<int>(s[i].status); }),
                   column<int>(s.size(), [&](std::size_t i) { return s[i].iterations; })};
    });

    using LBR = LawBootstrapResult;
    py::class_<LBR> boot(m, "LawBootstrapResult",
                         "Per-resample refits of any law; tables have a row per resample.");
    readonly(boot, "law", &LBR::law, "resamples", &LBR::resamples, "budgets", &LBR::budgets, "objective",
             &LBR::objective, "status", &LBR::status, "iterations", &LBR::iterations, "best_start",
             &LBR::best_start, "starts_at_best", &LBR::starts_at_best);
    boot.def_property_readonly("params", [](const LBR& r) {
        const auto rows = static_cast<py::ssize_t>(r.resamples),
                   width = static_cast<py::ssize_t>(r.parameters);
        return as_array(r.params).reshape(std::vector<py::ssize_t>{rows, width});
    });
    boot.def_property_readonly("optimal", [](const LBR& r) {  // resample, budget, Allocation's field
        const auto rows = static_cast<py::ssize_t>(r.resamples), width = static_cast<py::ssize_t>(r.budgets);
        return as_array(r.optimal).reshape(std::vector<py::ssize_t>{rows, width, 5});
    });

    m.def(
        "law_kind", [](const std::string& name) { return law_kind(name); }, py::arg("name"),
        "The law named `name` (ValueError listing the names otherwise).");
    m.def(
        "law_info", [](LawKind kind) { return law_info(kind); }, py::arg("law"),
        "The law's name, formula, parameters and coordinates.");
    m.def(
        "law_default_starts",
        [](LawKind kind) {
            const auto starts = default_starts(kind);
            return rows_array(starts.size(), law_info(kind).parameters.size(),
                              [&](std::size_t i) -> const std::vector<double>& { return starts[i]; });
        },
        py::arg("law"), "The law's default grid of starts, one column per coordinate.");
    m.def(
        "to_coordinates",
        [](LawKind kind, const DoubleArray& params) {
            return as_array(to_coordinates(kind, law_params(kind, params)));
        },
        py::arg("law"), py::arg("params"), "The fit's coordinates of natural parameters.");
    m.def(
        "from_coordinates",
        [](LawKind kind, const DoubleArray& q) {
            return as_array(from_coordinates(kind, law_params(kind, q)));
        },
        py::arg("law"), py::arg("coordinates"), "Natural parameters from the fit's coordinates.");
    m.def(
        "fit_law",
        [](LawKind kind, const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss,
           const py::object& unique_tokens, const py::object& weights, const DoubleArray& starts,
           const ParameterMap& map, const FitOptions& options, const py::object& progress) {
            const LawRuns runs = law_runs(n, d, loss, unique_tokens, weights);
            const auto start_list = law_rows(kind, starts, "starts");
            Progress report(progress);
            return run_interruptible(
                [&](const std::atomic<bool>& cancel) {
                    return scalinglaw::fit(kind, runs.view, start_list, map,
                                           report.controlling(options, cancel));
                },
                &report);
        },
        py::arg("law"), py::arg("N"), py::arg("D"), py::arg("loss"), py::arg("unique_tokens"),
        py::arg("weights"), py::arg("starts"), py::arg("map") = ParameterMap(),
        py::arg("options") = FitOptions(), py::arg("progress") = py::none(),
        "Multi-start fit of any law from the starts (one column per coordinate) under the parameter map.");
    m.def(
        "law_objective",
        [](LawKind kind, const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss,
           const py::object& unique_tokens, const py::object& weights, const DoubleArray& params,
           double delta) {
            const LawRuns runs = law_runs(n, d, loss, unique_tokens, weights);
            const auto p = law_params(kind, params);
            py::gil_scoped_release release;
            return scalinglaw::objective(kind, runs.view, p, delta);
        },
        py::arg("law"), py::arg("N"), py::arg("D"), py::arg("loss"), py::arg("unique_tokens"),
        py::arg("weights"), py::arg("params"), py::arg("delta") = FitOptions().huber_delta,
        "Sum of (weighted) Huber losses of the log-space residuals at natural parameters.");
    m.def(
        "law_predict",
        [](LawKind kind, const DoubleArray& params, const DoubleArray& n, const DoubleArray& d,
           const py::object& unique_tokens, int threads) {
            const auto p = law_params(kind, params);
            const auto same = [&](const DoubleArray& a) {
                return a.ndim() == n.ndim() && std::equal(n.shape(), n.shape() + n.ndim(), a.shape());
            };
            if (!same(d)) throw std::invalid_argument("N and D must have the same shape");
            DoubleArray u;
            if (!unique_tokens.is_none()) {
                u = unique_tokens.cast<DoubleArray>();
                if (!same(u)) throw std::invalid_argument("unique_tokens must have the shape of N and D");
            }
            py::array_t<double> out(std::vector<py::ssize_t>(n.shape(), n.shape() + n.ndim()));
            const double *pn = n.data(), *pd = d.data(), *pu = unique_tokens.is_none() ? nullptr : u.data();
            double* po = out.mutable_data();
            const auto count = static_cast<std::size_t>(n.size());
            run_released(16 * count, [&](const std::atomic<bool>* cancel) {
                scalinglaw::predict(kind, p, pn, pd, pu, count, po, threads, cancel);
            });
            return out;
        },
        py::arg("law"), py::arg("params"), py::arg("N"), py::arg("D"), py::arg("unique_tokens"),
        py::arg("threads") = 0, "L(N, D) of any law elementwise (U_D for the data-constrained law).");
    m.def(
        "law_loss_grid",
        [](LawKind kind, const DoubleArray& params, const DoubleArray& n_axis, const DoubleArray& c_axis,
           py::array out, int threads, double unique_tokens) {
            const auto p = law_params(kind, params);
            if (!py::isinstance<py::array_t<double>>(out))
                throw std::invalid_argument("out must have dtype float64");
            const auto rows = static_cast<std::size_t>(n_axis.size());
            const auto columns = static_cast<std::size_t>(c_axis.size());
            return write_grid(n_axis, c_axis, std::move(out),
                              [&](auto* data, const std::atomic<bool>* cancel) {
                                  if constexpr (std::is_same_v<decltype(data), double*>)
                                      scalinglaw::loss_grid(kind, p, n_axis.data(), rows, c_axis.data(),
                                                            columns, data, threads, cancel, unique_tokens);
                              });
        },
        py::arg("law"), py::arg("params"), py::arg("N_axis"), py::arg("C_axis"), py::arg("out"),
        py::arg("threads") = 0, py::arg("unique_tokens") = 0.0,
        "Fills out[i, j] = L(N_axis[i], C_axis[j] / (6 N_axis[i])) of any law; returns out.");
    m.def(
        "law_frontier_coefficients",
        [](LawKind kind, const DoubleArray& params) {
            return frontier_coefficients(kind, law_params(kind, params));
        },
        py::arg("law"), py::arg("params"), "The frontier's a, b, G where a closed form exists.");
    m.def(
        "law_compute_optimal",
        [](LawKind kind, const DoubleArray& params, const DoubleArray& flops, double unique_tokens) {
            const auto p = law_params(kind, params);
            return law_allocations(flops,
                                   [&](double c) { return compute_optimal(kind, p, c, unique_tokens); });
        },
        py::arg("law"), py::arg("params"), py::arg("C"), py::arg("unique_tokens") = 0.0,
        "Compute-optimal N, D, loss of any law for each budget (a unique-token budget for the "
        "data-constrained law).");
    m.def(
        "law_budget_for_loss",
        [](LawKind kind, const DoubleArray& params, const DoubleArray& loss, double unique_tokens) {
            const auto p = law_params(kind, params);
            return law_allocations(
                loss, [&](double target) { return budget_for_loss(kind, p, target, unique_tokens); });
        },
        py::arg("law"), py::arg("params"), py::arg("loss"), py::arg("unique_tokens") = 0.0,
        "Smallest budget of any law reaching each loss (under a unique-token budget for the "
        "data-constrained law).");
    m.def(
        "law_optimal_for_size",
        [](LawKind kind, const DoubleArray& params, const DoubleArray& n, double unique_tokens) {
            const auto p = law_params(kind, params);
            return law_allocations(
                n, [&](double size) { return optimal_for_size(kind, p, size, unique_tokens); });
        },
        py::arg("law"), py::arg("params"), py::arg("N"), py::arg("unique_tokens") = 0.0,
        "Tokens (and budget) of any law for each size (under a unique-token budget for the "
        "data-constrained law).");
    m.def(
        "law_bootstrap_starts",
        [](LawKind kind, const DoubleArray& optimum) {
            const auto starts = bootstrap_starts(kind, law_params(kind, optimum));
            return rows_array(starts.size(), law_info(kind).parameters.size(),
                              [&](std::size_t i) -> const std::vector<double>& { return starts[i]; });
        },
        py::arg("law"), py::arg("optimum"), "The starts each resample is refitted from (coordinates).");
    m.def(
        "law_bootstrap",
        [](LawKind kind, const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss,
           const py::object& unique_tokens, const py::object& weights, const py::object& resamples,
           const DoubleArray& starts, const ParameterMap& map, const DoubleArray& budgets,
           const FitOptions& fit, const py::object& progress) {
            const LawRuns runs = law_runs(n, d, loss, unique_tokens, weights);
            const Resamples given = resamples_from(resamples, n.size());
            const auto start_list = law_rows(kind, starts, "starts");
            BootstrapOptions options{fit, as_vector(budgets, "budgets"), {}, {}};
            Progress report(progress);
            return run_interruptible(
                [&](const std::atomic<bool>& cancel) {
                    options.fit = report.controlling(options.fit, cancel);
                    return given.drawn ? scalinglaw::bootstrap(kind, runs.view, *given.drawn, start_list, map,
                                                               options)
                                       : scalinglaw::bootstrap(kind, runs.view, given.table, start_list, map,
                                                               options);
                },
                &report);
        },
        py::arg("law"), py::arg("N"), py::arg("D"), py::arg("loss"), py::arg("unique_tokens"),
        py::arg("weights"), py::arg("resamples"), py::arg("starts"), py::arg("map"), py::arg("budgets"),
        py::arg("fit") = FitOptions(), py::arg("progress") = py::none(),
        "Refits every resample (a Resampling, or the rows of an index table) of any law from the starts "
        "under the parameter map; progress(done) is called with the resamples finished.");
}

}  // namespace

PYBIND11_MODULE(_core, m, py::mod_gil_not_used()) {
    m.doc() = "Compiled core of scalinglaw (C++17). Use the functions of the scalinglaw package.";
    m.attr("__version__") = scalinglaw::version;
    bind_types(m);
    bind_functions(m);
    bind_laws(m);
}
