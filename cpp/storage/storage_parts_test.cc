// The store's building blocks: CRC-32C, the arena, the skiplist and the hash index.
// Goal: each part keeps its contract on its own, so store failures point at the store logic.
// Method: known CRC vectors and the extend identity; arena alignment and accounting over mixed
// sizes; skiplist order and seeks against a sorted std::vector of random keys; index lookups of
// every key (and of absent keys) across several growths.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "storage/arena.h"
#include "storage/hash_index.h"
#include "storage/key_hash.h"
#include "storage/skiplist.h"
#include "storage/store_test_util.h"
#include "testing/unit.h"

namespace dsql::storage {
namespace {

DSQL_TEST(Arena, AlignedAndAccounted) {
  Arena arena;
  size_t asked = 0;
  std::vector<char*> ptrs;
  for (size_t i = 1; i < 3000; i += 37) {
    char* p = arena.allocate(i);
    CHECK(reinterpret_cast<uintptr_t>(p) % Arena::kAlign == 0);
    std::fill(p, p + i, static_cast<char>(i));
    ptrs.push_back(p);
    asked += i;
  }
  char* big = arena.allocate(Arena::kMaxBlockBytes);  // its own block
  std::fill(big, big + Arena::kMaxBlockBytes, 'x');
  CHECK(arena.used_bytes() >= asked + Arena::kMaxBlockBytes);
  CHECK(arena.used_bytes() <= arena.allocated_bytes());
  // Earlier allocations were not overwritten by later ones.
  size_t i = 1;
  for (char* p : ptrs) {
    CHECK(p[0] == static_cast<char>(i) && p[i - 1] == static_cast<char>(i));
    i += 37;
  }
}

DSQL_TEST(SkipList, OrderAndSeeks) {
  Arena arena;
  SkipList list(&arena, 42);
  test::Rng rng(7);
  std::set<std::string> keys;
  for (int i = 0; i < 3000; ++i) {
    std::string k;
    const size_t len = rng.below(6);
    for (size_t j = 0; j < len; ++j) k.push_back(static_cast<char>(rng.below(4) * 80));  // incl. bytes >= 0x80
    if (keys.insert(k).second) list.insert(k);
  }
  CHECK_EQ(list.size(), keys.size());
  std::vector<std::string> sorted(keys.begin(), keys.end());
  size_t idx = 0;
  for (const KeyNode* n = list.first(); n != nullptr; n = n->next(0)) {
    REQUIRE(idx < sorted.size());
    CHECK(n->key() == sorted[idx]);
    ++idx;
  }
  CHECK_EQ(idx, sorted.size());
  for (int i = 0; i < 500; ++i) {
    std::string probe;
    const size_t len = rng.below(6);
    for (size_t j = 0; j < len; ++j) probe.push_back(static_cast<char>(rng.below(5) * 60));
    auto ge = std::lower_bound(sorted.begin(), sorted.end(), probe);
    const KeyNode* n = list.seek_ge(probe);
    if (ge == sorted.end()) {
      CHECK(n == nullptr);
    } else {
      REQUIRE(n != nullptr);
      CHECK(n->key() == *ge);
    }
    for (int level : {0, 1, 2}) {
      const KeyNode* lt = list.seek_lt(probe, false, level);
      if (lt == list.head()) {
        CHECK(ge == sorted.begin() || level > 0);
      } else {
        CHECK(lt->key() < std::string_view(probe));
        if (level == 0) CHECK(lt->key() == *(ge - 1));
      }
    }
  }
  const KeyNode* last = list.seek_lt("", true, 0);
  CHECK(last->key() == sorted.back());
}

DSQL_TEST(HashIndex, FindsEveryKeyAcrossGrowth) {
  Arena arena;
  SkipList list(&arena, 1);
  HashIndex index(0);
  std::vector<KeyNode*> nodes;
  for (int i = 0; i < 20000; ++i) {
    const std::string key = "key-" + std::to_string(i * 7919);
    KeyNode* node = list.insert(key);
    index.insert(node, hash_key(key));
    nodes.push_back(node);
  }
  CHECK_EQ(index.size(), size_t{20000});
  CHECK(index.retired_bytes() > 0);  // it grew
  for (KeyNode* node : nodes) CHECK(index.find(node->key(), hash_key(node->key())) == node);
  for (int i = 0; i < 1000; ++i) {
    const std::string absent = "nope-" + std::to_string(i);
    CHECK(index.find(absent, hash_key(absent)) == nullptr);
  }
  const size_t before = index.allocated_bytes();
  CHECK(index.free_retired(1) == 0);  // a reader inside: nothing freed
  const size_t freed = index.free_retired(0);
  CHECK(freed > 0);
  CHECK_EQ(index.allocated_bytes(), before - freed);
}

}  // namespace
}  // namespace dsql::storage
