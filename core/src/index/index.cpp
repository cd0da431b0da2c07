// index.cpp - allocation of index tables (index.hpp holds the probe logic, inlined into the
// store's hot paths). Tables are allocated with the nothrow operator new so an exhausted heap
// is reported as errc::no_memory instead of terminating (the core builds without exceptions).
#include "index/index.hpp"

namespace simdr::detail {

table* table::create(std::uint64_t slots, const table_memory* mem) noexcept {
  std::uint64_t buckets = (slots + bucket_slots - 1) / bucket_slots;
  if (buckets < 2) buckets = 2;
  if (buckets > (std::uint64_t{1} << 32) - 1) return nullptr;  // home() uses 32-bit fastrange
  if (buckets > SIZE_MAX / sizeof(bucket)) return nullptr;
  auto* t = new (std::nothrow) table;
  if (t == nullptr) return nullptr;
  const auto bytes = static_cast<std::size_t>(buckets) * sizeof(bucket);
  void* m = mem != nullptr ? mem->allocate(bytes)
                           : ::operator new(bytes, std::align_val_t{alignof(bucket)}, std::nothrow);
  if (m == nullptr) {
    delete t;
    return nullptr;
  }
  // Value-initialised atomics are 0: every slot starts empty. (Compiles to a memset.)
  auto* b = static_cast<bucket*>(m);
  for (std::uint64_t i = 0; i < buckets; ++i) ::new (static_cast<void*>(b + i)) bucket{};
  t->buckets = b;
  t->bucket_count = buckets;
  t->memory = mem;
  return t;
}

void table::destroy(table* t) noexcept {
  if (t == nullptr) return;
  if (t->memory != nullptr)
    t->memory->release(t->buckets, static_cast<std::size_t>(t->bucket_count) * sizeof(bucket));
  else
    ::operator delete(t->buckets, std::align_val_t{alignof(bucket)});
  delete t;
}

}  // namespace simdr::detail
