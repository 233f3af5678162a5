// Status and Result<T> for the snmp/ library: errors are values, never exceptions.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace cg::snmp {

enum class ErrorCode {
  kOk,
  kInvalidArgument,  // bad address, unknown protocol name, ... (a usage error)
  kTimeout,          // no answer after all retries: unreachable, filtered or wrong community
  kAuthFailed,       // SNMPv3: unknown user, wrong digest, decryption error, not in time window
  kAgentError,       // the agent answered with an error-status (noSuchName, genErr, ...)
  kProtocol,         // the agent answered nonsense (non-increasing OIDs during a walk, ...)
  kInternal,         // net-snmp refused (socket, session open)
};

const char* error_code_name(ErrorCode code);

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok_status() { return {}; }
  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or a Status (an expected-like type; std::expected is C++23).
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  Status status() const { return ok() ? Status{} : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cg::snmp
