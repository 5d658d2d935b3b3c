// The laws' descriptions (laws.hpp) and their evaluation at natural parameters.

#include "scalinglaw/laws.hpp"

#include <cmath>
#include <limits>

#include "check.hpp"
#include "laws/dispatch.hpp"
#include "scalinglaw/fit.hpp"

namespace scalinglaw {
namespace {

std::vector<LawInfo> make_infos() {
    std::vector<LawInfo> infos;
    infos.push_back({LawKind::chinchilla,
                     "chinchilla",
                     "L(N, D) = E + A / N^alpha + B / D^beta",
                     {"E", "A", "B", "alpha", "beta"},
                     {"e", "a", "b", "alpha", "beta"},
                     {true, true, true, false, false},
                     {false, false, false, false, false},
                     false});
    infos.push_back({LawKind::kaplan,
                     "kaplan",
                     "L(N, D) = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D",
                     {"N_c", "D_c", "alpha_N", "alpha_D"},
                     {"log_N_c", "log_D_c", "alpha_N", "alpha_D"},
                     {true, true, false, false},
                     {false, false, false, false},
                     false});
    infos.push_back(
        {LawKind::data_constrained,
         "data_constrained",
         "L(N, D, U_D) = E + A / N'^alpha + B / D'^beta, D' = U_D + U_D R_D (1 - exp(-(D / U_D - 1) "
         "/ R_D)), N' = U_N + U_N R_N (1 - exp(-(N / U_N - 1) / R_N)), U_N = min(N, G (G U_D)^(beta "
         "/ alpha)), G = (alpha A / (beta B))^(1 / (alpha + beta))",
         {"E", "A", "B", "alpha", "beta", "R_D", "R_N"},
         {"e", "a", "b", "alpha", "beta", "log_R_D", "log_R_N"},
         {true, true, true, false, false, true, true},
         {false, false, false, false, false, true, true},
         true});
    return infos;
}

const std::vector<LawInfo>& infos() {
    static const std::vector<LawInfo> table = make_infos();
    return table;
}

void check_size(LawKind kind, const std::vector<double>& values, const char* name) {
    const LawInfo& info = law_info(kind);
    if (values.size() != info.parameters.size())
        detail::fail(detail::describe(name, " must hold the ", info.parameters.size(), " parameters of the ",
                                      info.name, " law, got ", values.size()));
}

}  // namespace

const std::vector<LawKind>& all_laws() {
    static const std::vector<LawKind> kinds{LawKind::chinchilla, LawKind::kaplan, LawKind::data_constrained};
    return kinds;
}

const LawInfo& law_info(LawKind kind) {
    for (const LawInfo& info : infos())
        if (info.kind == kind) return info;
    detail::fail(detail::describe("unknown LawKind ", static_cast<int>(kind)));
}

LawKind law_kind(const std::string& name) {
    std::string known;
    for (const LawInfo& info : infos()) {
        if (info.name == name) return info.kind;
        known += (known.empty() ? "" : ", ") + info.name;
    }
    detail::fail(detail::describe("unknown law '", name, "' (the laws: ", known, ")"));
}

std::vector<double> to_coordinates(LawKind kind, const std::vector<double>& params) {
    check_size(kind, params, "params");
    const LawInfo& info = law_info(kind);
    std::vector<double> x(params.size());
    for (std::size_t j = 0; j < x.size(); ++j) {
        x[j] = info.log_scale[j] ? std::log(params[j]) : params[j];
        if (info.may_be_infinite[j] && x[j] > infinite_coordinate) x[j] = infinite_coordinate;
    }
    return x;
}

std::vector<double> from_coordinates(LawKind kind, const std::vector<double>& coordinates) {
    check_size(kind, coordinates, "coordinates");
    const LawInfo& info = law_info(kind);
    std::vector<double> p(coordinates.size());
    for (std::size_t j = 0; j < p.size(); ++j) {
        p[j] = info.log_scale[j] ? std::exp(coordinates[j]) : coordinates[j];
        if (info.may_be_infinite[j] && coordinates[j] >= infinite_coordinate) p[j] = INFINITY;
    }
    return p;
}

std::vector<std::vector<double>> default_starts(LawKind kind) {
    std::vector<std::vector<double>> starts;
    switch (kind) {
        case LawKind::chinchilla:
            for (const LogParams& q : default_starts()) starts.push_back({q.e, q.a, q.b, q.alpha, q.beta});
            break;
        case LawKind::kaplan:
            for (double log_nc : {20.0, 25.0, 30.0, 35.0, 40.0})
                for (double log_dc : {20.0, 25.0, 30.0, 35.0, 40.0})
                    for (double alpha_n : {0.05, 0.1, 0.2, 0.4})
                        for (double alpha_d : {0.05, 0.1, 0.2, 0.4})
                            starts.push_back({log_nc, log_dc, alpha_n, alpha_d});
            break;
        case LawKind::data_constrained:
            for (double alpha : {0.3, 1.0})
                for (double beta : {0.3, 1.0})
                    for (double e : {-1.0, 1.0})
                        for (double a : {5.0, 15.0})
                            for (double b : {5.0, 15.0})
                                for (double r_d : {1.0, 4.0, 16.0, 64.0, 256.0})
                                    for (double r_n : {1.0, 4.0, 16.0, 64.0, 256.0})
                                        starts.push_back(
                                            {e, a, b, alpha, beta, std::log(r_d), std::log(r_n)});
            break;
    }
    return starts;
}

double predict(LawKind kind, const std::vector<double>& params, double n, double d, double unique_tokens) {
    const std::vector<double> x = to_coordinates(kind, params);
    if (law_info(kind).needs_unique_tokens && !(unique_tokens > 0.0 && unique_tokens <= d))
        detail::fail(detail::describe("the ", law_info(kind).name, " law needs 0 < unique_tokens <= d = ", d,
                                      ", got ", unique_tokens));
    const double log_u = std::log(unique_tokens);
    return detail::visit_law(kind, [&](auto law) {
        return std::exp(decltype(law)::log_predict(x.data(), std::log(n), std::log(d), log_u));
    });
}

}  // namespace scalinglaw
