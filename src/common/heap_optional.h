// HeapOptional<T>: std::optional's interface with the value on the heap, for large members
// that are rarely set in objects kept by the hundred thousand (a VM's operation parameters:
// the NIC of a nic_attach, the endpoint of a live migration). Empty it costs one pointer
// where std::optional<T> costs sizeof(T) + 1; set, one allocation.
// Contract: a value type like std::optional — copies copy the value, moves move the pointer,
// comparison compares values (empty equals empty), and *x on an empty one is undefined, as
// for std::optional. Not thread-safe beyond what a std::optional is.
#pragma once

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace corral {

template <typename T>
class HeapOptional {
 public:
  HeapOptional() = default;
  HeapOptional(std::nullopt_t) {}  // NOLINT(google-explicit-constructor): as std::optional
  HeapOptional(T value)            // NOLINT(google-explicit-constructor): as std::optional
      : value_(std::make_unique<T>(std::move(value))) {}
  HeapOptional(const std::optional<T>& value) {  // NOLINT(google-explicit-constructor)
    if (value) value_ = std::make_unique<T>(*value);
  }
  HeapOptional(const HeapOptional& other)
      : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  HeapOptional(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(const HeapOptional& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  HeapOptional& operator=(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(std::nullopt_t) {
    value_.reset();
    return *this;
  }
  HeapOptional& operator=(T value) {
    if (value_) {
      *value_ = std::move(value);
    } else {
      value_ = std::make_unique<T>(std::move(value));
    }
    return *this;
  }
  ~HeapOptional() = default;

  [[nodiscard]] bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return value_ != nullptr; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }
  T& value() {
    if (!value_) throw std::bad_optional_access();
    return *value_;
  }
  const T& value() const {
    if (!value_) throw std::bad_optional_access();
    return *value_;
  }
  template <typename U>
  T value_or(U&& fallback) const {
    return value_ ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }
  template <typename... Args>
  T& emplace(Args&&... args) {
    value_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *value_;
  }
  void reset() { value_.reset(); }
  // As std::optional: a copy of the value, or nullopt.
  [[nodiscard]] std::optional<T> to_optional() const {
    return value_ ? std::optional<T>(*value_) : std::nullopt;
  }

  friend bool operator==(const HeapOptional& a, const HeapOptional& b) {
    if (!a.value_ || !b.value_) return !a.value_ && !b.value_;
    return *a.value_ == *b.value_;
  }
  friend bool operator==(const HeapOptional& a, std::nullopt_t) { return !a.value_; }
  // As std::optional's: set and equal to `b`.
  template <typename U>
  requires(!std::is_same_v<U, HeapOptional> && !std::is_same_v<U, std::nullopt_t>) friend bool
  operator==(const HeapOptional& a, const U& b) {
    return a.value_ && *a.value_ == b;
  }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace corral
