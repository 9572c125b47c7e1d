#include "common/heap_optional.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace corral {
namespace {

TEST(HeapOptional, IsOnePointerWhereOptionalHoldsTheValue) {
  struct Big {
    char bytes[256];
  };
  EXPECT_EQ(sizeof(HeapOptional<Big>), sizeof(void*));
  EXPECT_GT(sizeof(std::optional<Big>), sizeof(Big));
}

TEST(HeapOptional, BehavesAsOptional) {
  HeapOptional<std::string> empty;
  EXPECT_FALSE(empty.has_value());
  EXPECT_FALSE(empty);
  EXPECT_TRUE(empty == std::nullopt);
  EXPECT_EQ(empty.value_or("fallback"), "fallback");
  EXPECT_THROW((void)empty.value(), std::bad_optional_access);
  EXPECT_EQ(empty.to_optional(), std::nullopt);

  HeapOptional<std::string> set = std::string("disk-1");
  ASSERT_TRUE(set);
  EXPECT_EQ(*set, "disk-1");
  EXPECT_EQ(set->size(), 6U);
  EXPECT_TRUE(set == std::string("disk-1"));
  EXPECT_FALSE(set == std::string("disk-2"));
  EXPECT_FALSE(empty == std::string("disk-1"));
  EXPECT_EQ(set.to_optional(), std::optional<std::string>("disk-1"));

  set = std::nullopt;
  EXPECT_FALSE(set);
  set.emplace("again");
  EXPECT_EQ(set.value(), "again");
  set.reset();
  EXPECT_TRUE(set == empty);
}

TEST(HeapOptional, CopiesAreDeepAndMovesTakeTheValue) {
  HeapOptional<std::string> a = std::string("a");
  HeapOptional<std::string> b = a;
  *b = "b";
  EXPECT_EQ(*a, "a");  // the copy has its own value
  EXPECT_FALSE(a == b);
  b = a;
  EXPECT_TRUE(a == b);
  HeapOptional<std::string> c = std::move(a);
  EXPECT_EQ(*c, "a");
  HeapOptional<std::string> none;
  c = none;  // copying an empty one empties
  EXPECT_FALSE(c);
  HeapOptional<std::string> from_optional = std::optional<std::string>("x");
  EXPECT_EQ(*from_optional, "x");
  HeapOptional<std::string> from_empty_optional = std::optional<std::string>();
  EXPECT_FALSE(from_empty_optional);
}

}  // namespace
}  // namespace corral
