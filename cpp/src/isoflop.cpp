// Approach 2: a parabola per IsoFLOP group, its minimum, and the exponents across budgets.

#include "scalinglaw/isoflop.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "check.hpp"
#include "isoflop_detail.hpp"

namespace scalinglaw {
namespace detail {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// A parabola's curvature is refused as a minimum when its rise over the sampled sizes, c2 h^2 (h the
// largest |ln N - center| of the group), is at most this fraction of the loss level |c0|: a straight
// profile fits c2 = +-(rounding), and the solve's rounding error is ~k eps cond ~ 1e-13 of the loss
// for tens of runs (cond ~ 10, see fit_parabola), so 1e-10 keeps a margin of 1000 while any real
// curvature (Chinchilla's rise is ~1e-2 of the loss) passes.
constexpr double min_relative_rise = 1e-10;

// Two budgets within this relative gap, |ln(C_j / C_k)| < 1e-6, are one budget given twice (e.g. one
// printed to fewer digits): their groups would split one profile and their ln-ln points coincide.
constexpr double min_budget_gap = 1e-6;

// The rise c2 h^2 of a fitted parabola over its group's sizes (see min_relative_rise).
double rise(const BudgetParabola& p) {
    const double h = std::max(p.center - std::log(p.smallest_n), std::log(p.largest_n) - p.center);
    return p.c2 * h * h;
}

bool rounding_noise(const BudgetParabola& p) { return rise(p) <= min_relative_rise * std::abs(p.c0); }

// Least squares of loss on (1, t, t^2) with t = (x - center) / scale in [-1, 1]: on that range the
// normal equations' condition number is ~10, so solving them loses nothing against a QR of the
// Vandermonde matrix (what numpy.polyfit does), and they need no memory per point.
void fit_parabola(const std::vector<double>& x, const std::vector<double>& y, BudgetParabola& p) {
    const std::size_t k = x.size();
    double center = 0.0;
    for (double v : x) center += v;
    center /= static_cast<double>(k);
    double scale = 0.0;
    for (double v : x) scale = std::max(scale, std::abs(v - center));
    Eigen::Matrix3d gram = Eigen::Matrix3d::Zero();
    Eigen::Vector3d rhs = Eigen::Vector3d::Zero();
    for (std::size_t i = 0; i < k; ++i) {
        const double t = (x[i] - center) / scale;
        const Eigen::Vector3d row(1.0, t, t * t);
        gram.noalias() += row * row.transpose();
        rhs += y[i] * row;
    }
    const Eigen::Vector3d c = gram.ldlt().solve(rhs);
    p.center = center;
    p.c0 = c[0];
    p.c1 = c[1] / scale;
    p.c2 = c[2] / (scale * scale);
}

// Slope and intercept of the least-squares line of y on x (x not all equal).
void fit_line(const std::vector<double>& x, const std::vector<double>& y, double& slope, double& intercept) {
    const std::size_t k = x.size();
    double mean_x = 0.0, mean_y = 0.0;
    for (std::size_t i = 0; i < k; ++i) {
        mean_x += x[i];
        mean_y += y[i];
    }
    mean_x /= static_cast<double>(k);
    mean_y /= static_cast<double>(k);
    double sxx = 0.0, sxy = 0.0;
    for (std::size_t i = 0; i < k; ++i) {
        sxx += (x[i] - mean_x) * (x[i] - mean_x);
        sxy += (x[i] - mean_x) * (y[i] - mean_y);
    }
    slope = sxy / sxx;
    intercept = mean_y - slope * mean_x;
}

}  // namespace

IsoflopExponents fit_isoflop(const IsoflopPoints& points, const std::vector<double>& budgets,
                             std::vector<BudgetParabola>& parabolas, IsoflopScratch& scratch) {
    parabolas.resize(budgets.size());
    std::vector<double>&x = scratch.x, &y = scratch.y, &sorted = scratch.sorted;
    for (std::size_t g = 0; g < budgets.size(); ++g) {
        x.clear();
        y.clear();
        for (std::size_t i = 0; i < points.group.size(); ++i)
            if (points.group[i] == static_cast<int>(g)) {
                x.push_back(points.log_n[i]);
                y.push_back(points.loss[i]);
            }
        BudgetParabola& p = parabolas[g];
        p.flops = budgets[g];
        p.runs = x.size();
        sorted.assign(x.begin(), x.end());
        std::sort(sorted.begin(), sorted.end());
        p.sizes = static_cast<std::size_t>(std::unique(sorted.begin(), sorted.end()) - sorted.begin());
        p.smallest_n = sorted.empty() ? nan : std::exp(sorted.front());
        p.largest_n = sorted.empty() ? nan : std::exp(sorted.back());
        p.center = p.c0 = p.c1 = p.c2 = p.n_opt = p.d_opt = p.loss_opt = nan;
        p.inside = false;
        if (p.sizes < 3) {
            if (!x.empty()) {
                p.center = 0.0;
                for (double v : x) p.center += v;
                p.center /= static_cast<double>(x.size());
            }
            p.status = ParabolaStatus::too_few_sizes;
            continue;
        }
        fit_parabola(x, y, p);
        const double x_opt = p.center - p.c1 / (2.0 * p.c2);
        const double n_opt = std::exp(x_opt);
        // No minimum: the parabola opens downward, is flat to rounding, or its minimum is no finite N.
        if (!(p.c2 > 0.0) || rounding_noise(p) || !(n_opt > 0.0) || !std::isfinite(n_opt)) {
            p.status = ParabolaStatus::opens_downward;
            continue;
        }
        p.status = ParabolaStatus::used;
        p.n_opt = n_opt;
        p.d_opt = p.flops / (6.0 * n_opt);
        p.loss_opt = p.c0 - p.c1 * p.c1 / (4.0 * p.c2);
        p.inside = sorted.front() <= x_opt && x_opt <= sorted.back();
    }

    // ln N_opt and ln D_opt = ln(C / (6 N_opt)) against ln C over the used budgets.
    IsoflopExponents out{nan, nan, nan, nan, 0};
    x.clear();
    y.clear();
    sorted.clear();  // here: ln D_opt
    for (const BudgetParabola& p : parabolas)
        if (p.status == ParabolaStatus::used) {
            x.push_back(std::log(p.flops));
            y.push_back(std::log(p.n_opt));
            sorted.push_back(std::log(p.d_opt));
        }
    out.used = x.size();
    if (out.used < 2) return out;
    double intercept = 0.0;
    fit_line(x, y, out.a, intercept);
    out.n_coefficient = std::exp(intercept);
    fit_line(x, sorted, out.b, intercept);
    out.d_coefficient = std::exp(intercept);
    return out;
}

void check_groups(const std::vector<int>& group, std::size_t runs, const std::vector<double>& budgets,
                  const char* group_name, const char* budgets_name) {
    if (budgets.empty()) fail(describe(budgets_name, " must hold at least one budget, got none"));
    check_positive_array(budgets.data(), budgets.size(), budgets_name);
    for (std::size_t j = 0; j < budgets.size(); ++j)
        for (std::size_t k = 0; k < j; ++k) {
            if (budgets[j] == budgets[k])
                fail(describe(budgets_name, "[", j, "] = ", budgets[j], " repeats ", budgets_name, "[", k,
                              "]: each budget must be distinct"));
            const double gap = std::abs(std::log(budgets[j] / budgets[k]));
            if (gap < min_budget_gap)
                fail(describe(budgets_name, "[", j, "] = ", budgets[j], " nearly repeats ", budgets_name, "[",
                              k, "] = ", budgets[k], " (relative gap ", gap,
                              " < 1e-6): one budget given twice"));
        }
    if (group.size() != runs)
        fail(describe(group_name, " must hold one group per run (", runs, "), got ", group.size()));
    const auto count = static_cast<long long>(budgets.size());
    for (std::size_t i = 0; i < group.size(); ++i)
        if (group[i] < -1 || group[i] >= count)
            fail(describe(group_name, "[", i, "] must be -1 (no group) or an index into ", budgets_name,
                          " (0 to ", count - 1, "), got ", group[i]));
}

}  // namespace detail

const char* to_string(ParabolaStatus status) {
    switch (status) {
        case ParabolaStatus::used:
            return "used";
        case ParabolaStatus::too_few_sizes:
            return "too_few_sizes";
        case ParabolaStatus::opens_downward:
            return "opens_downward";
    }
    return "unknown";
}

Approach2Result approach2(const RunsView& runs, const std::vector<int>& group,
                          const std::vector<double>& budgets) {
    detail::check_positive_array(runs.n, runs.size, "n");
    detail::check_positive_array(runs.d, runs.size, "d");
    detail::check_positive_array(runs.loss, runs.size, "loss");
    detail::check_groups(group, runs.size, budgets, "group", "budgets");

    detail::IsoflopPoints points;
    points.log_n.resize(runs.size);
    for (std::size_t i = 0; i < runs.size; ++i) points.log_n[i] = std::log(runs.n[i]);
    points.loss.assign(runs.loss, runs.loss + runs.size);
    points.group = group;
    Approach2Result out;
    detail::IsoflopScratch scratch;
    const detail::IsoflopExponents e = detail::fit_isoflop(points, budgets, out.parabolas, scratch);
    out.used = e.used;
    out.a = e.a;
    out.n_coefficient = e.n_coefficient;
    out.b = e.b;
    out.d_coefficient = e.d_coefficient;

    for (BudgetParabola& p : out.parabolas) {
        if (p.status == ParabolaStatus::too_few_sizes)
            p.reason = p.runs == 0 ? std::string("no runs in this group")
                                   : detail::describe("only ", p.sizes, " distinct model size",
                                                      p.sizes == 1 ? "" : "s", " among its ", p.runs, " run",
                                                      p.runs == 1 ? "" : "s", ": a parabola needs 3");
        else if (p.status == ParabolaStatus::opens_downward)
            p.reason =
                !(p.c2 > 0.0) ? detail::describe("the parabola opens downward (c2 = ", p.c2,
                                                 " <= 0): it has no minimum")
                : detail::rounding_noise(p)
                    ? detail::describe("the profile is straight to rounding: its curvature rises ",
                                       detail::rise(p), " over the sizes, at most 1e-10 of the loss ", p.c0)
                    : detail::describe("the parabola is so flat (c2 = ", p.c2,
                                       ") that its minimum is no finite model size");
    }
    if (out.used < 2)
        out.message = detail::describe("the exponents need the minima of at least 2 budgets, got ", out.used,
                                       " of ", budgets.size());
    return out;
}

}  // namespace scalinglaw
