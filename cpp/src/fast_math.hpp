#pragma once
// Private: exp and log written so that compilers vectorise loops that call them (no branches, no
// calls, only arithmetic and bit operations on 64-bit lanes), accurate to 1 ulp on their stated
// domains (checked against std::exp/std::log in tests/cpp/test_fast_math.cpp). Callers keep arguments
// in the domain and fall back to std:: functions otherwise.
//
// SCALINGLAW_MULTIVERSION compiles a function once per instruction set (AVX-512, AVX2+FMA, baseline)
// and picks the best at load time (GCC/Clang function multi-versioning, x86-64 Linux). Functions
// called inside must be inlined (SCALINGLAW_ALWAYS_INLINE) so that they are compiled for each.

#include <cmath>
#include <cstdint>
#include <cstring>

// Each string of target_clones is one clone: "avx2,fma" would make two (AVX2 without FMA, FMA without
// AVX2), so GCC gets the x86-64 levels: v4 (AVX-512), v3 (AVX2 + FMA), baseline.
// SCALINGLAW_MULTIVERSION_TEMPLATE is the same for function templates (explicitly instantiated in one
// file), which only GCC clones.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(SCALINGLAW_NO_MULTIVERSION) && !defined(__SANITIZE_ADDRESS__)
#define SCALINGLAW_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define SCALINGLAW_MULTIVERSION_TEMPLATE SCALINGLAW_MULTIVERSION
#elif defined(__x86_64__) && defined(__linux__) && defined(__clang__) && \
    !defined(SCALINGLAW_NO_MULTIVERSION) && !defined(__SANITIZE_ADDRESS__)
#define SCALINGLAW_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#define SCALINGLAW_MULTIVERSION_TEMPLATE
#else
#define SCALINGLAW_MULTIVERSION
#define SCALINGLAW_MULTIVERSION_TEMPLATE
#endif

// A loop whose listed variables are sums (or other reductions) the compiler may vectorise: needs
// -fopenmp-simd (GCC, Clang; no OpenMP runtime is linked), else it is an ordinary loop.
#if defined(_OPENMP) || defined(SCALINGLAW_OPENMP_SIMD)
#define SCALINGLAW_PRAGMA(x) _Pragma(#x)
#define SCALINGLAW_SIMD_REDUCTION(...) SCALINGLAW_PRAGMA(omp simd reduction(__VA_ARGS__))
#define SCALINGLAW_STRINGIFY(...) #__VA_ARGS__
// The same with several clauses, e.g. SCALINGLAW_SIMD(reduction(+ : s) reduction(min : m)).
#define SCALINGLAW_SIMD(...) _Pragma(SCALINGLAW_STRINGIFY(omp simd __VA_ARGS__))
#else
#define SCALINGLAW_SIMD_REDUCTION(...)
#define SCALINGLAW_SIMD(...)
#endif

// A loop over a few slots (a jet's), to unroll completely so that the loop around it can vectorise.
#if defined(__clang__)
#define SCALINGLAW_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define SCALINGLAW_UNROLL _Pragma("GCC unroll 64")
#else
#define SCALINGLAW_UNROLL
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SCALINGLAW_ALWAYS_INLINE inline __attribute__((always_inline))
#define SCALINGLAW_ALWAYS_INLINE_LAMBDA __attribute__((always_inline))
#define SCALINGLAW_RESTRICT __restrict__
#else
#define SCALINGLAW_ALWAYS_INLINE inline
#define SCALINGLAW_ALWAYS_INLINE_LAMBDA
#define SCALINGLAW_RESTRICT
#endif

namespace scalinglaw::detail {

/// Arguments of fast_exp must lie in [-fast_exp_limit, fast_exp_limit]; then the result is normal.
constexpr double fast_exp_limit = 700.0;

SCALINGLAW_ALWAYS_INLINE double bits_to_double(std::uint64_t bits) {
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

SCALINGLAW_ALWAYS_INLINE std::uint64_t double_to_bits(double value) {
    std::uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}

/// (e^r - 1) / r for |r| <= ln2/2: 1 + r/2 + r^2 Q(r), fast_exp's polynomial, for lane_expm1. (fast_exp
/// keeps its own copy, as does its reduction below: calling these changed the compiled Chinchilla
/// kernels, with the same results but about 1% slower on one thread.)
SCALINGLAW_ALWAYS_INLINE double exp_ratio(double r) {
    double p = 2.5100375832561234e-08;
    p = p * r + 2.7620075879983367e-07;
    p = p * r + 2.7557268480310024e-06;
    p = p * r + 2.4801521322368692e-05;
    p = p * r + 1.9841269863040545e-04;
    p = p * r + 1.3888888917196719e-03;
    p = p * r + 8.333333333330065e-03;
    p = p * r + 4.1666666666624164e-02;
    p = p * r + 0.16666666666666669;
    p = p * r + 0.5000000000000001;
    return p * r + 1.0;
}

/// x = k ln2 + r with |r| <= ln2/2 (Cody-Waite), for |x| <= fast_exp_limit; scale = 2^k.
struct ExpReduced {
    double r, scale;
};
SCALINGLAW_ALWAYS_INLINE ExpReduced exp_reduce(double x) {
    constexpr double shifter = 0x1.8p52;  // adding it rounds to an integer held in the low bits
    double k = x * 1.4426950408889634 + shifter;
    const std::uint64_t k_bits = double_to_bits(k);
    k -= shifter;
    double r = x - k * 6.93147180369123816490e-01;  // ln2 high part: k * it is exact
    r -= k * 1.90821492927058770002e-10;            // ln2 low part
    return {r, bits_to_double((k_bits << 52) + (std::uint64_t{1023} << 52))};
}

/// e^x for |x| <= fast_exp_limit. x = k ln2 + r with |r| <= ln2/2 (Cody-Waite), e^r by a degree-11
/// polynomial (1 + r + r^2 Q(r), Q the Chebyshev fit of (e^r - 1 - r) / r^2 on [-ln2/2, ln2/2]: relative
/// error 1.6e-18 with these double coefficients), times 2^k built in the exponent bits.
SCALINGLAW_ALWAYS_INLINE double fast_exp(double x) {
    constexpr double shifter = 0x1.8p52;  // adding it rounds to an integer held in the low bits
    double k = x * 1.4426950408889634 + shifter;
    const std::uint64_t k_bits = double_to_bits(k);
    k -= shifter;
    double r = x - k * 6.93147180369123816490e-01;  // ln2 high part: k * it is exact
    r -= k * 1.90821492927058770002e-10;            // ln2 low part
    double p = 2.5100375832561234e-08;
    p = p * r + 2.7620075879983367e-07;
    p = p * r + 2.7557268480310024e-06;
    p = p * r + 2.4801521322368692e-05;
    p = p * r + 1.9841269863040545e-04;
    p = p * r + 1.3888888917196719e-03;
    p = p * r + 8.333333333330065e-03;
    p = p * r + 4.1666666666624164e-02;
    p = p * r + 0.16666666666666669;
    p = p * r + 0.5000000000000001;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return p * bits_to_double((k_bits << 52) + (std::uint64_t{1023} << 52));
}

/// log(x) for positive, normal, finite x. x = 2^k m with m in [sqrt(1/2), sqrt(2)); with f = m - 1 and
/// s = f / (2 + f), log(m) = 2 atanh(s) = f - f^2/2 + s (f^2/2 + R(s^2)) (fdlibm's arrangement), R(z) =
/// sum_j 2 z^j / (2j + 1) by z times the Chebyshev fit of R(z)/z of degree 6 on [0, 0.0295] (absolute
/// error 3e-16 in R(z)/z, 1.6e-18 in log m).
SCALINGLAW_ALWAYS_INLINE double fast_log(double x) {
    const std::uint64_t bits = double_to_bits(x);
    // Subtracting the bits of sqrt(1/2) carries mantissas >= sqrt(2) into the exponent; the offset
    // 2^63 keeps the difference unsigned for every x >= DBL_MIN.
    const std::uint64_t biased = bits - 0x3fe6a09e667f3bcdULL + 0x8000000000000000ULL;
    const std::uint64_t k_field = biased >> 52;  // k + 2048
    const double k = bits_to_double(0x4330000000000000ULL | k_field) - (0x1p52 + 2048.0);
    const double m = bits_to_double(bits - (k_field << 52) + (std::uint64_t{2048} << 52));
    const double f = m - 1.0;
    const double s = f / (2.0 + f);
    const double z = s * s;
    double R = 0.14616449685043406;
    R = R * z + 0.15331721600556042;
    R = R * z + 0.18182889125261723;
    R = R * z + 0.2222221113479508;
    R = R * z + 0.28571428625975487;
    R = R * z + 0.39999999999899505;
    R = R * z + 0.666666666666667;
    R = R * z;
    const double half_f2 = 0.5 * f * f;
    return k * 6.93147180369123816490e-01 -
           ((half_f2 - (s * (half_f2 + R) + k * 1.90821492927058770002e-10)) - f);
}

// The lane_ functions: exp, log, expm1 and log1p on their whole domains (inf, NaN, zero, subnormals,
// overflow and underflow as std:: gives them), by selects around fast_exp and fast_log, so that loops
// calling them still vectorise. The laws' log-predictions and jets use them (laws/common.hpp, jet.hpp).

/// e^x for every x: beyond +-fast_exp_limit as the square of e^(x/2) (within 2 ulp), which overflows to
/// inf and underflows through the subnormals to 0 as e^x does.
SCALINGLAW_ALWAYS_INLINE double lane_exp(double x) {
    const bool far = std::fabs(x) > fast_exp_limit;
    double h = far ? 0.5 * x : x;
    h = h > fast_exp_limit ? fast_exp_limit : (h < -fast_exp_limit ? -fast_exp_limit : h);  // NaN stays
    const double y = fast_exp(h);
    return far ? y * y : y;
}

/// log(x) for every x: -inf at 0, NaN below 0 or at NaN, inf at inf; subnormals scaled by 2^54 first.
SCALINGLAW_ALWAYS_INLINE double lane_log(double x) {
    constexpr double smallest_normal = 0x1p-1022, largest = 0x1.fffffffffffffp1023;
    const bool subnormal = x < smallest_normal;
    const double scaled = subnormal ? x * 0x1p54 : x;
    const bool ordinary = scaled >= smallest_normal && scaled <= largest;
    const double y =
        fast_log(ordinary ? scaled : 1.0) - (subnormal ? 54.0 * 6.93147180559945286227e-01 : 0.0);
    return ordinary ? y : (x == 0.0 ? -__builtin_inf() : (x > 0.0 ? x : __builtin_nan("")));
}

/// e^x - 1 for every x, within 3 ulp: 2^k (e^r - 1) + (2^k - 1) from fast_exp's reduction, which
/// never cancels (no e^x - 1 near x = 0); lane_exp(x) - 1 beyond fast_exp_limit, from the same reduction
/// and polynomial (of x / 2, as lane_exp squares it), bit for bit: a select evaluates both sides in every
/// lane, so one polynomial, not two (the data-constrained fit of the paper's runs: 4% faster).
SCALINGLAW_ALWAYS_INLINE double lane_expm1(double x) {
    const bool far = std::fabs(x) > fast_exp_limit;
    double h = far ? 0.5 * x : x;
    h = h > fast_exp_limit ? fast_exp_limit : (h < -fast_exp_limit ? -fast_exp_limit : h);  // NaN stays
    const ExpReduced reduced = exp_reduce(h);
    const double ratio = exp_ratio(reduced.r);
    const double near = (reduced.scale - 1.0) + reduced.scale * (ratio * reduced.r);
    const double y = reduced.scale * (ratio * reduced.r + 1.0);  // e^h, as fast_exp computes it
    return far ? y * y - 1.0 : near;
}

/// log(1 + x) for every x, to a few ulp: log(u) x / (u - 1) with u = 1 + x rounded (Goldberg's
/// correction of the rounding of u), x itself where u rounds to 1.
SCALINGLAW_ALWAYS_INLINE double lane_log1p(double x) {
    const double u = 1.0 + x, gap = u - 1.0;
    const double y = lane_log(u) * (x / (gap == 0.0 ? 1.0 : gap));
    return gap == 0.0 || x == __builtin_inf() ? x : y;
}

}  // namespace scalinglaw::detail
