// parallel_for: never more workers than cores, started threads kept off the caller's CPU (Linux), and
// when the system cannot start a thread the caller does all the work, with the same results bit for bit.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__GLIBC__) || defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include "parallel.hpp"
#include "scalinglaw/fit.hpp"

using namespace scalinglaw;

namespace {

std::size_t cores() { return std::max(1u, std::thread::hardware_concurrency()); }

/// The largest worker id parallel_for(count, threads) hands out, plus one.
std::size_t workers_used(std::size_t count, int threads) {
    std::atomic<std::size_t> largest{0};
    detail::parallel_for(count, threads, [&](std::size_t, std::size_t worker) {
        std::size_t seen = largest.load();
        while (worker + 1 > seen && !largest.compare_exchange_weak(seen, worker + 1)) {
        }
    });
    return largest.load();
}

struct Runs {
    std::vector<double> n, d, loss;
};

Runs noisy_runs() {
    Runs runs;
    for (int c = 0; c < 6; ++c)
        for (int s = 0; s < 8; ++s) {
            const double size = 7e7 * std::pow(200.0, s / 7.0), flops = 1e18 * std::pow(10.0, c);
            const double tokens = flops / (6 * size);
            const double noise = 0.01 * std::sin(3.0 * (8 * c + s));
            runs.n.push_back(size);
            runs.d.push_back(tokens);
            runs.loss.push_back((1.8 + 480 / std::pow(size, 0.35) + 2000 / std::pow(tokens, 0.37)) *
                                std::exp(noise));
        }
    return runs;
}

FitResult fit_with(const Runs& runs, int threads) {
    std::vector<LogParams> starts = default_starts();
    starts.resize(96);
    FitOptions options;
    options.threads = threads;
    return fit_chinchilla(runs.n, runs.d, runs.loss, starts, options);
}

#if defined(__GLIBC__)
/// While alive, every new thread asks for a 128 TiB stack, which no system can map: std::thread then
/// throws std::system_error, as under a process or memory limit.
class NoNewThreads {
public:
    NoNewThreads() {
        pthread_getattr_default_np(&saved_);
        pthread_attr_t huge;
        pthread_attr_init(&huge);
        pthread_attr_setstacksize(&huge, std::size_t{1} << 47);
        pthread_setattr_default_np(&huge);
        pthread_attr_destroy(&huge);
    }
    ~NoNewThreads() {
        pthread_setattr_default_np(&saved_);
        pthread_attr_destroy(&saved_);
    }
    NoNewThreads(const NoNewThreads&) = delete;
    NoNewThreads& operator=(const NoNewThreads&) = delete;

private:
    pthread_attr_t saved_;
};
#endif

}  // namespace

TEST_CASE("parallel_for never runs more workers than cores, whatever the request") {
    for (int threads : {1, 2, 16, 1000}) {
        const std::size_t expected = std::min<std::size_t>(static_cast<std::size_t>(threads), cores());
        CHECK(detail::resolve_threads(threads, 4500) == expected);
        CHECK(workers_used(20000, threads) <= expected);
    }
    CHECK(detail::resolve_threads(0, 4500) == cores());
    CHECK(detail::resolve_threads(16, 3) == std::min<std::size_t>(3, cores()));
}

#if defined(__GLIBC__)
TEST_CASE("when no thread can start, the caller does all the work and the fit is bit-identical") {
    const Runs runs = noisy_runs();
    const FitResult expected = fit_with(runs, 1);
    std::vector<double> squares;
    {
        NoNewThreads limit;
        // The precondition, so that this test cannot pass without exercising the fallback.
        REQUIRE_THROWS_AS(std::thread([] {}).join(), std::system_error);

        std::vector<std::size_t> worker(5000, 99);
        std::vector<double> out(5000);
        detail::parallel_for(5000, 4, [&](std::size_t i, std::size_t w) {
            worker[i] = w;
            out[i] = static_cast<double>(i) * static_cast<double>(i);
        });
        CHECK(std::all_of(worker.begin(), worker.end(), [](std::size_t w) { return w == 0; }));
        for (std::size_t i = 0; i < out.size(); ++i) CHECK(out[i] == static_cast<double>(i * i));

        for (int threads : {0, 1, 4}) {
            const FitResult got = fit_with(runs, threads);
            CHECK(std::memcmp(&got.log_params, &expected.log_params, sizeof(LogParams)) == 0);
            CHECK(std::memcmp(&got.objective, &expected.objective, sizeof(double)) == 0);
            CHECK(got.best_start == expected.best_start);
            CHECK(got.iterations == expected.iterations);
            CHECK(got.status == expected.status);
        }
    }
    std::thread([] {}).join();  // the limit is gone again
}
#endif

#if defined(__linux__)
TEST_CASE("a started thread may run on every CPU the caller may use but the caller's own") {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    REQUIRE(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
    std::atomic<bool> go{false};
    std::thread thread([&] {
        while (!go.load()) std::this_thread::yield();
    });
    detail::place_away_from_caller(thread);
    cpu_set_t placed;
    CPU_ZERO(&placed);
    const int read = pthread_getaffinity_np(thread.native_handle(), sizeof placed, &placed);
    go = true;
    thread.join();
    REQUIRE(read == 0);
    cpu_set_t outside;  // CPUs the thread may use that the caller may not: none
    CPU_ZERO(&outside);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &placed) && !CPU_ISSET(cpu, &allowed)) CPU_SET(cpu, &outside);
    CHECK(CPU_COUNT(&outside) == 0);
    // one CPU fewer (the caller's, wherever it ran), or all of them when the caller has only one
    const int expected = CPU_COUNT(&allowed) > 1 ? CPU_COUNT(&allowed) - 1 : 1;
    CHECK(CPU_COUNT(&placed) == expected);
}
#endif
