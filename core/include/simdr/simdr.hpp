// simdr/simdr.hpp - umbrella header of SIMD R Drive: include this one.
//
//   auto opened = simdr::store::open("cache.simdr", {.create = true});
//   if (!opened) return report(opened.error());        // printable with simdr::to_string()
//   simdr::store db = std::move(*opened);
//   if (db.put("key", "value") != simdr::errc::ok) ...
//   auto found = db.get("key");   // result<blob_view>; errc::not_found is an outcome
#pragma once

#include "simdr/bytes.hpp"
#include "simdr/error.hpp"
#include "simdr/kernels.hpp"
#include "simdr/options.hpp"
#include "simdr/result.hpp"
#include "simdr/store.hpp"
#include "simdr/version.hpp"
#include "simdr/view.hpp"
