// inspect_dump.cpp - see inspect_dump.hpp. The walk mirrors recovery (docs/format.md section 5
// and core/src/recovery/scan.hpp) but prints every step instead of building an index.
#include "inspect_dump.hpp"

#include "format/format.hpp"
#include "hash.hpp"
#include "simdr/error.hpp"

#include <cinttypes>
#include <cstdio>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

namespace simdr::tools {

namespace fmt = simdr::detail::format;

namespace {

constexpr std::size_t value_head_bytes = 32;
constexpr std::size_t tail_head_bytes = 32;
constexpr char hex_digits[] = "0123456789abcdef";

std::string u64(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%" PRIu64, v);
  return buf;
}

std::string_view algorithm_name(std::uint8_t id) {
  return id == 1 ? "xxh3_64" : "unknown";
}

bool all_zero(std::span<const std::byte> image, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t i = from; i < to && i < image.size(); ++i)
    if (image[static_cast<std::size_t>(i)] != std::byte{0}) return false;
  return true;
}

std::string flags_text(std::uint8_t flags) {
  if (flags == 0) return "-";
  if (flags == fmt::flag_commit_end) return "commit_end";
  std::string s = "0x";
  s += hex_digits[flags >> 4];
  s += hex_digits[flags & 15];
  return s;
}

std::string kind_text(std::uint8_t kind) {
  switch (kind) {
  case fmt::kind_put:
    return "put";
  case fmt::kind_tombstone:
    return "tombstone";
  case fmt::kind_pending:
    return "pending";
  default:
    break;
  }
  std::string s = "0x";
  s += hex_digits[kind >> 4];
  s += hex_digits[kind & 15];
  return s;
}

std::span<const std::byte> sub(std::span<const std::byte> image, std::uint64_t at,
                               std::uint64_t n) {
  return image.subspan(static_cast<std::size_t>(at), static_cast<std::size_t>(n));
}

/// The line of an entry that decoded (ok, truncated or pending), without the leading indent.
/// Returns whether its value verifies (puts that end within the image only; true otherwise)
/// and sets `pad_ok` to whether its padding is zero (true when not checked).
bool entry_line(std::span<const std::byte> image, const fmt::entry& e, fmt::decode_result r,
                std::string& out, bool& pad_ok) {
  const std::uint64_t size = image.size();
  const std::uint64_t key_end = e.key_offset() + e.key_size;
  bool value_ok = true;
  pad_ok = true;
  out += '@';
  out += u64(e.offset);
  out += " kind=";
  out += kind_text(e.kind);
  out += " flags=";
  out += flags_text(e.flags);
  out += " key=";
  out += escape_key(sub(image, e.key_offset(), e.key_size));
  out += " key_len=";
  out += u64(e.key_size);
  if (r == fmt::decode_result::pending) {
    out += " value_len=pending header_xxh3=";
    out += hex64(e.header_checksum);
    out += ":ok";
    out += " PENDING: an unfinished put_stream, the log ends here";
    return true;
  }
  if (e.kind == fmt::kind_put) {
    out += " value_len=";
    out += u64(e.value_size);
    out += " value_at=";
    out += u64(e.value_offset);
    out += " value_xxh3=";
    out += hex64(e.value_checksum);
    if (r == fmt::decode_result::ok) {
      value_ok = simdr::detail::xxh3(image.data() + e.value_offset,
                                     static_cast<std::size_t>(e.value_size)) == e.value_checksum;
      out += value_ok ? ":ok" : ":BAD";
    } else {
      out += ":unchecked";
    }
  }
  out += " header_xxh3=";
  out += hex64(e.header_checksum);
  out += ":ok end=";
  out += u64(e.end);
  if (r == fmt::decode_result::truncated) {
    out += " TRUNCATED: the entry runs past the end of the file (";
    out += u64(size);
    out += ')';
    return value_ok;
  }
  if (e.kind == fmt::kind_put)
    pad_ok = all_zero(image, key_end, e.value_offset) &&
             all_zero(image, e.value_offset + e.value_size, e.end);
  else
    pad_ok = all_zero(image, key_end, e.end);
  out += pad_ok ? " padding=zero" : " padding=NONZERO";
  if (e.kind == fmt::kind_put) {
    out += " value=";
    if (e.value_size == 0) {
      out += "(empty)";
    } else {
      const std::uint64_t n = e.value_size < value_head_bytes ? e.value_size : value_head_bytes;
      out += hex(sub(image, e.value_offset, n));
      if (e.value_size > n) out += "...";
    }
  }
  return value_ok;
}

/// The line of bytes at `pos` that do not decode (invalid or cut), mirroring the order of the
/// checks in format::decode_entry to name the first one that fails.
void bad_entry_line(std::span<const std::byte> image, std::uint64_t pos, fmt::decode_result r,
                    std::string& out) {
  const std::uint64_t size = image.size();
  out += '@';
  out += u64(pos);
  if (size - pos < fmt::entry_header_size) {
    out += " CUT: entry header cut by the end of the file (";
    out += u64(size - pos);
    out += " bytes left) raw=";
    out += hex(sub(image, pos, size - pos));
    return;
  }
  const std::byte* p = image.data() + pos;
  const auto kind = static_cast<std::uint8_t>(p[8]);
  const auto flags = static_cast<std::uint8_t>(p[9]);
  const std::uint16_t key_size = fmt::load16(p + 10);
  const std::uint32_t reserved = fmt::load32(p + 12);
  const std::uint64_t value_size = fmt::load64(p + 16);
  const std::uint64_t value_sum = fmt::load64(p + 24);
  const std::uint64_t stored = fmt::load64(p);
  const bool key_fits = size - pos - fmt::entry_header_size >= key_size;
  std::string_view why;
  if (kind < fmt::kind_put || kind > fmt::kind_pending)
    why = "unknown kind";
  else if ((flags & ~fmt::flag_commit_end) != 0)
    why = "unknown flag bits";
  else if (key_size == 0)
    why = "key_len 0";
  else if (reserved != 0)
    why = "reserved bytes not zero";
  else if (!key_fits)
    why = "key cut by the end of the file";
  else if (stored != fmt::entry_header_checksum(p, pos, key_size))
    why = "header checksum mismatch";
  else if (kind == fmt::kind_pending)
    why = "pending entry with flags or a length";
  else if (kind == fmt::kind_tombstone)
    why = "tombstone with a value length or checksum";
  else
    why = "value length overflows";
  out += r == fmt::decode_result::cut ? " CUT: " : " INVALID: ";
  out += why;
  out += " kind=";
  out += kind_text(kind);
  out += " flags=";
  out += flags_text(flags);
  if (key_fits && key_size != 0) {
    out += " key=";
    out += escape_key(sub(image, pos + fmt::entry_header_size, key_size));
  }
  out += " key_len=";
  out += u64(key_size);
  out += " reserved=";
  out += u64(reserved);
  out += " value_len=";
  out += u64(value_size);
  out += " value_xxh3=";
  out += hex64(value_sum);
  out += " header_xxh3=";
  out += hex64(stored);
  out += " raw=";
  out += hex(sub(image, pos, fmt::entry_header_size));
}

void header_lines(std::span<const std::byte> image, std::string& out) {
  const std::size_t n = image.size() < sizeof fmt::magic ? image.size() : sizeof fmt::magic;
  const bool magic_match = n == 0 || std::memcmp(image.data(), fmt::magic, n) == 0;
  out += "  magic: ";
  if (!magic_match || n == 0)
    out += "BAD";
  else if (n < sizeof fmt::magic)
    out += "prefix only";
  else
    out += "ok";
  out += " (";
  out += hex(image.first(n));
  out += ")\n";
  if (!magic_match || n == 0) return;
  if (image.size() < fmt::header_size) {
    out += "  header: CUT (";
    out += u64(image.size());
    out += " of 64 bytes)\n";
    return;
  }
  const std::byte* p = image.data();
  out += "  version: " + u64(fmt::load16(p + 8)) + "." + u64(fmt::load16(p + 10)) + "\n";
  out += "  header_size: " + u64(fmt::load32(p + 12)) + "\n";
  const auto log2 = static_cast<std::uint8_t>(p[16]);
  out += "  alignment_log2: " + u64(log2);
  if (log2 >= 3 && log2 <= 16)
    out += " (" + u64(std::uint64_t{1} << log2) + " bytes)";
  else
    out += " (OUT OF RANGE)";
  out += '\n';
  const auto hash_id = static_cast<std::uint8_t>(p[17]);
  const auto sum_id = static_cast<std::uint8_t>(p[18]);
  out +=
      "  key_hash_algorithm: " + u64(hash_id) + " (" + std::string(algorithm_name(hash_id)) + ")\n";
  out +=
      "  checksum_algorithm: " + u64(sum_id) + " (" + std::string(algorithm_name(sum_id)) + ")\n";
  out += "  reserved: ";
  out += all_zero(image, 19, 56) ? "zero" : "NONZERO (" + hex(image.subspan(19, 37)) + ")";
  out += '\n';
  const std::uint64_t stored = fmt::load64(p + 56);
  const std::uint64_t computed = simdr::detail::xxh3(p, 56);
  out += "  header_checksum: " + hex64(stored);
  out += stored == computed ? " ok" : " BAD (computed " + hex64(computed) + ")";
  out += '\n';
}

} // namespace

std::string hex(std::span<const std::byte> bytes) {
  std::string s;
  s.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    const auto v = static_cast<unsigned>(b);
    s += hex_digits[v >> 4];
    s += hex_digits[v & 15];
  }
  return s;
}

std::string hex64(std::uint64_t v) {
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4)
    s[static_cast<std::size_t>(i)] = hex_digits[v & 15];
  return s;
}

std::string escape_key(std::span<const std::byte> key, std::size_t limit) {
  std::string s = "\"";
  const std::size_t n = key.size() < limit ? key.size() : limit;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned>(key[i]);
    if (c == '\\' || c == '"') {
      s += '\\';
      s += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      s += static_cast<char>(c);
    } else {
      s += "\\x";
      s += hex_digits[c >> 4];
      s += hex_digits[c & 15];
    }
  }
  s += '"';
  if (key.size() > n) s += "...(" + u64(key.size()) + " bytes)";
  return s;
}

dump_stats dump(std::span<const std::byte> image, std::string& out) {
  dump_stats st;
  const std::uint64_t size = image.size();
  st.file_size = size;
  out += "simdr-inspect dump (format v1)\n";
  out += "file_size: " + u64(size) + "\n";
  out += "header:\n";
  header_lines(image, out);
  fmt::file_header h;
  // An empty file is not a store (open without `create` says bad_magic).
  const status hs = size == 0 ? status{errc::bad_magic} : fmt::decode_header(image, h);
  out += "  header_status: ";
  out += to_string(hs.code);
  out += '\n';
  // Entries are walked with the header's alignment even when the header fails for another
  // reason (checksum, version): the dump is for looking at damaged files.
  std::uint32_t alignment = 0;
  if (size >= fmt::header_size) {
    const auto log2 = static_cast<std::uint8_t>(image[16]);
    if (std::memcmp(image.data(), fmt::magic, sizeof fmt::magic) == 0 && log2 >= 3 && log2 <= 16)
      alignment = std::uint32_t{1} << log2;
  }
  if (!hs.is_ok()) st.verdict = dump_verdict::bad_header;
  if (alignment == 0) {
    out += "entries: not walked (no usable header)\n";
    out += "verdict: bad_header (";
    out += to_string(hs.code);
    out += ")\n";
    return st;
  }

  out += hs.is_ok() ? "entries:\n" : "entries (walked although the header is invalid):\n";
  std::set<std::string> live;
  std::vector<std::pair<std::uint8_t, std::string>> pending; // entries of the open commit
  std::uint64_t pending_puts = 0;
  std::uint64_t pending_bad = 0;
  std::uint64_t pending_bad_pad = 0;
  bool pad_ok = true;
  std::uint64_t pos = fmt::header_size;
  st.committed_end = pos;
  fmt::entry e;
  fmt::decode_result stop = fmt::decode_result::ok; // ok: the walk reached the end of the file
  while (pos < size) {
    const fmt::decode_result r = fmt::decode_entry(image, pos, alignment, e);
    if (r != fmt::decode_result::ok) {
      stop = r;
      out += "  ";
      if (r == fmt::decode_result::truncated || r == fmt::decode_result::pending)
        (void)entry_line(image, e, r, out, pad_ok);
      else
        bad_entry_line(image, pos, r, out);
      out += '\n';
      break;
    }
    out += "  ";
    const bool value_ok = entry_line(image, e, r, out, pad_ok);
    out += '\n';
    pending.emplace_back(
        e.kind,
        std::string(reinterpret_cast<const char*>(image.data() + e.key_offset()), e.key_size));
    pending_puts += e.kind == fmt::kind_put;
    pending_bad += value_ok ? 0 : 1;
    pending_bad_pad += pad_ok ? 0 : 1;
    pos = e.end;
    if (e.is_commit_end()) {
      for (auto& [kind, key] : pending) {
        if (kind == fmt::kind_put)
          live.insert(std::move(key));
        else
          live.erase(key);
      }
      st.entries += pending.size();
      st.puts += pending_puts;
      st.tombstones += pending.size() - pending_puts;
      st.bad_values += pending_bad;
      st.bad_padding += pending_bad_pad;
      st.commits += 1;
      st.committed_end = pos;
      out += "  commit #" + u64(st.commits) + " end=" + u64(pos) +
             " entries=" + u64(pending.size()) + "\n";
      pending.clear();
      pending_puts = 0;
      pending_bad = 0;
      pending_bad_pad = 0;
    }
  }
  if (!pending.empty())
    out += "  uncommitted: " + u64(pending.size()) +
           " entries after the last commit end (part of the tail)\n";

  // Section 5.3: past bytes that do not decode, look for entries at every 8-byte offset, as
  // recovery does (recovery/scan.cpp, damage_precedes_commits); two or more commit ends, or a
  // pending entry, mean the damage is inside committed data.
  std::uint64_t ends_after_damage = 0;
  bool pending_after_damage = false;
  if (stop == fmt::decode_result::invalid || stop == fmt::decode_result::cut) {
    out += "resync after @" + u64(pos) + " (entries at 8-byte offsets, as open looks for them):\n";
    std::uint64_t at = pos + 8;
    while (at < size) {
      const fmt::decode_result r = fmt::decode_entry(image, at, alignment, e);
      if (r == fmt::decode_result::ok) {
        out += "  ";
        (void)entry_line(image, e, r, out, pad_ok);
        out += '\n';
        if (e.is_commit_end()) ++ends_after_damage;
        at = e.end;
        continue;
      }
      if (r == fmt::decode_result::pending) {
        out += "  ";
        (void)entry_line(image, e, r, out, pad_ok);
        out += '\n';
        pending_after_damage = true;
        break;
      }
      at += 8;
    }
    out += "  commit_ends_after_damage: " + u64(ends_after_damage) + "\n";
  }

  st.tail_bytes = size - st.committed_end;
  st.live_keys = live.size();
  out += "committed_end: " + u64(st.committed_end) + "\n";
  out += "tail: " + u64(st.tail_bytes) + " bytes";
  if (st.tail_bytes != 0) {
    const std::uint64_t n = st.tail_bytes < tail_head_bytes ? st.tail_bytes : tail_head_bytes;
    out += " at " + u64(st.committed_end) + " first=" + hex(sub(image, st.committed_end, n));
    if (st.tail_bytes > n) out += "...";
  }
  out += '\n';
  // Counts cover complete commits only, as open does.
  out += "summary: entries=" + u64(st.entries) + " puts=" + u64(st.puts) +
         " tombstones=" + u64(st.tombstones) + " commits=" + u64(st.commits) +
         " live_keys=" + u64(st.live_keys) + "\n";
  out += "damage: bad_values=" + u64(st.bad_values) + " bad_padding=" + u64(st.bad_padding) + "\n";
  if (!hs.is_ok()) {
    out += "verdict: bad_header (";
    out += to_string(hs.code);
    out += ")\n";
    return st;
  }
  if (ends_after_damage >= 2 || pending_after_damage) {
    st.verdict = dump_verdict::corrupt;
    st.damage_offset = pos;
    out += "verdict: corrupt at " + u64(pos) + " (damage before committed data)\n";
  } else if (st.tail_bytes != 0) {
    st.verdict = dump_verdict::tail;
    out += "verdict: tail (" + u64(st.tail_bytes) +
           " bytes after the last commit: dropped by a read-write open)\n";
  } else {
    st.verdict = dump_verdict::clean;
    out += "verdict: clean\n";
  }
  return st;
}

} // namespace simdr::tools
