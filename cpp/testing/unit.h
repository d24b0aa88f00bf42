// A minimal unit-test framework for the C++ kernels.
//
// Tests register themselves at static-initialisation time with DSQL_TEST(suite, name) and are
// run by unit_main.cc, which prints one line per failure and closes with the plain summary line
// "N passed, N failed" that CI reads. CHECK* record a failure and continue; REQUIRE* stop the
// current test.
//
// Thread-safety: the registry is filled before main() and read only by the runner thread.
// CHECK* may be called from helper threads inside a test; failures are counted atomically.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace dsql::testing {

struct TestCase {
  const char* suite;
  const char* name;
  std::function<void()> body;
};

std::vector<TestCase>& registry();
// Number of CHECK failures in the running test.
std::atomic<int64_t>& failures_in_current_test();

struct Registrar {
  Registrar(const char* suite, const char* name, std::function<void()> body) {
    registry().push_back(TestCase{suite, name, std::move(body)});
  }
};

// Thrown by REQUIRE* to leave the current test.
struct RequireFailed {};

void report_failure(const char* file, int line, const std::string& what);

template <typename A, typename B>
std::string describe_pair(const char* expr_a, const char* expr_b, const A& a, const B& b) {
  std::ostringstream out;
  out << expr_a << " == " << expr_b << " (" << a << " vs " << b << ")";
  return out.str();
}

}  // namespace dsql::testing

#define DSQL_CONCAT_INNER(a, b) a##b
#define DSQL_CONCAT(a, b) DSQL_CONCAT_INNER(a, b)

#define DSQL_TEST(suite, name)                                                   \
  static void DSQL_CONCAT(dsql_test_, DSQL_CONCAT(suite, name))();               \
  static ::dsql::testing::Registrar DSQL_CONCAT(dsql_reg_, DSQL_CONCAT(suite, name))( \
      #suite, #name, &DSQL_CONCAT(dsql_test_, DSQL_CONCAT(suite, name)));       \
  static void DSQL_CONCAT(dsql_test_, DSQL_CONCAT(suite, name))()

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) ::dsql::testing::report_failure(__FILE__, __LINE__, #cond); \
  } while (0)

#define CHECK_EQ(a, b)                                                              \
  do {                                                                              \
    const auto& dsql_a_ = (a);                                                      \
    const auto& dsql_b_ = (b);                                                      \
    if (!(dsql_a_ == dsql_b_))                                                      \
      ::dsql::testing::report_failure(                                              \
          __FILE__, __LINE__, ::dsql::testing::describe_pair(#a, #b, dsql_a_, dsql_b_)); \
  } while (0)

#define REQUIRE(cond)                                                       \
  do {                                                                      \
    if (!(cond)) {                                                          \
      ::dsql::testing::report_failure(__FILE__, __LINE__, #cond);           \
      throw ::dsql::testing::RequireFailed{};                               \
    }                                                                       \
  } while (0)
