#pragma once
// Private, law-independent: the best of a multi-start fit's outcomes (anything with .status and
// .objective): the lowest objective among the starts that did not fail, then the lowest index (so the
// choice never depends on the thread count); and how many starts reached that objective to 1e-8
// relative (0 when every start failed).

#include <cmath>
#include <cstddef>
#include <vector>

#include "scalinglaw/fit.hpp"

namespace scalinglaw::detail {

struct Best {
    std::size_t index;
    std::size_t starts_at_best;
};

template <class Outcome>
Best best_of(const std::vector<Outcome>& outcomes) {
    auto failed = [](const Outcome& o) { return o.status == FitStatus::numerical_failure; };
    Best best{0, 0};
    for (std::size_t i = 1; i < outcomes.size(); ++i) {
        const Outcome &o = outcomes[i], &b = outcomes[best.index];
        if (failed(o) != failed(b) ? failed(b) : o.objective < b.objective) best.index = i;
    }
    const Outcome& b = outcomes[best.index];
    if (!failed(b))
        for (const Outcome& o : outcomes)
            if (!failed(o) && o.objective <= b.objective + 1e-8 * std::abs(b.objective))
                ++best.starts_at_best;
    return best;
}

}  // namespace scalinglaw::detail
