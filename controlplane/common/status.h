// Status: how control-plane modules report failure across their interfaces (exceptions from
// libraries are caught at the module boundary and become a Status).
#pragma once

#include <string>
#include <utility>

namespace cg::cp {

enum class Code { kOk, kInvalid, kNotFound, kConflict, kUnavailable, kPermission, kInternal };

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }
  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status invalid(std::string m) { return {Code::kInvalid, std::move(m)}; }
inline Status not_found(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
inline Status unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status internal(std::string m) { return {Code::kInternal, std::move(m)}; }

}  // namespace cg::cp
