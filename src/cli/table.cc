#include "cli/table.h"

#include <algorithm>
#include <utility>

namespace corral::cli {

std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;  // not a continuation byte
  }));
}

std::string pad(std::string_view text, std::size_t width, Align align) {
  const std::size_t shown = display_width(text);
  const std::string fill(shown < width ? width - shown : 0, ' ');
  switch (align) {
    case Align::kLeft:
      return std::string(text) + fill;
    case Align::kRight:
      return fill + std::string(text);
  }
  return std::string(text);
}

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<std::size_t> widths(columns_.size(), 0);
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    widths[c] = display_width(columns_[c].header);
    for (const std::vector<std::string>& row : rows_) {
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  }
  std::string out;
  const auto line = [&](const auto& cell_of) {
    std::string text;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const bool last = c + 1 == columns_.size();
      if (c > 0) text += ' ';
      const std::string_view cell = cell_of(c);
      if (last && columns_[c].align == Align::kLeft) {
        text += cell;
      } else {
        text += pad(cell, widths[c], columns_[c].align);
      }
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  };
  line([&](std::size_t c) -> std::string_view { return columns_[c].header; });
  for (const std::vector<std::string>& row : rows_) {
    line([&](std::size_t c) -> std::string_view { return row[c]; });
  }
  return out;
}

}  // namespace corral::cli
