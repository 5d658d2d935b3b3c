// fit_csv: fit the Chinchilla law to a CSV of training runs and print the parameters and the
// compute-optimal allocation at a budget as JSON. An example of embedding scalinglaw in C++.
//
//   fit_csv [--exclude-highest-loss K] [--budget FLOPS] [--threads T] RUNS.csv
//
// The CSV has a header row and plain comma-separated numbers (no quoting). Columns are found by name,
// ignoring case, spaces and underscores: N ("N", "Model Size", "params"), loss ("loss") and either
// D ("D", "tokens") or the training compute C ("C", "Training FLOP", "flops"), from which D = C / (6 N).
// Every value must be a finite number (a NaN loss has no rank among the highest losses); the file must be
// a regular file of at most 256 MiB (millions of runs), and no more than that is read.
// Exit status: 0 with the JSON on stdout, 2 with a message on stderr for bad input.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <scalinglaw/scalinglaw.hpp>

namespace {

/// The largest CSV read: far beyond any sweep of training runs, far below the memory of a machine.
constexpr std::uintmax_t largest_file = std::uintmax_t{256} << 20;

struct Runs {
    std::vector<double> n, d, loss;
};

struct Arguments {
    std::string path;
    std::size_t exclude_highest_loss = 0;
    double budget = 5.76e23;  // Gopher's training FLOPs, the budget Hoffmann et al. plan for
    int threads = 0;
};

[[noreturn]] void usage_error(const std::string& message) {
    throw std::invalid_argument(
        message + "\nusage: fit_csv [--exclude-highest-loss K] [--budget FLOPS] [--threads T] RUNS.csv");
}

/// `text` for a message: a cell of 100 kB is named by its start, not echoed whole.
std::string shown(const std::string& text) {
    return text.size() <= 60 ? text : text.substr(0, 50) + "... (" + std::to_string(text.size()) + " bytes)";
}

double parse_number(const std::string& text, const std::string& what) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size())
        throw std::invalid_argument(what + ": '" + shown(text) + "' is not a number");
    return value;
}

Arguments parse_arguments(int argc, char** argv) {
    Arguments args;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag.rfind("--", 0) != 0) {
            if (!args.path.empty()) usage_error("more than one CSV file given");
            args.path = flag;
            continue;
        }
        if (i + 1 == argc) usage_error(flag + " needs a value");
        const double value = parse_number(argv[++i], flag);
        const bool whole = value >= 0 && value == std::floor(value) && value < 1e9;
        if (flag == "--exclude-highest-loss" && whole)
            args.exclude_highest_loss = static_cast<std::size_t>(value);
        else if (flag == "--threads" && whole)
            args.threads = static_cast<int>(value);
        else if (flag == "--budget")
            args.budget = value;  // checked by compute_optimal
        else
            usage_error("unknown option or bad value: " + flag + " " + argv[i]);
    }
    if (args.path.empty()) usage_error("no CSV file given");
    return args;
}

std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> cells;
    std::stringstream stream(line);
    for (std::string cell; std::getline(stream, cell, ',');) cells.push_back(cell);
    return cells;
}

std::string normalised(std::string name) {
    std::string out;
    for (char c : name)
        if (!std::isspace(static_cast<unsigned char>(c)) && c != '_')
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// Index of the first column whose normalised name is one of `names`, or npos.
std::size_t find_column(const std::vector<std::string>& header, std::vector<std::string> names) {
    for (std::size_t i = 0; i < header.size(); ++i)
        if (std::find(names.begin(), names.end(), normalised(header[i])) != names.end()) return i;
    return std::string::npos;
}

/// The whole file, refused unless it is a regular file of at most `largest_file` bytes: a device
/// (/dev/zero), a pipe or a file that grows while read would otherwise be read without end.
std::string read_bounded(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (error || !fs::exists(status)) throw std::invalid_argument(path + ": cannot open (no such file)");
    if (!fs::is_regular_file(status))
        throw std::invalid_argument(path + ": not a regular file (a directory, device or pipe)");
    const std::string limit = std::to_string(largest_file >> 20) + " MiB";
    if (fs::file_size(path, error) > largest_file && !error)
        throw std::invalid_argument(path + ": larger than " + limit + "; not a table of training runs");
    std::ifstream file(path, std::ios::binary);
    if (!file) throw std::invalid_argument(path + ": cannot open");
    std::string text;
    char buffer[1 << 16];
    while (file.read(buffer, sizeof buffer) || file.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(file.gcount()));
        if (text.size() > largest_file)  // it grew after the size check
            throw std::invalid_argument(path + ": larger than " + limit + "; not a table of training runs");
    }
    if (file.bad()) throw std::invalid_argument(path + ": read error");
    return text;
}

Runs read_runs(const std::string& path) {
    std::istringstream file(read_bounded(path));
    std::string line;
    if (!std::getline(file, line)) throw std::invalid_argument(path + ": empty file");
    if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 byte-order mark
    const std::vector<std::string> header = split(line);
    const std::size_t n_col = find_column(header, {"n", "modelsize", "params"});
    const std::size_t d_col = find_column(header, {"d", "tokens"});
    const std::size_t c_col = find_column(header, {"c", "trainingflop", "flops"});
    const std::size_t loss_col = find_column(header, {"loss"});
    if (n_col == std::string::npos || loss_col == std::string::npos ||
        (d_col == std::string::npos && c_col == std::string::npos))
        throw std::invalid_argument(path + ": needs columns N, loss and D or C");

    Runs runs;
    for (std::size_t row = 2; std::getline(file, line); ++row) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const std::vector<std::string> cells = split(line);
        auto cell = [&](std::size_t col) {
            const std::string where = path + ", row " + std::to_string(row) + ", column '" +
                                      (col < header.size() ? shown(header[col]) : "") + "'";
            if (col >= cells.size()) throw std::invalid_argument(where + ": missing");
            const double value = parse_number(cells[col], where);
            if (!std::isfinite(value))  // NaN would sort anywhere among the highest losses
                throw std::invalid_argument(where + ": '" + shown(cells[col]) + "' is not a finite number");
            return value;
        };
        const double n = cell(n_col);
        runs.n.push_back(n);
        runs.d.push_back(d_col != std::string::npos ? cell(d_col) : cell(c_col) / (6.0 * n));
        runs.loss.push_back(cell(loss_col));
    }
    return runs;  // values are checked by fit_chinchilla
}

/// Leaves out the `count` highest-loss runs (Epoch AI left out 5 of Hoffmann et al.'s 245); the rest
/// keep their file order. Ties are broken by file order, as numpy's stable argsort does.
Runs exclude_highest_loss(const Runs& runs, std::size_t count) {
    if (count >= runs.loss.size())
        throw std::invalid_argument("--exclude-highest-loss must be below the number of runs");
    std::vector<std::size_t> order(runs.loss.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t i, std::size_t j) { return runs.loss[i] < runs.loss[j]; });
    std::vector<bool> excluded(order.size(), false);
    for (std::size_t k = order.size() - count; k < order.size(); ++k) excluded[order[k]] = true;
    Runs kept;
    for (std::size_t i = 0; i < order.size(); ++i)
        if (!excluded[i]) {
            kept.n.push_back(runs.n[i]);
            kept.d.push_back(runs.d[i]);
            kept.loss.push_back(runs.loss[i]);
        }
    return kept;
}

/// A JSON number that reads back as the same double (17 significant digits); null if not finite.
std::string number(double value) {
    if (!std::isfinite(value)) return "null";
    std::ostringstream out;
    out.precision(std::numeric_limits<double>::max_digits10);
    out << value;
    return out.str();
}

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
    return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Arguments args = parse_arguments(argc, argv);
        const Runs runs = exclude_highest_loss(read_runs(args.path), args.exclude_highest_loss);

        scalinglaw::FitOptions options;
        options.threads = args.threads;
        const std::vector<scalinglaw::LogParams> starts = scalinglaw::default_starts();
        const scalinglaw::FitResult fit =
            scalinglaw::fit_chinchilla(runs.n, runs.d, runs.loss, starts, options);
        const scalinglaw::Params& p = fit.params;
        const scalinglaw::Allocation best = scalinglaw::compute_optimal(p, args.budget);

        std::cout << "{\n"
                  << "  \"E\": " << number(p.E) << ",\n"
                  << "  \"A\": " << number(p.A) << ",\n"
                  << "  \"B\": " << number(p.B) << ",\n"
                  << "  \"alpha\": " << number(p.alpha) << ",\n"
                  << "  \"beta\": " << number(p.beta) << ",\n"
                  << "  \"objective\": " << number(fit.objective) << ",\n"
                  << "  \"status\": " << quoted(scalinglaw::to_string(fit.status)) << ",\n"
                  << "  \"message\": " << quoted(fit.message) << ",\n"
                  << "  \"iterations\": " << fit.iterations << ",\n"
                  << "  \"best_start\": " << fit.best_start << ",\n"
                  << "  \"starts_at_best\": " << fit.starts_at_best << ",\n"
                  << "  \"n_starts\": " << starts.size() << ",\n"
                  << "  \"n_runs\": " << runs.n.size() << ",\n"
                  << "  \"excluded\": " << args.exclude_highest_loss << ",\n"
                  << "  \"delta\": " << number(options.huber_delta) << ",\n"
                  << "  \"frontier\": {\n"
                  << "    \"flops\": " << number(best.flops) << ",\n"
                  << "    \"n\": " << number(best.n) << ",\n"
                  << "    \"d\": " << number(best.d) << ",\n"
                  << "    \"tokens_per_parameter\": " << number(best.tokens_per_parameter) << ",\n"
                  << "    \"loss\": " << number(best.loss) << "\n"
                  << "  }\n"
                  << "}\n";
        return 0;
    } catch (const std::exception& error) {  // bad arguments, unreadable files, bad values
        std::cerr << "fit_csv: " << error.what() << "\n";
        return 2;
    }
}
