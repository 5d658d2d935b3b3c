#pragma once
// Private: the portable generator of bootstrap resamples. Every step is fixed by its reference code
// (none is left to the standard library, whose distributions differ between implementations), so a
// seed gives the same numbers on every platform. Each resample has its own generator, made from (seed,
// resample number) in O(1), so that resamples are drawn where and when they are refitted, in any order.

#include <cstdint>

namespace scalinglaw::detail {

constexpr std::uint64_t splitmix64_gamma = 0x9e3779b97f4a7c15u;

/// splitmix64 (Steele, Lea and Flood 2014): advances `state` and returns the next output. It turns one
/// 64-bit seed into xoshiro's state: nearby seeds give unrelated streams, no seed the all-zero state.
inline std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += splitmix64_gamma);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/// xoshiro256** (Blackman and Vigna 2018), its state filled by splitmix64 from the seed.
class Xoshiro256 {
public:
    explicit Xoshiro256(std::uint64_t seed) {
        for (std::uint64_t& word : s_) word = splitmix64(seed);
    }

    /// Resample r's generator: its state is words 4r to 4r + 3 of the seed's splitmix64 stream (word k
    /// is the mix of seed + (k + 1) * gamma, so the stream can be entered at any word). Resample 0's
    /// generator is Xoshiro256(seed); distinct resamples never share a state.
    static Xoshiro256 for_resample(std::uint64_t seed, std::uint64_t resample) {
        return Xoshiro256(seed + 4u * resample * splitmix64_gamma);
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    /// An integer in [0, range), 0 < range < 2^32, each equally likely (Lemire 2019): with x the top 32
    /// bits of a draw, floor(x * range / 2^32), after rejecting the 2^32 mod range values of x that
    /// would favour some results.
    std::uint32_t below(std::uint32_t range) {
        std::uint64_t product = (next() >> 32) * range;
        auto low = static_cast<std::uint32_t>(product);
        if (low < range) {
            const std::uint32_t threshold = (0u - range) % range;  // 2^32 mod range
            while (low < threshold) {
                product = (next() >> 32) * range;
                low = static_cast<std::uint32_t>(product);
            }
        }
        return static_cast<std::uint32_t>(product >> 32);
    }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
};

}  // namespace scalinglaw::detail
