// Checkpoints: a consistent image of a store as of a timestamp, in one file.
//
// write_checkpoint() writes every row visible in a ReadView (the newest version at or before
// its ts that is not a tombstone, with that version's commit timestamp) in key order, to a
// temporary file beside the target, fsyncs it, renames it over the target and fsyncs the
// directory, so the target is either the old file or the complete new one. read_checkpoint()
// verifies the whole file (magic, format version, checksums of the header, every block and the
// trailer, lengths, key order, counts, nothing after the trailer) while building a detached
// Generation; any failure throws CheckpointError naming the file and the byte offset, and
// nothing reaches a store. The grammar is at the top of checkpoint.cc and in
// docs/checkpoint-format.md.
//
// Thread-safety: write_checkpoint reads through a ReadView (concurrent applies are fine);
// read_checkpoint touches only its own objects.
// Invariants:
//   1. A file read_checkpoint accepts holds exactly the rows write_checkpoint wrote.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/generation.h"
#include "storage/mvcc_store.h"

namespace dsql::storage {

inline constexpr uint32_t kCheckpointFormatVersion = 1;

struct LoadedCheckpoint {
  std::unique_ptr<Generation> generation;  // horizon = info.ts
  CheckpointInfo info;
};

// REQUIRES: the directory of `path` exists. Throws CheckpointError on I/O failure.
CheckpointInfo write_checkpoint(const ReadView& view, const std::string& path);
// Throws CheckpointError for an unreadable, corrupt, truncated or unsupported file.
LoadedCheckpoint read_checkpoint(const std::string& path, uint64_t seed);

}  // namespace dsql::storage
