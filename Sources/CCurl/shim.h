// Typed, non-variadic wrappers over libcurl's variadic calls, which Swift cannot call directly.
#ifndef HERALD_CCURL_SHIM_H
#define HERALD_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode herald_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
#endif
