// Typed, non-variadic wrappers over libcurl's variadic calls, which Swift cannot call directly.
// One wrapper per argument type; all logic stays in Swift.
#ifndef HERALD_CCURL_SHIM_H
#define HERALD_CCURL_SHIM_H
#include <curl/curl.h>
#include <sys/types.h>
#include <sys/eventfd.h>

typedef size_t (*herald_data_callback)(char *buffer, size_t size, size_t count, void *userdata);

static inline CURLcode herald_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode herald_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode herald_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode herald_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode herald_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode herald_easy_setopt_callback(CURL *handle, CURLoption option, herald_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode herald_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode herald_easy_getinfo_pointer(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLMcode herald_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

typedef int (*herald_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *userdata);

static inline CURLcode herald_easy_setopt_debug(CURL *handle, herald_debug_callback value) {
    return curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, value);
}

static inline CURLcode herald_easy_getinfo_socket(CURL *handle, CURLINFO info, curl_socket_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// A non-blocking, close-on-exec eventfd: how another thread wakes a thread that sleeps in poll(2).
static inline int herald_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// The easy handle and result of a finished transfer from a CURLMsg (its `data` is a union).
static inline CURL *herald_msg_easy(CURLMsg *msg) { return msg->easy_handle; }
static inline CURLMSG herald_msg_kind(CURLMsg *msg) { return msg->msg; }
static inline CURLcode herald_msg_result(CURLMsg *msg) { return msg->data.result; }

#endif
