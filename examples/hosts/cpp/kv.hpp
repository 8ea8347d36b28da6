// A C++ face for libhostkv: errors as exceptions, stores as RAII objects.
//
//   kv::check(kv_init());
//   kv::Store store;                 // kv_store_new(); kv_store_free() when it goes
//   store.add("hits", 1);            // throws kv::Error with kv_last_error()'s text
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "hostkv.h"

namespace kv {

// A failed call: the message is the calling thread's kv_last_error(), copied at once.
class Error : public std::runtime_error {
  public:
    Error() : std::runtime_error(last_error()) {}

    static std::string last_error() {
        const char *message = kv_last_error();
        return message != nullptr ? message : "(no error message)";
    }
};

// Throws kv::Error if `result` is the error value `failed`; returns it otherwise.
template <typename T>
T check(T result, T failed = -1) {
    if (result == failed) throw Error();
    return result;
}

// A store owned by this object: freed when it is destroyed (errors ignored there: after
// kv_shutdown the library has freed it already). Move-only, like std::unique_ptr.
class Store {
  public:
    Store() : handle_(kv_store_new()) {
        if (handle_ == 0) throw Error();
    }
    // Takes ownership of a handle from kv_store_new().
    explicit Store(uint64_t handle) noexcept : handle_(handle) {}
    Store(Store &&other) noexcept : handle_(std::exchange(other.handle_, 0)) {}
    Store &operator=(Store &&other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, 0);
        }
        return *this;
    }
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;
    ~Store() { reset(); }

    int64_t add(const std::string &key, int64_t delta) const {
        return check(kv_add(handle_, key.c_str(), delta), KV_ERROR);
    }
    int64_t get(const std::string &key) const { return check(kv_get(handle_, key.c_str()), KV_ERROR); }
    int64_t size() const { return check(kv_len(handle_), int64_t{-1}); }

    // The raw handle, as C sees it (for passing on, or for tests).
    uint64_t handle() const { return handle_; }

    // Frees the store now; a second free is a no-op.
    void reset() noexcept {
        if (handle_ != 0) (void)kv_store_free(std::exchange(handle_, 0));
    }

  private:
    uint64_t handle_;
};

}  // namespace kv
