// fault_storage.cpp - see fault_storage.hpp.
#include "crash/fault_storage.hpp"

#include "store_impl.hpp"

namespace simdr::test {

fault_storage::fault_storage(std::shared_ptr<fault_disk> disk, fault_plan plan, bool writable)
    : disk_(std::move(disk)), plan_(plan), writable_(writable),
      mem_(memory_storage::from_bytes(disk_->bytes, true)) {}

void fault_storage::save() noexcept {
  const auto img = mem_->image();
  disk_->bytes.assign(img.begin(), img.end());
}

status fault_storage::append(std::span<const std::span<const std::byte>> parts) noexcept {
  if (!writable_) return errc::read_only;
  const auto n = static_cast<std::int64_t>(appends++);
  if (n == plan_.fail_append_at) {
    // Write a prefix of the bytes to the "disk" (not to the image: size() stays put, exactly
    // like a failed write(2) whose partial bytes sit past the committed end).
    std::uint64_t left = plan_.torn_bytes;
    const auto img = mem_->image();
    std::vector<std::byte> disk(img.begin(), img.end());
    for (const auto& p : parts) {
      const std::size_t take = p.size() < left ? p.size() : static_cast<std::size_t>(left);
      disk.insert(disk.end(), p.begin(), p.begin() + static_cast<std::ptrdiff_t>(take));
      left -= take;
    }
    disk_->bytes = std::move(disk);
    return plan_.code;
  }
  status st = mem_->append(parts);
  if (st.is_ok()) save();
  return st;
}

status fault_storage::write_at(std::uint64_t offset, std::span<const std::byte> bytes) noexcept {
  status st = mem_->write_at(offset, bytes);
  if (st.is_ok()) save();
  return st;
}

status fault_storage::sync() noexcept {
  const auto n = static_cast<std::int64_t>(syncs++);
  if (n == plan_.fail_sync_at) return {errc::io, 5};
  return errc::ok;
}

status fault_storage::truncate(std::uint64_t new_size) noexcept {
  if (plan_.fail_truncate) return {errc::io, 5};
  if (new_size > mem_->size()) return errc::invalid_argument;
  status st = mem_->truncate(new_size);
  if (st.is_ok()) save();
  return st;
}

result<store> open_faulty(std::shared_ptr<fault_disk> disk, fault_plan plan,
                          const open_options& o) {
  auto s = std::make_unique<fault_storage>(std::move(disk), plan, !o.read_only);
  return detail::open_store(std::move(s), o);
}

}  // namespace simdr::test
