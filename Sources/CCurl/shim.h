// The governor's view of libcurl (Debian: libcurl4-openssl-dev).
//
// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call;
// each wrapper below fixes the argument type for one kind of option.
#ifndef GOVERNOR_CCURL_SHIM_H
#define GOVERNOR_CCURL_SHIM_H

#include <curl/curl.h>

static inline CURLcode governor_curl_setopt_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode governor_curl_setopt_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode governor_curl_setopt_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}

/// CURLOPT_READFUNCTION: libcurl pulls the message body through this callback.
static inline CURLcode governor_curl_setopt_read_function(CURL *curl, size_t (*function)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(curl, CURLOPT_READFUNCTION, function);
}

/// CURLOPT_WRITEFUNCTION: libcurl hands an answer's body to this callback.
static inline CURLcode governor_curl_setopt_write_function(CURL *curl, size_t (*function)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, function);
}

static inline CURLcode governor_curl_getinfo_long(CURL *curl, CURLINFO info, long *value) {
    return curl_easy_getinfo(curl, info, value);
}

#endif
