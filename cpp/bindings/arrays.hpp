#pragma once
// Conversions between numpy arrays and the core's types, for the binding: checked C-contiguous views of
// the caller's arrays (no copy when dtype and layout already fit); new arrays from vectors, a vector of
// structs becoming a table with one row per struct; read-only properties for a struct's fields; grids
// written into `out`. Shape errors throw std::invalid_argument, which arrives in Python as ValueError.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "interruptible.hpp"
#include "scalinglaw/scalinglaw.hpp"

namespace scalinglaw::bindings {

namespace py = pybind11;

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IndexArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<int, py::array::c_style | py::array::forcecast>;

// The columns of a struct's table, in the order the stub documents.
constexpr std::array<double LogParams::*, 5> columns(const LogParams*) {
    return {&LogParams::a, &LogParams::b, &LogParams::e, &LogParams::alpha, &LogParams::beta};
}
constexpr std::array<double Params::*, 5> columns(const Params*) {
    return {&Params::E, &Params::A, &Params::B, &Params::alpha, &Params::beta};
}
constexpr std::array<double FrontierCoefficients::*, 3> columns(const FrontierCoefficients*) {
    return {&FrontierCoefficients::a, &FrontierCoefficients::b, &FrontierCoefficients::G};
}
constexpr std::array<double Allocation::*, 5> columns(const Allocation*) {
    return {&Allocation::flops, &Allocation::n, &Allocation::d, &Allocation::loss,
            &Allocation::tokens_per_parameter};
}

// A new array of `count` values field(i).
template <class T, class Field>
py::array_t<T> column(std::size_t count, Field&& field) {
    py::array_t<T> out(static_cast<py::ssize_t>(count));
    T* data = out.mutable_data();
    for (std::size_t i = 0; i < count; ++i) data[i] = static_cast<T>(field(i));
    return out;
}

// Structs as rows: a (count, K) array whose row i holds the columns of item(i).
template <class S, class Item>
py::array_t<double> table(std::size_t count, Item&& item) {
    constexpr auto fields = columns(static_cast<const S*>(nullptr));
    py::array_t<double> out({static_cast<py::ssize_t>(count), static_cast<py::ssize_t>(fields.size())});
    double* data = out.mutable_data();
    for (std::size_t i = 0; i < count; ++i) {
        const S& s = item(i);
        for (double S::* field : fields) *data++ = s.*field;
    }
    return out;
}

// A vector as a new array: numbers as themselves (sizes as int64, enums as int), structs as a table.
template <class T>
py::array as_array(const std::vector<T>& values) {
    if constexpr (std::is_enum_v<T>) {
        return column<int>(values.size(), [&](std::size_t i) { return values[i]; });
    } else if constexpr (std::is_same_v<T, std::size_t>) {
        return column<std::int64_t>(values.size(), [&](std::size_t i) { return values[i]; });
    } else if constexpr (std::is_arithmetic_v<T>) {
        return column<T>(values.size(), [&](std::size_t i) { return values[i]; });
    } else {
        return table<T>(values.size(), [&](std::size_t i) -> const T& { return values[i]; });
    }
}

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

// Binds each (name, member) pair as a read-only property: the member itself, or a vector as_array.
template <class Class>
Class& readonly(Class& bound) {
    return bound;
}
template <class Class, class T, class M, class... Rest>
Class& readonly(Class& bound, const char* name, M T::* member, Rest... rest) {
    if constexpr (is_vector<M>::value) {
        bound.def_property_readonly(name, [member](const T& t) { return as_array(t.*member); });
    } else {
        bound.def_readonly(name, member);
    }
    return readonly(bound, rest...);
}

inline RunsView runs_view(const DoubleArray& n, const DoubleArray& d, const DoubleArray& loss) {
    if (n.ndim() != 1 || d.ndim() != 1 || loss.ndim() != 1)
        throw std::invalid_argument("N, D and loss must be 1-D arrays");
    if (n.size() != d.size() || n.size() != loss.size())
        throw std::invalid_argument("N, D and loss must have the same length");
    return {n.data(), d.data(), loss.data(), static_cast<std::size_t>(n.size())};
}

inline std::vector<LogParams> starts_from(const DoubleArray& starts) {
    if (starts.ndim() != 2 || starts.shape(1) != 5)
        throw std::invalid_argument("starts must be a 2-D array with 5 columns (a, b, e, alpha, beta)");
    std::vector<LogParams> out(static_cast<std::size_t>(starts.shape(0)));
    const double* s = starts.data();
    for (std::size_t i = 0; i < out.size(); ++i, s += 5) out[i] = {s[0], s[1], s[2], s[3], s[4]};
    return out;
}

template <class T>
std::vector<T> as_vector(const py::array_t<T, py::array::c_style | py::array::forcecast>& values,
                         const char* name) {
    if (values.ndim() != 1) throw std::invalid_argument(std::string(name) + " must be a 1-D array");
    return {values.data(), values.data() + values.size()};
}

// Fills `out` (C-contiguous, writeable, float64 or float32, shape (len(rows), len(columns))) with
// grid(pointer, cancel) for the pointer type of its dtype; returns `out`.
template <class Grid>
py::array write_grid(const DoubleArray& rows, const DoubleArray& columns, py::array out, Grid&& grid) {
    if (rows.ndim() != 1 || columns.ndim() != 1) throw std::invalid_argument("the axes must be 1-D");
    if (out.ndim() != 2 || out.shape(0) != rows.size() || out.shape(1) != columns.size())
        throw std::invalid_argument("out must have shape (len(rows axis), len(columns axis))");
    if (!(out.flags() & py::array::c_style)) throw std::invalid_argument("out must be C-contiguous");
    if (!out.writeable()) throw std::invalid_argument("out must be writeable");
    const auto cells = static_cast<std::size_t>(out.size());
    if (py::isinstance<py::array_t<double>>(out)) {
        double* data = static_cast<double*>(out.mutable_data());
        run_released(cells, [&](const std::atomic<bool>* cancel) { grid(data, cancel); });
    } else if (py::isinstance<py::array_t<float>>(out)) {
        float* data = static_cast<float*>(out.mutable_data());
        run_released(cells, [&](const std::atomic<bool>* cancel) { grid(data, cancel); });
    } else {
        throw std::invalid_argument("out must have dtype float64 or float32");
    }
    return out;
}

}  // namespace scalinglaw::bindings
