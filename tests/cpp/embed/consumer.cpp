// A program outside scalinglaw, linked to scalinglaw::core: fits noise-free runs, plans a budget, and
// checks that a bad argument arrives as std::invalid_argument. Exit status 0 when all is as expected.

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include <scalinglaw/scalinglaw.hpp>

int main() {
    const scalinglaw::Params truth{1.82, 482.0, 2085.0, 0.35, 0.37};
    std::vector<double> n, d, loss;
    for (double size = 1e8; size < 2e10; size *= 1.7)
        for (double flops = 1e19; flops < 4e21; flops *= 2.1) {
            n.push_back(size);
            d.push_back(flops / (6.0 * size));
            loss.push_back(scalinglaw::predict(truth, size, d.back()));
        }
    std::vector<scalinglaw::LogParams> starts;
    for (double a : {4.0, 8.0})
        for (double exponent : {0.2, 0.6}) starts.push_back({a, a, 0.5, exponent, exponent});

    scalinglaw::FitOptions options;
    options.threads = 2;
    const scalinglaw::FitResult fit = scalinglaw::fit_chinchilla(n, d, loss, starts, options);
    const scalinglaw::Allocation gopher = scalinglaw::compute_optimal(fit.params, 5.76e23);
    std::printf("scalinglaw %s: %s; E = %.9g, alpha = %.9g, beta = %.9g; N_opt(5.76e23) = %.6g\n",
                scalinglaw::version, fit.message.c_str(), fit.params.E, fit.params.alpha, fit.params.beta,
                gopher.n);

    bool ok = fit.status == scalinglaw::FitStatus::converged && std::abs(fit.params.E / truth.E - 1) < 1e-6 &&
              std::abs(fit.params.alpha / truth.alpha - 1) < 1e-6 &&
              std::abs(fit.params.beta / truth.beta - 1) < 1e-6 &&
              std::abs(6 * gopher.n * gopher.d / 5.76e23 - 1) < 1e-12;
    try {
        scalinglaw::compute_optimal(fit.params, -1.0);
        ok = false;
    } catch (const std::invalid_argument& error) {
        std::printf("compute_optimal(-1 FLOPs) threw: %s\n", error.what());
    }
    return ok ? 0 : 1;
}
