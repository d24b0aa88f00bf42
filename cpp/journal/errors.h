// Exceptions the journal throws.
//
// JournalError: the journal cannot do what was asked (I/O failure, directory in use, closed,
// a sticky failure after a write or fdatasync error). JournalCorruption: bytes that should be a
// valid durable record are not (found by a reader; recovery on open truncates instead of
// throwing). Messages say what, which file and which offset.
//
// Thread-safety: plain value types.
#pragma once

#include <stdexcept>
#include <string>

namespace dsql::journal {

class JournalError : public std::runtime_error {
 public:
  explicit JournalError(const std::string& what) : std::runtime_error(what) {}
};

class JournalCorruption : public JournalError {
 public:
  explicit JournalCorruption(const std::string& what) : JournalError(what) {}
};

}  // namespace dsql::journal
