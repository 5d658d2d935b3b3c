#pragma once
// Private: the one place that lists the laws. visit_law(kind, f) calls f with the law's type
// (ChinchillaLaw{}, KaplanLaw{}, DataConstrainedLaw{}), so that each caller is written once as a
// template and compiled for every law.

#include <stdexcept>

#include "chinchilla.hpp"
#include "data_constrained.hpp"
#include "kaplan.hpp"

namespace scalinglaw::detail {

template <class F>
decltype(auto) visit_law(LawKind kind, F&& f) {
    switch (kind) {
        case LawKind::chinchilla:
            return f(ChinchillaLaw{});
        case LawKind::kaplan:
            return f(KaplanLaw{});
        case LawKind::data_constrained:
            return f(DataConstrainedLaw{});
    }
    throw std::invalid_argument("unknown LawKind");
}

}  // namespace scalinglaw::detail
