// Runs every registered DSQL_TEST, or those whose "suite.name" contains argv[1].
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>

#include "testing/unit.h"

namespace dsql::testing {

std::vector<TestCase>& registry() {
  static std::vector<TestCase> tests;
  return tests;
}

std::atomic<int64_t>& failures_in_current_test() {
  static std::atomic<int64_t> failures{0};
  return failures;
}

void report_failure(const char* file, int line, const std::string& what) {
  static std::mutex print_mutex;
  failures_in_current_test().fetch_add(1);
  std::lock_guard<std::mutex> lock(print_mutex);
  std::fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, what.c_str());
}

}  // namespace dsql::testing

int main(int argc, char** argv) {
  using namespace dsql::testing;
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0;
  int failed = 0;
  for (const TestCase& test : registry()) {
    std::string full = std::string(test.suite) + "." + test.name;
    if (filter != nullptr && full.find(filter) == std::string::npos) continue;
    failures_in_current_test().store(0);
    bool threw = false;
    try {
      test.body();
    } catch (const RequireFailed&) {
      threw = true;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "  uncaught exception: %s\n", e.what());
      threw = true;
    }
    if (threw || failures_in_current_test().load() != 0) {
      std::printf("FAIL %s\n", full.c_str());
      ++failed;
    } else {
      std::printf("ok   %s\n", full.c_str());
      ++passed;
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  if (passed + failed == 0) {
    std::printf("no test matched\n");
    return 2;
  }
  return failed == 0 ? 0 : 1;
}
