#pragma once
// Private: where a bootstrap's resamples come from, one at a time on the thread that refits them. Drawn
// ones (a Resampling: seed, count, optional groups) are generated from (seed, resample number) by
// random.hpp's generator, so no table of R x n indices is ever held; a caller's table is read in place.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "check.hpp"
#include "random.hpp"
#include "scalinglaw/bootstrap.hpp"

namespace scalinglaw::detail {

class Resampler {
public:
    /// Drawn resamples (bootstrap.hpp documents how), checked: throws std::invalid_argument naming the
    /// bad field.
    Resampler(std::size_t runs, const Resampling& resampling) : runs_(runs), seed_(resampling.seed) {
        if (runs < 1 || runs > std::numeric_limits<std::uint32_t>::max())
            fail(describe("n_runs must be between 1 and 2^32 - 1, got ", runs));
        if (resampling.resamples < 1) fail("resamples must be >= 1, got 0");
        count_ = resampling.resamples;
        const std::vector<std::size_t>& groups = resampling.groups;
        if (groups.empty()) return;
        if (groups.size() != runs)
            fail(describe("groups must hold one group per run (", runs, "), got ", groups.size()));
        std::size_t count = 0;
        for (std::size_t i = 0; i < runs; ++i) {
            if (groups[i] >= runs)
                fail(describe("groups[", i, "] must be a group number below the ", runs, " runs, got ",
                              groups[i]));
            count = groups[i] >= count ? groups[i] + 1 : count;
        }
        first_.assign(count + 1, 0);  // group g's runs are members_[first_[g], first_[g + 1])
        for (std::size_t g : groups) ++first_[g + 1];
        for (std::size_t g = 0; g < count; ++g) {
            if (first_[g + 1] == 0)
                fail(
                    describe("groups must number the groups 0 to G - 1 with every number used; no run is in "
                             "group ",
                             g));
            first_[g + 1] += first_[g];
        }
        if (count < 2) fail("groups must hold at least 2 groups to resample, got 1");
        members_.resize(runs);
        std::vector<std::size_t> next(first_.begin(), first_.end() - 1);
        for (std::size_t i = 0; i < runs; ++i) members_[next[groups[i]]++] = i;
    }

    /// The caller's resamples, held by reference: table.size() / runs rows of `runs` run indices, checked.
    Resampler(std::size_t runs, const std::vector<std::size_t>& table) : runs_(runs), table_(&table) {
        if (table.empty()) fail("indices must hold at least one resample, got none");
        if (table.size() % runs != 0)
            fail(describe("indices must hold whole resamples of ", runs, " draws (one per run), got ",
                          table.size(), " entries"));
        for (std::size_t k = 0; k < table.size(); ++k)
            if (table[k] >= runs)
                fail(describe("indices[", k, "] (resample ", k / runs, ", draw ", k % runs,
                              ") must be a run index below ", runs, ", got ", table[k]));
        count_ = table.size() / runs;
    }

    std::size_t resamples() const { return count_; }

    /// Resample r's run indices into `rows` (replacing what it held): the table's row r, or r's draws.
    void draw(std::size_t r, std::vector<std::size_t>& rows) const {
        rows.clear();
        if (table_ != nullptr) {
            const auto first = table_->begin() + static_cast<std::ptrdiff_t>(r * runs_);
            rows.assign(first, first + static_cast<std::ptrdiff_t>(runs_));
            return;
        }
        Xoshiro256 generator = Xoshiro256::for_resample(seed_, r);
        if (first_.empty()) {
            const auto range = static_cast<std::uint32_t>(runs_);
            rows.resize(runs_);
            for (std::size_t& row : rows) row = generator.below(range);
            return;
        }
        const auto groups = static_cast<std::uint32_t>(first_.size() - 1);
        for (std::uint32_t j = 0; j < groups; ++j) {
            const std::uint32_t g = generator.below(groups);
            rows.insert(rows.end(), members_.begin() + static_cast<std::ptrdiff_t>(first_[g]),
                        members_.begin() + static_cast<std::ptrdiff_t>(first_[g + 1]));
        }
    }

private:
    std::size_t runs_;
    std::uint64_t seed_ = 0;
    std::size_t count_ = 0;
    const std::vector<std::size_t>* table_ = nullptr;
    std::vector<std::size_t> first_, members_;
};

}  // namespace scalinglaw::detail
