// Errors the multi-version store reports for data and timing problems.
//
// API misuse (a commit at or below the watermark, a bad argument) is std::invalid_argument;
// these classes are for conditions a correct caller can still meet, and the Python binding maps
// each onto its own exception class.
//
// Thread-safety: plain value types.
// Invariants:
//   1. what() names the condition and the figures that show it (timestamps, file, offset).
#pragma once

#include <stdexcept>
#include <string>

namespace dsql::storage {

class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A read waited for the watermark to reach its timestamp and gave up.
class WatermarkTimeout : public StorageError {
 public:
  using StorageError::StorageError;
};

// A read below the GC horizon: the versions it needs may have been dropped.
class SnapshotTooOld : public StorageError {
 public:
  using StorageError::StorageError;
};

// A checkpoint file that cannot be written, or is corrupt, truncated or of another version.
class CheckpointError : public StorageError {
 public:
  using StorageError::StorageError;
};

}  // namespace dsql::storage
