#include "cli/table.h"

#include <gtest/gtest.h>

namespace corral::cli {
namespace {

TEST(TableTest, ColumnsAreAsWideAsTheirWidestCell) {
  Table table({{"ID", Align::kRight}, {"NAME"}, {"STAT"}});
  table.add_row({"7", "web", "runn"});
  table.add_row({"12", "database-1", "poff"});
  EXPECT_EQ(table.render(),
            "ID NAME       STAT\n"
            " 7 web        runn\n"
            "12 database-1 poff\n");
}

TEST(TableTest, NoLineEndsInSpaces) {
  Table table({{"NAME"}, {"HOST"}});
  table.add_row({"a", ""});
  for (const char* line : {"NAME HOST\n", "a\n"}) {
    EXPECT_NE(table.render().find(line), std::string::npos) << line;
  }
}

TEST(TableTest, RightAlignedLastColumnIsPadded) {
  Table table({{"NAME"}, {"VMS", Align::kRight}});
  table.add_row({"h1", "12345"});
  EXPECT_EQ(table.render(), "NAME   VMS\nh1   12345\n");
}

TEST(TableTest, ShortRowsArePaddedAndLongRowsCut) {
  Table table({{"A"}, {"B"}});
  table.add_row({"x"});
  table.add_row({"1", "2", "3"});
  EXPECT_EQ(table.rows(), 2U);
  EXPECT_EQ(table.render(), "A B\nx\n1 2\n");
}

TEST(TableTest, WidthCountsCodePointsNotBytes) {
  EXPECT_EQ(display_width("héllo"), 5U);
  EXPECT_EQ(pad("é", 3), "é  ");
  EXPECT_EQ(pad("ab", 4, Align::kRight), "  ab");
  EXPECT_EQ(pad("toolong", 3), "toolong");
}

TEST(TableTest, HeaderOnlyWhenEmpty) {
  Table table({{"ID", Align::kRight}, {"NAME"}});
  EXPECT_EQ(table.render(), "ID NAME\n");
}

}  // namespace
}  // namespace corral::cli
