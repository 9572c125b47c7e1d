// Table: plain-text columns, as `onevm list` prints them. Pure.
//
// Contract: each column is as wide as its widest cell (header included, counted in UTF-8
// code points); columns are separated by one space; a right-aligned column pads on the
// left; the last column is never padded on the right, so no line ends in spaces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corral::cli {

enum class Align : std::uint8_t { kLeft, kRight };

struct Column {
  std::string header;
  Align align = Align::kLeft;
};

class Table {
 public:
  explicit Table(std::vector<Column> columns);

  // A row with fewer cells than columns is padded with empty cells; extra cells are dropped.
  void add_row(std::vector<std::string> cells);

  std::size_t rows() const { return rows_.size(); }

  // Every line ends with '\n'; the header line comes first.
  std::string render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// The number of UTF-8 code points in `text` (what a terminal shows, for Latin text).
std::size_t display_width(std::string_view text);

// `text` padded with spaces to `width` code points, on the right or on the left.
std::string pad(std::string_view text, std::size_t width, Align align = Align::kLeft);

}  // namespace corral::cli
