// fault_storage.hpp - a storage that injects failures, for crash and bad-disk tests.
//
// Wraps memory_storage. Every append/write_at/sync/truncate is numbered; a plan says which call
// fails and how: an error before anything is written, or a TORN append that writes only a
// prefix of its bytes before failing (what a full disk or a crash mid-write leaves). The bytes
// "on disk" are the wrapped image, inspectable and reopenable after the handle is gone.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "memory_storage.hpp"
#include "simdr/simdr.hpp"

namespace simdr::test {

struct fault_plan {
  std::int64_t fail_append_at = -1;  ///< 0-based index of the append that fails, -1: never
  std::uint64_t torn_bytes = 0;      ///< bytes of the failing append written before it fails
  std::int64_t fail_sync_at = -1;    ///< index of the sync that fails
  bool fail_truncate = false;        ///< every truncate fails
  errc code = errc::no_space;        ///< the error the failing call reports
};

/// Shared "disk": survives the store handle so a test can reopen what was written.
struct fault_disk {
  std::vector<std::byte> bytes;
};

class fault_storage final : public storage {
 public:
  fault_storage(std::shared_ptr<fault_disk> disk, fault_plan plan, bool writable = true);

  std::span<const std::byte> image() const noexcept override { return mem_->image(); }
  std::uint64_t size() const noexcept override { return mem_->size(); }
  bool is_writable() const noexcept override { return writable_; }
  status append(std::span<const std::span<const std::byte>> parts) noexcept override;
  status write_at(std::uint64_t offset, std::span<const std::byte> bytes) noexcept override;
  status sync() noexcept override;
  status truncate(std::uint64_t new_size) noexcept override;

  std::uint64_t appends = 0;
  std::uint64_t syncs = 0;

 private:
  void save() noexcept;
  std::shared_ptr<fault_disk> disk_;
  fault_plan plan_;
  bool writable_;
  std::unique_ptr<memory_storage> mem_;
};

/// Opens a store over a fault_storage on `disk`.
result<store> open_faulty(std::shared_ptr<fault_disk> disk, fault_plan plan,
                          const open_options& o = {.create = true});

}  // namespace simdr::test
