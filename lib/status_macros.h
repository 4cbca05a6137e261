// The project's one pair of status macros (Abseil 20220623 has no RETURN_IF_ERROR).
//
//   LK_RETURN_IF_ERROR(expr);            // returns the status if expr is not OK
//   LK_ASSIGN_OR_RETURN(auto x, expr);   // x = *expr, or returns expr.status()
//
// Header only; no state; safe from any thread.
#ifndef LABKUBE_LIB_STATUS_MACROS_H_
#define LABKUBE_LIB_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define LK_STATUS_CONCAT_INNER_(a, b) a##b
#define LK_STATUS_CONCAT_(a, b) LK_STATUS_CONCAT_INNER_(a, b)

#define LK_RETURN_IF_ERROR(expr)                    \
  do {                                              \
    ::absl::Status lk_status_ = (expr);             \
    if (!lk_status_.ok()) return lk_status_;        \
  } while (false)

#define LK_ASSIGN_OR_RETURN(lhs, expr) \
  LK_ASSIGN_OR_RETURN_IMPL_(LK_STATUS_CONCAT_(lk_statusor_, __LINE__), lhs, expr)

#define LK_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return std::move(tmp).status();  \
  lhs = std::move(tmp).value()

#endif  // LABKUBE_LIB_STATUS_MACROS_H_
